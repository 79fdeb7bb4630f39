"""The image reference parser: the Docker reference grammar, normalisation, pinning, registry patterns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fleetcheck.core.imageref import (
    ImageRef,
    ImageRefError,
    matching_pattern,
    normalize_pattern,
    parse_image_ref,
    pattern_is_concrete,
    pattern_registry,
)

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
DIGEST = "sha256:" + "0123456789abcdef" * 4

# raw -> (registry, path, tag, digest, registry named explicitly)
VALID: dict[str, tuple[str, str, str | None, str | None, bool]] = {
    "nginx": ("docker.io", "library/nginx", None, None, False),
    "nginx:1.25": ("docker.io", "library/nginx", "1.25", None, False),
    "rancher/k3s:v1.31.4-k3s1": ("docker.io", "rancher/k3s", "v1.31.4-k3s1", None, False),
    "docker.io/nginx": ("docker.io", "library/nginx", None, None, True),
    "docker.io/calico/node:v3.31.6": ("docker.io", "calico/node", "v3.31.6", None, True),
    "index.docker.io/library/nginx:1.25": ("docker.io", "library/nginx", "1.25", None, True),
    "index.docker.io/nginx": ("docker.io", "library/nginx", None, None, True),
    "registry-1.docker.io/bitnami/redis:7.2": ("docker.io", "bitnami/redis", "7.2", None, True),
    "registry-1.docker.io/redis": ("docker.io", "library/redis", None, None, True),
    "localhost/app": ("localhost", "app", None, None, True),
    "localhost:5000/team/app:v1": ("localhost:5000", "team/app", "v1", None, True),
    "127.0.0.1:5000/app": ("127.0.0.1:5000", "app", None, None, True),
    "[::1]:5000/app:v1": ("[::1]:5000", "app", "v1", None, True),
    "Registry.Example.COM/shop/web:1.4.2": ("Registry.Example.COM", "shop/web", "1.4.2", None, True),
    f"quay.io/cilium/cilium:v1.18.12@{DIGEST}": ("quay.io", "cilium/cilium", "v1.18.12", DIGEST, True),
    f"gcr.io/distroless/static@{DIGEST}": ("gcr.io", "distroless/static", None, DIGEST, True),
    "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.23.0": (
        "602401143452.dkr.ecr.us-west-2.amazonaws.com",
        "amazon-k8s-cni",
        "v1.23.0",
        None,
        True,
    ),
    "ghcr.io/ovn-org/ovn-kubernetes/ovn-kube-ubuntu:master": (
        "ghcr.io",
        "ovn-org/ovn-kubernetes/ovn-kube-ubuntu",
        "master",
        None,
        True,
    ),
    "my_registry/a__b/c-d.e:tag_1.0-x": ("docker.io", "my_registry/a__b/c-d.e", "tag_1.0-x", None, False),
    # upstream quirk, kept: an upper-case first component is taken as a registry host
    "Foo/bar": ("Foo", "bar", None, None, True),
}

INVALID = {
    "": "empty",
    " nginx": "whitespace",
    "Nginx:1.25": "must be lower case",
    "docker.io/Library/nginx": "must be lower case",
    "registry.example.com/Team/app": "must be lower case",
    "nginx:": "grammar",
    "nginx:tag:extra": "grammar",
    "nginx@sha256:abc": "grammar",
    "nginx:" + "a" * 129: "grammar",
    "-nginx": "grammar",
    "nginx/": "grammar",
    "%s.dkr.ecr.%s.%s/eks/coredns:v1.11.1-eksbuild.1": "grammar",
    "0123456789abcdef" * 4: "image ID",
    "registry.example.com/" + "a" * 250: "longer than 255",
}


@pytest.mark.parametrize("raw", sorted(VALID))
def test_parses_and_normalises(raw: str) -> None:
    registry, path, tag, digest, explicit = VALID[raw]
    ref = parse_image_ref(raw)
    assert (ref.registry, ref.path, ref.tag, ref.digest, ref.registry_explicit) == (
        registry,
        path,
        tag,
        digest,
        explicit,
    )
    # the normalised form is itself a valid reference to the same image
    again = parse_image_ref(str(ref))
    assert (again.registry, again.path, again.tag, again.digest) == (registry, path, tag, digest)


@pytest.mark.parametrize("raw", sorted(INVALID))
def test_rejects_what_the_runtime_rejects(raw: str) -> None:
    with pytest.raises(ImageRefError, match=INVALID[raw]) as info:
        parse_image_ref(raw)
    assert info.value.image == raw
    assert isinstance(info.value, ValueError)


def test_docker_hub_in_all_its_spellings() -> None:
    spellings = [
        "nginx:1.25",
        "library/nginx:1.25",
        "docker.io/nginx:1.25",
        "docker.io/library/nginx:1.25",
        "index.docker.io/library/nginx:1.25",
        "registry-1.docker.io/library/nginx:1.25",
        "Index.Docker.IO/library/nginx:1.25",
    ]
    refs = [parse_image_ref(s) for s in spellings]
    assert {str(r) for r in refs} == {"docker.io/library/nginx:1.25"}
    assert all(r.is_docker_hub for r in refs)
    assert [r.registry_explicit for r in refs] == [False, False, True, True, True, True, True]
    assert not parse_image_ref("quay.io/nginx/nginx:1.25").is_docker_hub
    assert not parse_image_ref("docker.example.com/nginx:1.25").is_docker_hub


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("nginx", "no tag (the runtime pulls :latest) and no digest"),
        ("nginx:latest", "tag :latest and no digest"),
        ("localhost:5000/app", "no tag (the runtime pulls :latest) and no digest"),
        ("nginx:1.25", None),
        ("nginx:latest@" + DIGEST, None),
        ("nginx@" + DIGEST, None),
        ("nginx:LATEST", None),  # a tag named LATEST is a different tag; tags are case-sensitive
    ],
)
def test_pinning(raw: str, problem: str | None) -> None:
    ref = parse_image_ref(raw)
    assert ref.pin_problem == problem
    assert ref.is_pinned is (problem is None)


def test_host_and_port() -> None:
    assert (parse_image_ref("localhost:5000/a").host, parse_image_ref("localhost:5000/a").port) == ("localhost", 5000)
    assert (parse_image_ref("[::1]:5000/a").host, parse_image_ref("[::1]:5000/a").port) == ("[::1]", 5000)
    assert (parse_image_ref("quay.io/a/b").host, parse_image_ref("quay.io/a/b").port) == ("quay.io", None)


@pytest.mark.parametrize(
    ("image", "patterns", "expected"),
    [
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1", ["*.dkr.ecr.eu-west-1.amazonaws.com"], 0),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1", ["*.dkr.ecr.eu-west-1.amazonaws.com"], None),
        ("registry.eu-west.example.com/shop/web:1", ["quay.io", "registry.eu-west.example.com"], 1),
        ("REGISTRY.eu-west.example.com/shop/web:1", ["registry.eu-west.example.com"], 0),
        ("registry.eu-west.example.com:5000/web:1", ["registry.eu-west.example.com"], None),
        ("registry.eu-west.example.com:5000/web:1", ["registry.eu-west.example.com:*"], 0),
        ("nginx:1.25", ["docker.io/library/*"], 0),
        ("rancher/k3s:v1", ["docker.io/library/*"], None),
        ("nginx:1.25", ["index.docker.io"], 0),
        ("nginx:1.25", ["https://registry-1.docker.io/"], 0),
        ("ghcr.io/acme/api:2", ["ghcr.io/acme/*"], 0),
        ("ghcr.io/acmecorp/api:2", ["ghcr.io/acme/*"], None),
        ("ghcr.io/acme/api:2", ["ghcr.io/acme/api:2"], 0),
    ],
)
def test_registry_patterns(image: str, patterns: list[str], expected: int | None) -> None:
    found = matching_pattern(parse_image_ref(image), patterns)
    assert found == (patterns[expected] if expected is not None else None)


def test_pattern_normalisation_and_concreteness() -> None:
    assert normalize_pattern(" https://Index.Docker.io/library/* ") == "docker.io/library/*"
    assert pattern_registry("https://registry.example.com:5000/") == "registry.example.com:5000"
    assert pattern_is_concrete("registry.eu-west.example.com")
    assert pattern_is_concrete("127.0.0.1:5000")
    assert pattern_is_concrete("ghcr.io/acme/*")
    assert not pattern_is_concrete("*.dkr.ecr.eu-west-1.amazonaws.com")
    assert not pattern_is_concrete("registry-?.example.com")
    assert not pattern_is_concrete("")


# -- real images from the shared corpus ---------------------------------------------------------


def _images(value: Any) -> list[str]:
    """Every ``image`` field of containers in a decoded document."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in ("containers", "initContainers", "ephemeralContainers"):
                for container in item.get(key) or []:
                    if isinstance(container, dict) and isinstance(container.get("image"), str):
                        found.append(container["image"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _corpus_file(name: str) -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    matches = sorted((CORPUS / "manifests").glob(f"{name}_*"))
    if not matches:
        pytest.skip(f"corpus manifest {name} not found")
    return matches[0]


def _decode(path: Path) -> list[Any]:
    if path.suffix == ".json":
        return [json.loads(path.read_text())]
    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [d for d in yaml.load_all(path.read_text(), Loader=loader) if d is not None]


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (
            "09",
            {
                "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni-init:v1.23.0",
                "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.23.0",
                "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.4.1",
            },
        ),
        ("11", {"ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3", "ghcr.io/flannel-io/flannel:v0.28.9"}),
        ("12", {"quay.io/cilium/cilium:v1.18.12", "quay.io/cilium/operator:v1.18.12"}),
        (
            "13",
            {
                "docker.io/calico/cni:v3.31.6",
                "docker.io/calico/node:v3.31.6",
                "docker.io/calico/kube-controllers:v3.31.6",
            },
        ),
        ("14", {"docker.io/cloudnativelabs/kube-router"}),
    ],
)
def test_corpus_manifest_images(manifest: str, expected: set[str]) -> None:
    images = {img for doc in _decode(_corpus_file(manifest)) for img in _images(doc)}
    assert images == expected
    refs = {str(parse_image_ref(img)) for img in images}
    assert refs == expected  # all fully qualified already: normalising changes nothing
    if manifest == "14":
        (ref,) = (parse_image_ref(i) for i in images)
        assert ref.is_docker_hub and ref.registry_explicit and ref.pin_problem is not None
    if manifest == "13":
        assert all(parse_image_ref(i).is_docker_hub for i in images)


