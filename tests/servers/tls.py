"""TLS material for the test servers: the replay server's own CA generator, written to PEM files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fleetcheck.replay.certs import generate_tls

__all__ = ["write_tls"]


def write_tls(folder: Path, validity: timedelta = timedelta(hours=1)) -> tuple[Path, Path, Path]:
    """A fresh CA and a server certificate for 127.0.0.1 and localhost: (ca, cert, key) files under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    material = generate_tls(validity)
    ca, cert, key = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    ca.write_bytes(material.ca_pem)
    cert.write_bytes(material.cert_pem)
    key.write_bytes(material.key_pem)
    key.chmod(0o600)
    return ca, cert, key
