"""kube-system pods and RBAC objects shaped like ``kubectl get -o json`` on kubeadm and kops control planes.

- kubeadm (corpus manifest 02): mirror pod ``kube-apiserver-<node>``, labels
  ``component=kube-apiserver, tier=control-plane``, every flag in ``command``
  after the ``kube-apiserver`` binary, ``--flag=value`` form.
- kops (corpus manifest 15): label ``k8s-app=kube-apiserver``, ``command:
  [/go-runner]`` and the wrapper's own flags, then the binary, then the
  API server's flags in ``args``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import yaml

from tests.builders import write_empty_lists

Obj = dict[str, Any]

CAPTURED = datetime(2026, 11, 24, 10, 0, 0)
ISSUER = "https://sso.example.com/realms/platform"
CLIENT_ID = "kubernetes"

_PLURALS = {
    "Namespace": ("core_v1", "namespaces"),
    "Pod": ("core_v1", "pods"),
    "ClusterRole": ("rbac.authorization.k8s.io_v1", "clusterroles"),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io_v1", "clusterrolebindings"),
}


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _uid(*parts: str) -> str:
    digest = hashlib.sha1("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _meta(kind: str, name: str, namespace: str | None = None, **extra: Any) -> Obj:
    out: Obj = {
        "name": name,
        "uid": _uid(kind, namespace or "", name),
        "resourceVersion": str(700 + len(name)),
        "creationTimestamp": _ts(CAPTURED - timedelta(days=300)),
    }
    if namespace:
        out["namespace"] = namespace
    out.update(extra)
    return out


def namespace(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": _meta("Namespace", name, labels={"kubernetes.io/metadata.name": name}),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def _static_pod(name: str, node: str, labels: dict[str, str], container: Obj) -> Obj:
    config_hash = hashlib.md5(name.encode()).hexdigest()
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(
            "Pod",
            name,
            "kube-system",
            labels=labels,
            annotations={
                "kubernetes.io/config.hash": config_hash,
                "kubernetes.io/config.mirror": config_hash,
                "kubernetes.io/config.seen": _ts(CAPTURED - timedelta(days=30)),
                "kubernetes.io/config.source": "file",
            },
            ownerReferences=[{"apiVersion": "v1", "controller": True, "kind": "Node", "name": node, "uid": _uid(node)}],
        ),
        "spec": {
            "containers": [container],
            "hostNetwork": True,
            "nodeName": node,
            "priority": 2000001000,
            "priorityClassName": "system-node-critical",
            "restartPolicy": "Always",
            "tolerations": [{"effect": "NoExecute", "operator": "Exists"}],
        },
        "status": {"phase": "Running", "hostIP": "172.18.0.4", "podIP": "172.18.0.4"},
    }


def kubeadm_apiserver(node: str, *flags: str, version: str = "v1.31.4") -> Obj:
    """A kubeadm mirror pod; ``flags`` are appended to kubeadm's own."""
    base = [
        "--advertise-address=172.18.0.4",
        "--allow-privileged=true",
        "--authorization-mode=Node,RBAC",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt",
        "--enable-admission-plugins=NodeRestriction",
        "--enable-bootstrap-token-auth=true",
        "--etcd-servers=https://127.0.0.1:2379",
        "--secure-port=6443",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
        "--service-cluster-ip-range=10.96.0.0/16",
        "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
        "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
    ]
    container = {
        "name": "kube-apiserver",
        "image": f"registry.k8s.io/kube-apiserver:{version}",
        "imagePullPolicy": "IfNotPresent",
        "command": ["kube-apiserver", *base, *flags],
        "resources": {"requests": {"cpu": "250m"}},
        "livenessProbe": {"httpGet": {"host": "172.18.0.4", "path": "/livez", "port": 6443, "scheme": "HTTPS"}},
    }
    labels = {"component": "kube-apiserver", "tier": "control-plane"}
    return _static_pod(f"kube-apiserver-{node}", node, labels, container)


