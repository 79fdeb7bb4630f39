"""Read a cluster's DNS setup: CoreDNS Corefiles, and kube-dns on clusters older than CoreDNS.

Why a parser and not a regex: the lines that matter (``forward . ...``,
``kubernetes cluster.local ...``) sit inside server blocks (``.:53 {``), may
carry an options block of their own (``forward . 10.0.0.2 { max_fails 3 }``),
may come from a snippet or an imported file (k3s and AKS splice in the
``coredns-custom`` ConfigMap with ``import``), and a block may serve several
zones at once (``cluster.local in-addr.arpa:53 {``). A regex over the text
confuses a stub domain's ``forward .`` with the root zone's, and misses a
forward that lives in an imported file.

The grammar is CoreDNS's Caddyfile dialect: whitespace-separated tokens,
``#`` comments, ``"quoted strings"``, a directive is the tokens of one line,
``{``/``}`` open and close blocks, ``(name) { ... }`` defines a snippet and
``import NAME|GLOB`` splices a snippet or files in. A single server block may
omit its braces.

The second half turns ConfigMaps and Deployments into a :class:`DnsSetup`:
where the root zone is forwarded and which cluster domain is served, with the
object and line each fact came from, so findings can point at them. Where
the Corefile lives and who owns it depends on the provider (shapes from
``../shared/corpus/managed``), and :attr:`DnsSetup.managed_by` says where a
fix must go:

- kubeadm, kind, EKS (``eks.amazonaws.com/component: coredns``), k3s:
  ``kube-system/coredns``;
- AKS reconciles ``kube-system/coredns`` itself; users write
  ``coredns-custom`` keys ``*.server`` (server blocks of their own) and
  ``*.override`` (imported into ``.:53``). An override that adds a second
  ``forward`` to ``.:53`` makes CoreDNS refuse the whole Corefile ("this
  plugin can only be used once per Server Block") and crash-loop on restart:
  :attr:`DnsSetup.refused` names the key and line;
- RKE2: the ``rke2-coredns`` chart's ``kube-system/rke2-coredns-rke2-coredns``;
- OpenShift: the DNS operator renders ``openshift-dns/dns-default`` (served
  on ``.:5353``) from ``dns.operator.openshift.io/default``
  ``spec.upstreamResolvers``;
- GKE Standard: kube-dns, its upstreams as JSON in ConfigMap ``kube-dns``.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from fleetcheck.core.refs import name_list
from fleetcheck.errors import FleetcheckError
from fleetcheck.registry.yamlfile import CLUSTER_TEXT_BYTES, ClusterTextInvalid, load_cluster_text

__all__ = [
    "CORE_DNS_CUSTOM_DIR",
    "Corefile",
    "CorefileError",
    "Directive",
    "DnsConfigError",
    "DnsSetup",
    "Forward",
    "Forwarding",
    "ServerBlock",
    "ServerKey",
    "find_dns_setup",
    "is_file_target",
    "normalize_domain",
    "normalize_upstream",
    "parse_corefile",
]

Obj = dict[str, Any]

#: Where k3s and AKS mount the ``coredns-custom`` ConfigMap (``optional: true``) for ``import``.
CORE_DNS_CUSTOM_DIR = "/etc/coredns/custom"
#: The folder relative imports resolve against (the Corefile is ``/etc/coredns/Corefile``).
CORE_DNS_DIR = "/etc/coredns"
_DEFAULT_PORTS = {"dns": 53, "tls": 853, "quic": 853, "grpc": 443, "https": 443, "https3": 443}
_TRANSPORT = re.compile(r"^(?P<scheme>[a-z][a-z0-9]*)://(?P<rest>.*)$")
_REVERSE_SUFFIXES = ("in-addr.arpa", "ip6.arpa")
#: Imports expanded per parse before giving up (a snippet importing itself would never end).
_MAX_IMPORTS = 256
#: Tokens of one Corefile once imports are spliced in, at most (256 imports of a big snippet would not fit in memory).
_MAX_TOKENS = 1_000_000
#: Blocks nested in blocks, at most (CoreDNS configurations nest two or three deep).
_MAX_BLOCK_DEPTH = 50
#: Arguments of a directive quoted in a message before "and N more".
_ARGS_SHOWN = 8


class CorefileError(FleetcheckError):
    """The Corefile cannot be parsed (CoreDNS would refuse to start with it too)."""

    def __init__(self, source: str, line: int, problem: str) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        super().__init__(f"{source} line {line}: {problem}")


class DnsConfigError(FleetcheckError):
    """A DNS ConfigMap holds data its server cannot read (kube-dns JSON, say)."""


# -- lexing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    text: str
    source: str
    line: int
    quoted: bool = False
    #: which expansion produced the token: tokens of one line share (expansion, source, line)
    expansion: int = 0

    @property
    def line_key(self) -> tuple[int, str, int]:
        return (self.expansion, self.source, self.line)

    def is_brace(self, brace: str) -> bool:
        return not self.quoted and self.text == brace


def _tokenize(text: str, source: str) -> list[_Token]:
    """Split Caddyfile text into tokens, dropping comments; quotes may hold spaces and newlines."""
    tokens: list[_Token] = []
    i, line, n = 0, 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
        elif ch.isspace():
            i += 1
        elif ch == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif ch == '"':
            start_line = line
            i += 1
            chars: list[str] = []
            while True:
                if i >= n:
                    raise CorefileError(source, start_line, "unterminated quoted string")
                ch = text[i]
                if ch == "\\" and i + 1 < n and text[i + 1] == '"':
                    chars.append('"')
                    i += 2
                    continue
                if ch == '"':
                    i += 1
                    break
                if ch == "\n":
                    line += 1
                chars.append(ch)
                i += 1
            tokens.append(_Token("".join(chars), source, start_line, quoted=True))
        else:
            start = i
            while i < n and not text[i].isspace():
                i += 1
            tokens.append(_Token(text[start:i], source, line))
    return tokens


# -- the parsed shape --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Directive:
    """One plugin line (``forward . 10.0.0.2``), with its options block if it has one."""

    name: str
    args: tuple[str, ...]
    block: tuple[Directive, ...] = ()
    source: str = "Corefile"
    line: int = 0

    def text(self) -> str:
        """The line as written (without its block), for messages: at most ``_ARGS_SHOWN`` arguments."""
        return name_list((self.name, *self.args), _ARGS_SHOWN + 1, sort=False, sep=" ")

    def options(self, name: str) -> list[Directive]:
        """Sub-directives called ``name`` in the options block."""
        return [d for d in self.block if d.name == name]


@dataclass(frozen=True)
class ServerKey:
    """One address of a server block: ``[transport://]zone[:port]``."""

    transport: str
    zone: str
    port: int

    @classmethod
    def parse(cls, text: str) -> ServerKey:
        """``.:53`` -> (dns, ., 53); ``tls://example.org`` -> (tls, example.org, 853); ``:53`` is the root."""
        transport, rest = "dns", text.strip()
        match = _TRANSPORT.match(rest)
        if match:
            transport, rest = match["scheme"], match["rest"]
        port = _DEFAULT_PORTS.get(transport, 53)
        zone = rest
        head, sep, tail = rest.rpartition(":")
        if sep and tail.isdigit() and "]" not in tail:
            zone, port = head, int(tail)
        return cls(transport, normalize_domain(zone), port)

    def __str__(self) -> str:
        prefix = "" if self.transport == "dns" else f"{self.transport}://"
        return f"{prefix}{self.zone}:{self.port}"


@dataclass(frozen=True)
class Forward:
    """A ``forward FROM TO...`` (or CoreDNS < 1.6's ``proxy``) and where it was written."""

    plugin: str
    from_zone: str
    targets: tuple[str, ...]
    directive: Directive

    @property
    def upstreams(self) -> tuple[str, ...]:
        """The targets normalized (``dns://8.8.8.8:53`` -> ``8.8.8.8``); resolv.conf-style files verbatim."""
        return tuple(t if is_file_target(t) else normalize_upstream(t) for t in self.targets)

    @property
    def files(self) -> tuple[str, ...]:
        """Targets that are resolv.conf-style files: the node's resolvers, whatever they are."""
        return tuple(t for t in self.targets if is_file_target(t))


@dataclass(frozen=True)
class ServerBlock:
    """``KEYS { directives }``: one or more zones served with the same plugin chain."""

    keys: tuple[ServerKey, ...]
    directives: tuple[Directive, ...]
    source: str = "Corefile"
    line: int = 0

    @property
    def label(self) -> str:
        """The keys as one string, e.g. ``.:53`` or ``cluster.local:53 in-addr.arpa:53``."""
        return " ".join(str(k) for k in self.keys)

    @property
    def zones(self) -> tuple[str, ...]:
        """The zones served, in order, without duplicates."""
        return tuple(dict.fromkeys(k.zone for k in self.keys))

    def serves(self, zone: str, port: int | None = None) -> bool:
        """Whether a key of this block is ``zone`` (on ``port``, when given)."""
        wanted = normalize_domain(zone)
        return any(k.zone == wanted and (port is None or k.port == port) for k in self.keys)

    def directive(self, name: str) -> list[Directive]:
        """Top-level directives called ``name``."""
        return [d for d in self.directives if d.name == name]

    def forward_for(self, zone: str = ".") -> Forward | None:
        """The ``forward``/``proxy`` whose FROM is ``zone`` (the first, as CoreDNS allows one per block)."""
        wanted = normalize_domain(zone)
        for d in self.directives:
            if d.name in ("forward", "proxy") and d.args and normalize_domain(d.args[0]) == wanted:
                return Forward(d.name, wanted, d.args[1:], d)
        return None

    def kubernetes_zones(self) -> tuple[str, ...] | None:
        """Zones the ``kubernetes`` plugin answers for (the block's zones when it names none); None without it."""
        for d in self.directives:
            if d.name == "kubernetes":
                zones = tuple(normalize_domain(a) for a in d.args)
                return zones or self.zones
        return None


@dataclass(frozen=True)
class Corefile:
    """A parsed Corefile: server blocks in order, snippets, imports that could not be followed."""

    servers: tuple[ServerBlock, ...]
    snippets: tuple[str, ...] = ()
    #: file imports whose files are not visible to fleetcheck (mounted from elsewhere)
    unresolved_imports: tuple[str, ...] = ()

    def root_servers(self) -> list[ServerBlock]:
        """Blocks serving the root zone ``.``, those on port 53 first (the port the kube-dns Service targets)."""
        roots = [s for s in self.servers if s.serves(".")]
        return sorted(roots, key=lambda s: 0 if s.serves(".", 53) else 1)

    def cluster_domain(self) -> tuple[str, Directive] | None:
        """The first forward zone the ``kubernetes`` plugin serves (the cluster domain), with its directive."""
        for server in sorted(self.servers, key=lambda s: 0 if any(k.port == 53 for k in s.keys) else 1):
            zones = server.kubernetes_zones()
            if zones is None:
                continue
            directive = server.directive("kubernetes")[0]
            for zone in zones:
                if not _is_reverse_zone(zone) and zone != ".":
                    return zone, directive
        return None


# -- parsing --------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token], files: Mapping[str, str], known_dirs: Iterable[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.files = dict(files)
        self.known_dirs = {d.rstrip("/") for d in known_dirs}
        self.snippets: dict[str, list[_Token]] = {}
        self.unresolved: list[str] = []
        self.expansions = 0

    # token access
    def eof(self) -> bool:
        return self.pos >= len(self.tokens)

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def last_line(self) -> tuple[str, int]:
        if self.tokens:
            last = self.tokens[min(self.pos, len(self.tokens)) - 1]
            return last.source, last.line
        return "Corefile", 1

    # imports
    def _line_tokens(self, start: int) -> int:
        """Index just past the tokens on the same line as ``tokens[start]``."""
        key = self.tokens[start].line_key
        end = start + 1
        while end < len(self.tokens) and self.tokens[end].line_key == key and not self.tokens[end].is_brace("{"):
            if self.tokens[end].is_brace("}"):
                break
            end += 1
        return end

    def expand_import(self) -> None:
        """Replace the ``import ARG`` line at the cursor with the snippet's or files' tokens."""
        token = self.peek()
        end = self._line_tokens(self.pos)
        args = self.tokens[self.pos + 1 : end]
        if not args:
            raise CorefileError(token.source, token.line, "import needs a snippet name or a file pattern")
        self.expansions += 1
        if self.expansions > _MAX_IMPORTS:
            raise CorefileError(token.source, token.line, "imports nest too deeply (a snippet imports itself?)")
        pattern = args[0].text
        snippet = self.snippets.get(pattern)
        if snippet is not None and len(self.tokens) - (end - self.pos) + len(snippet) > _MAX_TOKENS:
            replacement = snippet  # over the budget: refused below before a token is copied
        elif snippet is not None:
            replacement = [replace(t, expansion=self.expansions) for t in snippet]
        else:
            replacement = self._import_files(pattern, token)
        if len(self.tokens) - (end - self.pos) + len(replacement) > _MAX_TOKENS:
            raise CorefileError(
                token.source,
                token.line,
                f"imports expand it past {_MAX_TOKENS:,} tokens (the parse budget); not parsed",
            )
        self.tokens[self.pos : end] = replacement

    def _import_files(self, pattern: str, token: _Token) -> list[_Token]:
        path = pattern if pattern.startswith("/") else posixpath.join(CORE_DNS_DIR, pattern)
        folder, name = posixpath.split(path)
        matches = sorted(
            p for p in self.files if posixpath.dirname(p) == folder and fnmatch.fnmatchcase(posixpath.basename(p), name)
        )
        if not matches and folder not in self.known_dirs:
            self.unresolved.append(f"{pattern} ({token.source} line {token.line})")
        replacement: list[_Token] = []
        for match in matches:
            replacement.extend(replace(t, expansion=self.expansions) for t in _tokenize(self.files[match], match))
        return replacement

    # grammar
    def parse(self) -> Corefile:
        servers: list[ServerBlock] = []
        while not self.eof():
            token = self.peek()
            if token.is_brace("}"):
                raise CorefileError(token.source, token.line, "unexpected '}' outside a server block")
            if token.is_brace("{"):
                raise CorefileError(token.source, token.line, "'{' without server block keys before it")
            if token.text == "import" and not token.quoted:
                self.expand_import()
                continue
            keys = self.keys()
            first = keys[0]
            if re.fullmatch(r"\(.+\)", first.text) and not self.eof() and self.peek().is_brace("{"):
                self.take()
                self.snippets[first.text[1:-1]] = self.raw_block(first)
                continue
            if not self.eof() and self.peek().is_brace("{"):
                self.take()
                directives = self.directives(closing=first)
            elif not servers:
                # one server block may leave out its braces: everything that follows is its body
                directives = self.directives(closing=None)
            else:
                raise CorefileError(first.source, first.line, f"expected '{{' after server block keys {first.text}")
            try:
                parsed = tuple(ServerKey.parse(part) for k in keys for part in k.text.split(",") if part.strip())
            except ValueError as exc:
                raise CorefileError(first.source, first.line, str(exc)) from None
            servers.append(ServerBlock(parsed, tuple(directives), first.source, first.line))
        return Corefile(tuple(servers), tuple(self.snippets), tuple(self.unresolved))

    def keys(self) -> list[_Token]:
        """Server block keys: one line (continued onto the next while a key ends with a comma)."""
        keys = [self.take()]
        while not self.eof():
            token = self.peek()
            if token.is_brace("{") or token.is_brace("}"):
                break
            same_line = token.line_key == keys[-1].line_key
            if not same_line and not keys[-1].text.endswith(","):
                break
            keys.append(self.take())
        return keys

    def raw_block(self, opener: _Token) -> list[_Token]:
        """The tokens of a ``{ ... }`` block (for snippets), braces balanced, the outer ones dropped."""
        depth = 1
        body: list[_Token] = []
        while not self.eof():
            token = self.take()
            if token.is_brace("{"):
                depth += 1
            elif token.is_brace("}"):
                depth -= 1
                if depth == 0:
                    return body
            body.append(token)
        raise CorefileError(opener.source, opener.line, f"snippet {opener.text} has no closing '}}'")

    def directives(self, closing: _Token | None, depth: int = 0) -> list[Directive]:
        """Directives up to the ``}`` closing the block opened at ``closing`` (or to the end)."""
        if depth > _MAX_BLOCK_DEPTH and closing is not None:
            raise CorefileError(
                closing.source, closing.line, f"blocks nest more than {_MAX_BLOCK_DEPTH} deep (the parse budget)"
            )
        found: list[Directive] = []
        while True:
            if self.eof():
                if closing is not None:
                    raise CorefileError(closing.source, closing.line, f"block opened by {closing.text!r} has no '}}'")
                return found
            token = self.peek()
            if token.is_brace("}"):
                if closing is None:
                    raise CorefileError(token.source, token.line, "unexpected '}'")
                self.take()
                return found
            if token.is_brace("{"):
                raise CorefileError(token.source, token.line, "'{' without a directive before it")
            if token.text == "import" and not token.quoted:
                self.expand_import()
                continue
            name = self.take()
            args: list[str] = []
            while not self.eof():
                nxt = self.peek()
                if nxt.line_key != name.line_key or nxt.is_brace("{") or nxt.is_brace("}"):
                    break
                args.append(self.take().text)
            block: list[Directive] = []
            if not self.eof() and self.peek().is_brace("{") and self.peek().line_key == name.line_key:
                self.take()
                block = self.directives(closing=name, depth=depth + 1)
            found.append(Directive(name.text, tuple(args), tuple(block), name.source, name.line))


def parse_corefile(
    text: str,
    *,
    source: str = "Corefile",
    files: Mapping[str, str] | None = None,
    known_dirs: Iterable[str] = (),
) -> Corefile:
    """Parse a Corefile.

    ``files`` maps absolute paths to contents for ``import`` (e.g. the keys of
    ``coredns-custom`` under ``/etc/coredns/custom``); relative imports resolve
    against ``/etc/coredns``. A file import that matches none of ``files`` is
    listed in :attr:`Corefile.unresolved_imports` unless its folder is in
    ``known_dirs`` (a folder whose whole content is known, so "no match" means
    "imports nothing", as CoreDNS treats an empty glob). Raises
    :class:`CorefileError` with the line on a syntax error, and for a text
    over the parse budget (``CLUSTER_TEXT_BYTES``, ``_MAX_TOKENS`` once
    imports are spliced in, ``_MAX_BLOCK_DEPTH``).
    """
    for name, content in (("Corefile", text), *sorted((files or {}).items())):
        if len(content) > CLUSTER_TEXT_BYTES:
            where = source if name == "Corefile" else name
            raise CorefileError(
                where,
                1,
                f"{len(content):,} characters, more than the parse budget of {CLUSTER_TEXT_BYTES:,}; not parsed",
            )
    return _Parser(_tokenize(text, source), files or {}, known_dirs).parse()


# -- normalising what blocks compare --------------------------------------------------------------------


def normalize_domain(zone: str) -> str:
    """``Cluster.Local.`` -> ``cluster.local``; the root stays ``.``."""
    text = zone.strip().lower()
    if text in ("", "."):
        return "."
    return text.rstrip(".") or "."


def _is_reverse_zone(zone: str) -> bool:
    if zone.endswith(_REVERSE_SUFFIXES):
        return True
    try:
        ipaddress.ip_network(zone, strict=False)
    except ValueError:
        return False
    return "/" in zone


def is_file_target(target: str) -> bool:
    """A forward target that is a resolv.conf-style file (``/etc/resolv.conf``), not an address."""
    return "://" not in target and "/" in target


def normalize_upstream(target: str) -> str:
    """One spelling per resolver: ``dns://8.8.8.8:53`` and ``8.8.8.8`` are both ``8.8.8.8``.

    Plain DNS on port 53 is the bare address; other ports are kept
    (``10.0.0.2:5353``, ``[2001:db8::1]:5353``); other transports keep their
    scheme and drop only their default port (``tls://9.9.9.9``).
    """
    text = target.strip()
    scheme = "dns"
    match = _TRANSPORT.match(text)
    if match:
        scheme, text = match["scheme"], match["rest"]
    host, port = text, _DEFAULT_PORTS.get(scheme, 53)
    if text.startswith("["):
        inner, _, rest = text[1:].partition("]")
        host = inner
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif text.count(":") == 1:
        head, _, tail = text.partition(":")
        if tail.isdigit():
            host, port = head, int(tail)
    host = host.lower().rstrip(".") if host else host
    default = _DEFAULT_PORTS.get(scheme, 53)
    shown = f"[{host}]" if ":" in host and port != default else host
    body = shown if port == default else f"{shown}:{port}"
    return body if scheme == "dns" else f"{scheme}://{body}"


# -- where a cluster keeps its DNS config -------------------------------------------------------------


@dataclass(frozen=True)
class Forwarding:
    """How one server block sends the root zone out of the cluster."""

    #: who forwards: ``server block .:53`` or ``kube-dns``
    server: str
    #: normalized resolvers; resolv.conf-style files kept verbatim (the node's resolvers)
    targets: tuple[str, ...]
    #: the object to fix, e.g. ``kube-system/ConfigMap/coredns``
    ref: str
    #: where in it, e.g. ``Corefile line 14: forward . /etc/resolv.conf``
    origin: str

    @property
    def files(self) -> tuple[str, ...]:
        """Targets that are files: the node's own resolvers leak in through them."""
        return tuple(t for t in self.targets if is_file_target(t))


@dataclass(frozen=True)
class DnsSetup:
    """A cluster's DNS server as far as the fleet cares: upstreams of ``.`` and the cluster domain."""

    provider: str
    #: the object holding the configuration (``kube-system/ConfigMap/coredns``)
    config_ref: str
    #: every root-zone server block, the one on port 53 first; empty when ``.`` is forwarded nowhere
    forwarding: tuple[Forwarding, ...]
    cluster_domain: str | None
    domain_ref: str
    domain_origin: str
    unresolved_imports: tuple[str, ...] = ()
    stub_domains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: why CoreDNS refuses this configuration (each names the object, key and line); empty when it loads
    refused: tuple[str, ...] = ()
    #: the objects :attr:`refused` names (the ones to fix)
    refused_refs: tuple[str, ...] = ()
    #: who owns the configuration and where a change must be made ("" for a plain ConfigMap)
    managed_by: str = ""
    #: the provider's form (``EKS add-on``, ``OpenShift DNS operator``, ``RKE2 chart rke2-coredns``), "" when plain
    variant: str = ""

    @property
    def title(self) -> str:
        """``CoreDNS (EKS add-on)``, ``kube-dns``: the server and its managed form, for messages."""
        return f"{self.provider} ({self.variant})" if self.variant else self.provider

    @property
    def upstreams(self) -> tuple[str, ...]:
        """The resolvers the root zone goes to on the DNS port, sorted, without duplicates."""
        if not self.forwarding:
            return ()
        return tuple(sorted(set(self.forwarding[0].targets)))

    @property
    def upstreams_ref(self) -> str:
        """The object :attr:`upstreams` was read from (the one to fix)."""
        return self.forwarding[0].ref if self.forwarding else self.config_ref

    @property
    def upstreams_origin(self) -> str:
        """Where in :attr:`upstreams_ref` they were read, for messages."""
        if not self.forwarding:
            return "no server block forwards the root zone"
        return self.forwarding[0].origin


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _in_namespace(objects: Sequence[Obj], namespace: str = "kube-system") -> dict[str, Obj]:
    return {str(_meta(o).get("name", "")): o for o in objects if _meta(o).get("namespace") == namespace}


def _in_kube_system(objects: Sequence[Obj]) -> dict[str, Obj]:
    return _in_namespace(objects)


def _ref(kind: str, name: str, namespace: str = "kube-system") -> str:
    return f"{namespace}/{kind}/{name}"


#: where OpenShift's DNS operator writes the Corefile it renders
OPENSHIFT_DNS = ("openshift-dns", "dns-default")
_OPENSHIFT_OWNER = (
    "OpenShift's DNS operator renders it from dns.operator.openshift.io/default: set spec.upstreamResolvers there "
    "(the operator overwrites edits to the ConfigMap)"
)
_AKS_OWNER = "AKS reconciles kube-system/coredns: change it through coredns-custom (*.server or *.override keys)"
_RKE2_OWNER = "the rke2-coredns chart renders it: set values in HelmChartConfig kube-system/rke2-coredns"
_EKS_OWNER = "the EKS CoreDNS add-on owns it: change the Corefile through the add-on's configuration values"


def _owner(configmap: Obj, custom: Obj | None, mounts_custom: bool) -> str:
    """Who owns a CoreDNS ConfigMap, from its name, labels and the coredns-custom beside it."""
    meta = _meta(configmap)
    raw_labels = meta.get("labels")
    labels: dict[str, Any] = raw_labels if isinstance(raw_labels, dict) else {}
    name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
    if (namespace, name) == OPENSHIFT_DNS:
        return _OPENSHIFT_OWNER
    if name.startswith("rke2-coredns"):
        return _RKE2_OWNER
    if "eks.amazonaws.com/component" in labels:
        return _EKS_OWNER
    if str(labels.get("addonmanager.kubernetes.io/mode", "")) == "Reconcile" and (custom is not None or mounts_custom):
        return _AKS_OWNER
    return ""


def _second_forwards(corefile: Corefile, where: Any) -> tuple[list[str], list[str]]:
    """(why, object refs) for server blocks with more than one ``forward``: CoreDNS refuses the Corefile."""
    why: list[str] = []
    refs: list[str] = []
    for server in corefile.servers:
        forwards = server.directive("forward")
        if len(forwards) < 2:
            continue
        first_ref, first_at = where(forwards[0].source, forwards[0].line)
        for extra in forwards[1:]:
            ref, at = where(extra.source, extra.line)
            why.append(
                f"{ref} {at}: {extra.text()} adds a second forward to server block {server.label}, already "
                f"forwarded by {first_ref} {first_at}: {forwards[0].text()}; CoreDNS refuses the whole Corefile "
                "(plugin/forward: this plugin can only be used once per Server Block) and crash-loops on restart"
            )
            refs.append(ref)
    return why, list(dict.fromkeys(refs))


def _data(obj: Obj) -> dict[str, str]:
    data = obj.get("data")
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


def _corefile_configmap(configmaps: Mapping[str, Obj]) -> Obj | None:
    """``coredns`` with a ``Corefile`` key; else any kube-system ConfigMap with one (RKE2, Helm release names)."""
    preferred = configmaps.get("coredns")
    if preferred is not None and "Corefile" in _data(preferred):
        return preferred
    candidates = sorted(
        (name, cm) for name, cm in configmaps.items() if "Corefile" in _data(cm) and name != "coredns-custom"
    )
    candidates.sort(key=lambda item: 0 if "coredns" in item[0] else 1)
    return candidates[0][1] if candidates else None


def _coredns_setup(configmap: Obj, custom: Obj | None, *, mounts_custom: bool = False) -> DnsSetup:
    name = str(_meta(configmap).get("name", "coredns"))
    namespace = str(_meta(configmap).get("namespace") or "kube-system")
    main_ref = _ref("ConfigMap", name, namespace)
    files: dict[str, str] = {}
    refs: dict[str, str] = {"Corefile": main_ref}
    custom_name = "coredns-custom"
    if custom is not None:
        custom_name = str(_meta(custom).get("name", custom_name))
        for key, value in _data(custom).items():
            path = f"{CORE_DNS_CUSTOM_DIR}/{key}"
            files[path] = value
            refs[path] = _ref("ConfigMap", custom_name, namespace)

    def where(source: str, line: int) -> tuple[str, str]:
        ref = refs.get(source, main_ref)
        label = "Corefile" if source == "Corefile" else f"data.{posixpath.basename(source)}"
        return ref, f"{label} line {line}"

    corefile = parse_corefile(
        _data(configmap)["Corefile"], source="Corefile", files=files, known_dirs=(CORE_DNS_CUSTOM_DIR,)
    )
    forwarding: list[Forwarding] = []
    for server in corefile.root_servers():
        fwd = server.forward_for(".")
        if fwd is None:
            continue
        ref, origin = where(fwd.directive.source, fwd.directive.line)
        forwarding.append(
            Forwarding(f"server block {server.label}", fwd.upstreams, ref, f"{origin}: {fwd.directive.text()}")
        )
    stubs: dict[str, tuple[str, ...]] = {}
    for server in corefile.servers:
        for stub_zone in server.zones:
            if stub_zone == ".":
                continue
            fwd = server.forward_for(".") or server.forward_for(stub_zone)
            if fwd is not None:
                stubs.setdefault(stub_zone, fwd.upstreams)
    domain = corefile.cluster_domain()
    zone: str | None = None
    domain_ref, domain_origin = main_ref, "no kubernetes plugin in the Corefile"
    if domain is not None:
        zone, directive = domain
        domain_ref, origin = where(directive.source, directive.line)
        domain_origin = f"{origin}: {directive.text()}"
    refused, refused_refs = _second_forwards(corefile, where)
    owner = _owner(configmap, custom, mounts_custom)
    variant = {
        _OPENSHIFT_OWNER: "OpenShift DNS operator",
        _RKE2_OWNER: "RKE2 chart rke2-coredns",
        _EKS_OWNER: "EKS add-on",
        _AKS_OWNER: "AKS, with coredns-custom",
    }.get(owner, "")
    return DnsSetup(
        provider="CoreDNS",
        variant=variant,
        config_ref=main_ref,
        forwarding=tuple(forwarding),
        cluster_domain=zone,
        domain_ref=domain_ref,
        domain_origin=domain_origin,
        unresolved_imports=corefile.unresolved_imports,
        stub_domains=stubs,
        refused=tuple(refused),
        refused_refs=tuple(refused_refs),
        managed_by=owner,
    )


def _json_field(configmap: Obj, key: str, expected: type) -> Any:
    raw = _data(configmap).get(key)
    if raw is None or not raw.strip():
        return None
    ref = _ref("ConfigMap", str(_meta(configmap).get("name", "kube-dns")))
    try:  # over the parse budget: ClusterTextOverBudget, a FleetcheckError, so the check errors naming it
        value = load_cluster_text(raw, what=f"{ref} data.{key}", syntax="json")
    except ClusterTextInvalid as exc:
        raise DnsConfigError(f"{ref} data.{key} is {exc.problem}; kube-dns ignores it") from None
    if not isinstance(value, expected):
        raise DnsConfigError(f"{ref} data.{key} must be a JSON {expected.__name__}; kube-dns ignores it")
    return value


def _kube_dns_domain(deployment: Obj | None) -> tuple[str | None, str]:
    """``--domain=cluster.local.`` of the ``kubedns`` container (its default is cluster.local)."""
    if deployment is None:
        return None, "no kube-dns Deployment"
    template = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in template.get("containers") or []:
        for arg in [*(container.get("command") or []), *(container.get("args") or [])]:
            text = str(arg)
            if text.startswith("--domain="):
                return normalize_domain(text.split("=", 1)[1]), f"container {container.get('name')}: {text}"
    return "cluster.local", "kube-dns default (no --domain flag)"


def _kube_dns_setup(configmap: Obj | None, deployment: Obj | None) -> DnsSetup:
    cm_ref = _ref("ConfigMap", "kube-dns")
    deploy_ref = _ref("Deployment", "kube-dns")
    upstream_list = _json_field(configmap, "upstreamNameservers", list) if configmap is not None else None
    stubs_raw = _json_field(configmap, "stubDomains", dict) if configmap is not None else None
    stubs = {
        normalize_domain(str(zone)): tuple(normalize_upstream(str(ip)) for ip in (ips or []))
        for zone, ips in (stubs_raw or {}).items()
    }
    if upstream_list:
        targets = tuple(normalize_upstream(str(ip)) for ip in upstream_list)
        forwarding = Forwarding(
            "kube-dns", targets, cm_ref, f"data.upstreamNameservers: {name_list(targets, _ARGS_SHOWN, sort=False)}"
        )
    else:
        # kube-dns's dnsmasq forwards everything outside the cluster domain to the node's resolv.conf
        ref = cm_ref if configmap is not None else deploy_ref
        why = "no data.upstreamNameservers" if configmap is not None else "no kube-dns ConfigMap"
        forwarding = Forwarding("kube-dns", ("/etc/resolv.conf",), ref, f"{why}: dnsmasq uses the node's resolv.conf")
    domain, origin = _kube_dns_domain(deployment)
    return DnsSetup(
        provider="kube-dns",
        config_ref=cm_ref if configmap is not None else deploy_ref,
        forwarding=(forwarding,),
        cluster_domain=domain,
        domain_ref=deploy_ref,
        domain_origin=origin,
        stub_domains=stubs,
    )


def find_dns_setup(configmaps: Sequence[Obj], deployments: Sequence[Obj]) -> DnsSetup | None:
    """The cluster's DNS setup from its kube-system objects; None when neither CoreDNS nor kube-dns is found.

    CoreDNS: ConfigMap ``coredns`` (key ``Corefile``), or another kube-system
    ConfigMap with a ``Corefile`` key; ``coredns-custom`` supplies the files
    k3s and AKS import from ``/etc/coredns/custom``. kube-dns (clusters from
    before CoreDNS, GKE): ConfigMap ``kube-dns`` (``upstreamNameservers``,
    ``stubDomains`` as JSON) and the ``kube-dns`` Deployment's ``--domain``.
    OpenShift: ``openshift-dns/dns-default``, rendered by its DNS operator.
    Raises :class:`CorefileError` or :class:`DnsConfigError` when the
    configuration cannot be read.
    """
    cms = _in_kube_system(configmaps)
    deploys = _in_kube_system(deployments)
    corefile_cm = _corefile_configmap(cms)
    if corefile_cm is not None:
        return _coredns_setup(corefile_cm, cms.get("coredns-custom"), mounts_custom=_mounts_custom(deploys))
    if "kube-dns" in cms or "kube-dns" in deploys:
        return _kube_dns_setup(cms.get("kube-dns"), deploys.get("kube-dns"))
    openshift = _in_namespace(configmaps, OPENSHIFT_DNS[0]).get(OPENSHIFT_DNS[1])
    if openshift is not None and "Corefile" in _data(openshift):
        return _coredns_setup(openshift, None)
    return None


def _mounts_custom(deployments: Mapping[str, Obj]) -> bool:
    """The coredns Deployment mounts ``coredns-custom`` (AKS, k3s), even when that ConfigMap does not exist."""
    spec = (((deployments.get("coredns") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    volumes = spec.get("volumes") if isinstance(spec, dict) else None
    return any(
        isinstance(v, dict) and ((v.get("configMap") or {}).get("name") == "coredns-custom")
        for v in (volumes or [])[:64]
    )