def test_corpus_kubeadm_images_and_eks_placeholder() -> None:
    kube_system = {img for doc in _decode(_corpus_file("04")) for img in _images(doc)}
    refs = [parse_image_ref(img) for img in kube_system]
    assert all(isinstance(r, ImageRef) for r in refs)
    assert "quay.io/calico/node:v2.6.2" in {str(r) for r in refs}
    assert {r.registry for r in refs} >= {"gcr.io", "quay.io"}
    # the EKS CoreDNS asset is a printf template, not an image: refused, with the reason
    (template,) = {img for doc in _decode(_corpus_file("08")) for img in _images(doc)}
    assert template.startswith("%s.dkr.ecr.")
    with pytest.raises(ImageRefError, match="grammar"):
        parse_image_ref(template)


def test_every_sonobuoy_image_parses() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    images: set[str] = set()
    for path in sorted((CORPUS / "sonobuoy").glob("*/resources/ns/*/*.json")):
        if "pod" in path.name.lower() or "daemonset" in path.name.lower() or "deployment" in path.name.lower():
            images.update(_images(json.loads(path.read_text())))
    assert len(images) > 10
    parsed = {img: parse_image_ref(img) for img in images}
    hub_implicit = sorted(img for img, ref in parsed.items() if ref.is_docker_hub and not ref.registry_explicit)
    assert "kindest/kindnetd:0.1.0" in hub_implicit
    assert str(parsed["kindest/kindnetd:0.1.0"]) == "docker.io/kindest/kindnetd:0.1.0"