def kops_apiserver(node: str, *args: str, version: str = "v1.31.4") -> Obj:
    """A kops pod: ``/go-runner`` wrapper in ``command``, its flags, the binary, then ``args``."""
    container = {
        "name": "kube-apiserver",
        "image": f"registry.k8s.io/kube-apiserver:{version}",
        "command": ["/go-runner"],
        "args": [
            "--log-file=/var/log/kube-apiserver.log",
            "--also-stdout",
            "/usr/local/bin/kube-apiserver",
            "--allow-privileged=true",
            "--anonymous-auth=false",
            "--authorization-mode=Node,RBAC",
            "--etcd-servers=https://127.0.0.1:4001",
            "--secure-port=443",
            *args,
            "--v=2",
        ],
        "resources": {"requests": {"cpu": "150m"}},
    }
    return _static_pod(f"kube-apiserver-{node}", node, {"k8s-app": "kube-apiserver"}, container)


def coredns_pod() -> Obj:
    """A pod in kube-system that is not an API server (and mentions no flags)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta("Pod", "coredns-7db6d8ff4d-x2x8k", "kube-system", labels={"k8s-app": "kube-dns"}),
        "spec": {
            "containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.1", "args": ["-conf"]}]
        },
        "status": {"phase": "Running"},
    }


def cluster_role(name: str, rules: list[Obj]) -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": _meta("ClusterRole", name),
        "rules": rules,
    }


def cluster_admin_role() -> Obj:
    return cluster_role(
        "cluster-admin",
        [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}],
    )


def binding(name: str, role: str, *subjects: tuple[str, str]) -> Obj:
    """A ClusterRoleBinding of ``role`` to (kind, name) subjects."""
    listed: list[Obj] = []
    for kind, subject in subjects:
        entry: Obj = {"kind": kind, "name": subject}
        if kind == "ServiceAccount":
            entry["namespace"] = "kube-system"
        else:
            entry["apiGroup"] = "rbac.authorization.k8s.io"
        listed.append(entry)
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": _meta("ClusterRoleBinding", name),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": listed,
    }


def default_rbac() -> list[Obj]:
    """What every cluster has: cluster-admin to system:masters, a controller's own User binding."""
    return [
        cluster_admin_role(),
        binding("cluster-admin", "cluster-admin", ("Group", "system:masters")),
        binding("system:kube-controller-manager", "cluster-admin", ("User", "system:kube-controller-manager")),
        binding("platform-admins", "cluster-admin", ("Group", "oidc:platform-admins")),
    ]


def write_cluster(root: Path, name: str, objects: list[Obj], labels: dict[str, str] | None = None) -> Path:
    """A snapshot folder: one kubectl ``-o json`` List per kind and a ``cluster.yaml``."""
    folder = root / name
    folder.mkdir(parents=True)
    files: dict[str, list[Obj]] = {}
    for obj in [namespace("default"), namespace("kube-system"), namespace("team-a"), *objects]:
        prefix, plural = _PLURALS[obj["kind"]]
        files.setdefault(f"{prefix}_{plural}", []).append(obj)
    for stem, items in files.items():
        document = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}
        (folder / f"{stem}.json").write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    write_empty_lists(folder, [o for items in files.values() for o in items])  # a real capture holds empty kinds
    meta = {"name": name, "captured": _ts(CAPTURED), "serverVersion": "v1.31.4", "labels": labels or {"tier": "prod"}}
    (folder / "cluster.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return folder


def authentication_config(issuer: str, audience: str, prefix: str = "oidc:") -> str:
    """The YAML of an AuthenticationConfiguration (corpus manifest 17's shape) with one JWT issuer."""
    document = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AuthenticationConfiguration",
        "jwt": [
            {
                "issuer": {"url": issuer, "audiences": [audience]},
                "claimMappings": {
                    "username": {"claim": "sub", "prefix": prefix},
                    "groups": {"claim": "groups", "prefix": prefix},
                },
                "userValidationRules": [
                    {
                        "expression": "!user.username.startsWith('system:')",
                        "message": "username cannot use reserved system: prefix",
                    }
                ],
            }
        ],
    }
    return yaml.safe_dump(document, sort_keys=False)
