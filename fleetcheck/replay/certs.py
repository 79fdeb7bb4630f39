"""A throw-away certificate authority and server certificate for the replay server.

Clients of the replay server (the official ``kubernetes`` client, ``kubectl``)
verify TLS exactly as against a real API server, so the server needs a
certificate that chains to a CA the kubeconfig names. Both are made fresh at
every start, live for a day at most, and never touch a disk except for the
moment :mod:`ssl` needs them as files (see :func:`server_ssl_context`).
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["SERVED_VALIDITY", "TLSMaterial", "generate_tls", "server_ssl_context"]

#: Long enough for a scan or a benchmark, short enough that a leaked CA is useless soon.
DEFAULT_VALIDITY = timedelta(hours=24)
#: What :class:`~fleetcheck.replay.server.ReplayServer` serves by default: a year, as kubeadm's API server
#: certificate, so FC-CERT-003 (the serving certificate's expiry) judges a replayed cluster as a healthy one.
#: The CA's key is never kept (it signs once, in memory) and the server key lives only in the server's memory,
#: so the longer life gives a leak nothing more. Tests pass a short ``tls_validity`` to serve one expiring soon.
SERVED_VALIDITY = timedelta(days=365)


@dataclass(frozen=True)
class TLSMaterial:
    """A CA certificate and a server certificate + key it signed, all PEM."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes = field(repr=False)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fleetcheck replay"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def generate_tls(validity: timedelta = DEFAULT_VALIDITY) -> TLSMaterial:
    """Make a CA and a server certificate for ``127.0.0.1`` (IP SAN) and ``localhost`` (DNS SAN).

    ECDSA P-256 keys: generated in microseconds (RSA takes tens of
    milliseconds per key) and accepted by Python's ``ssl`` and Go's
    ``crypto/tls`` alike. The start is back-dated a minute so that a client
    whose clock is slightly behind still accepts the certificate.
    """
    now = datetime.now(UTC)
    not_before = now - timedelta(minutes=1)
    not_after = now + validity

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("fleetcheck replay CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    return TLSMaterial(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def server_ssl_context(material: TLSMaterial) -> ssl.SSLContext:
    """A server-side TLS context holding ``material``'s certificate chain.

    :meth:`ssl.SSLContext.load_cert_chain` only reads files, so the PEMs are
    written to a private (0700) temporary folder and removed as soon as they
    are loaded: nothing is left on disk while the server runs.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="fleetcheck-replay-tls-") as folder:
        chain = Path(folder) / "server.pem"
        fd = os.open(chain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(material.key_pem + material.cert_pem + material.ca_pem)
        context.load_cert_chain(chain)
    return context
