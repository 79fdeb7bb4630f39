"""Certificates found in cluster objects (``caBundle`` fields), parsed without reading any Secret.

A ``caBundle`` is base64 of one or more PEM certificates. It is cluster data,
so parsing is bounded: at most ``max_bytes`` of decoded text and
``max_certs`` certificates per bundle are read, and what could not be read
is said, never silently dropped. Parsing is ``cryptography``'s.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_CERTS", "BundleCert", "ParsedBundle", "parse_ca_bundle"]

DEFAULT_MAX_CERTS = 16
DEFAULT_MAX_BYTES = 256 * 1024
_BEGIN = b"-----BEGIN CERTIFICATE-----"
_END = b"-----END CERTIFICATE-----"


@dataclass(frozen=True)
class BundleCert:
    """One certificate of a bundle: who it names and when it stops being valid."""

    subject: str
    not_after: datetime


@dataclass
class ParsedBundle:
    """What a bundle held: the certificates read, and problems (unreadable parts, limits hit)."""

    certs: list[BundleCert] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _subject(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names:
        return str(names[0].value)[:200]
    return cert.subject.rfc4514_string()[:200] or "(no subject)"


def parse_ca_bundle(
    encoded: str, *, max_certs: int = DEFAULT_MAX_CERTS, max_bytes: int = DEFAULT_MAX_BYTES
) -> ParsedBundle:
    """Parse a base64 ``caBundle`` (as the API returns it) into its certificates' subjects and expiry."""
    result = ParsedBundle()
    if len(encoded) > max_bytes * 4 // 3 + 4:
        result.problems.append(f"caBundle is larger than {max_bytes:,} bytes; not read")
        return result
    try:
        pem = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        result.problems.append("caBundle is not base64")
        return result
    start = 0
    while True:
        begin = pem.find(_BEGIN, start)
        if begin < 0:
            break
        end = pem.find(_END, begin)
        if end < 0:
            result.problems.append("caBundle ends inside a certificate")
            break
        start = end + len(_END)
        if len(result.certs) >= max_certs:
            result.problems.append(f"more than {max_certs} certificates; the rest not read")
            break
        try:
            cert = x509.load_pem_x509_certificate(pem[begin:start])
        except ValueError:
            result.problems.append("a certificate in the caBundle could not be parsed")
            continue
        result.certs.append(BundleCert(_subject(cert), cert.not_valid_after_utc.astimezone(UTC)))
    if not result.certs and not result.problems:
        result.problems.append("caBundle holds no PEM certificate")
    return result