# -- round trip over generated references --------------------------------------------------------

_alnum = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6)
_component = st.builds(
    lambda parts, seps: parts[0] + "".join(s + p for s, p in zip(seps, parts[1:], strict=False)),
    st.lists(_alnum, min_size=1, max_size=3),
    st.lists(st.sampled_from([".", "_", "__", "-", "--"]), min_size=2, max_size=2),
)
_domain = st.one_of(
    st.none(),
    st.sampled_from(["localhost", "localhost:5000", "quay.io", "registry.example.com:443", "10.0.0.1:5000", "[::1]"]),
)
_tag = st.one_of(st.none(), st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}\Z"))
_digest = st.one_of(st.none(), st.from_regex(r"\Asha256:[0-9a-f]{64}\Z"))


@given(domain=_domain, path=st.lists(_component, min_size=1, max_size=3), tag=_tag, digest=_digest)
@settings(max_examples=150, deadline=None)
def test_generated_references_round_trip(
    domain: str | None, path: list[str], tag: str | None, digest: str | None
) -> None:
    # a first component with a dot is a registry host by the grammar, not a path
    assume(domain is not None or "." not in path[0])
    raw = "/".join(([domain] if domain else []) + path)
    raw += f":{tag}" if tag else ""
    raw += f"@{digest}" if digest else ""
    ref = parse_image_ref(raw)
    assert (ref.tag, ref.digest) == (tag, digest)
    assert ref.registry_explicit is (domain is not None)
    assert ref.registry == (domain or "docker.io")
    again = parse_image_ref(str(ref))
    assert (again.registry, again.path, again.tag, again.digest) == (ref.registry, ref.path, ref.tag, ref.digest)
