"""Ask one DNS server one question, with a timeout: what does ``NAME`` resolve to through it?

FC-DNS-004 asks each cluster's DNS service (the endpoint the fleet file
declares, ``facts.dns_endpoint``) for the profile's probe names and compares
the answers across the fleet. This module only asks; judging is the check's.

Rules it keeps: only the endpoint given is contacted (host names in it are
resolved by the runner, within the same timeout); a reply that is not an
answer (NXDOMAIN, SERVFAIL, REFUSED) is still an answer, since a cluster
whose DNS refuses a name differs from one that resolves it; no reply at all
(timeout, ICMP refused, garbage) raises :class:`~fleetcheck.probes.ProbeError`
so the check says ``error``, never ``fail``.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype

from fleetcheck.probes import ProbeError

__all__ = ["DnsAnswer", "parse_endpoint", "resolve_host", "resolve_name"]

DEFAULT_DNS_PORT = 53


@dataclass(frozen=True)
class DnsAnswer:
    """One server's answer to one question."""

    name: str
    rdtype: str
    #: ``NOERROR``, ``NXDOMAIN``, ``SERVFAIL``, ``REFUSED`` ...
    rcode: str
    #: the addresses of type ``rdtype`` in the answer section (CNAME chains followed), sorted
    addresses: tuple[str, ...]

    @property
    def key(self) -> tuple[str, ...]:
        """What answers are compared by: the sorted addresses, or the rcode when there are none."""
        if self.rcode == "NOERROR" and self.addresses:
            return self.addresses
        return (self.rcode if self.rcode != "NOERROR" else "NODATA",)

    def describe(self) -> str:
        """``10.1.2.3, 10.1.2.4`` or ``NXDOMAIN`` (``NODATA``: the name exists with no such record)."""
        return ", ".join(self.key)


def parse_endpoint(endpoint: str, default_port: int = DEFAULT_DNS_PORT) -> tuple[str, int]:
    """``10.96.0.10:53``, ``[fd00::10]:53``, ``dns.example.net`` (port 53) -> (host, port).

    Raises ``ValueError`` on an empty host or a port outside 1-65535.
    """
    text = endpoint.strip()
    host, port_text = text, ""
    if text.startswith("["):
        inner, _, rest = text[1:].partition("]")
        host = inner
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{endpoint!r}: expected [ADDRESS]:PORT")
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    if not host:
        raise ValueError(f"{endpoint!r}: no host")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{endpoint!r}: port must be a number from 1 to 65535")
    return host, int(port_text)


def resolve_host(host: str, port: int, timeout: float) -> str:
    """An IP address for ``host`` (itself when it is one), resolved by the runner within ``timeout``.

    ``getaddrinfo`` has no timeout of its own, so it runs in a daemon thread
    that is abandoned, not waited for, when it is slow.
    """
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    result: list[str] = []
    failure: list[BaseException] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
            result.extend(str(info[4][0]) for info in infos)
        except OSError as exc:
            failure.append(exc)

    worker = threading.Thread(target=lookup, name=f"fleetcheck-resolve-{host}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise ProbeError(f"cannot resolve {host}: no answer within {timeout:g} s")
    if failure or not result:
        reason = f" ({failure[0]})" if failure else ""
        raise ProbeError(f"cannot resolve {host}{reason}")
    return result[0]


def resolve_name(endpoint: str, name: str, *, rdtype: str = "A", timeout: float = 3.0) -> DnsAnswer:
    """Ask the DNS server at ``endpoint`` (``host:port``) for ``name``'s ``rdtype`` records.

    One UDP query (retried over TCP when the reply is truncated), each with
    ``timeout`` seconds. Raises :class:`ProbeError` when no usable reply
    comes back, and ``ValueError`` for a malformed endpoint or name.
    """
    host, port = parse_endpoint(endpoint)
    address = resolve_host(host, port, timeout)
    qname = dns.name.from_text(name)
    qtype = dns.rdatatype.from_text(rdtype)
    query = dns.message.make_query(qname, qtype)
    where = f"DNS server {endpoint}"
    try:
        reply = dns.query.udp(query, address, port=port, timeout=timeout)
        if reply.flags & dns.flags.TC:
            reply = dns.query.tcp(query, address, port=port, timeout=timeout)
    except dns.exception.Timeout:
        raise ProbeError(f"{where} did not answer {name} {rdtype} within {timeout:g} s") from None
    except (OSError, EOFError) as exc:
        raise ProbeError(f"{where} could not be asked for {name}: {exc}") from None
    except dns.exception.DNSException as exc:
        raise ProbeError(f"{where} sent an unreadable reply for {name}: {exc}") from None
    addresses: set[str] = set()
    for rrset in reply.answer:
        if rrset.rdtype == qtype:
            addresses.update(rdata.to_text() for rdata in rrset)
    return DnsAnswer(
        name=name.rstrip(".").lower(),
        rdtype=rdtype.upper(),
        rcode=dns.rcode.to_text(reply.rcode()),
        addresses=tuple(sorted(addresses)),
    )
