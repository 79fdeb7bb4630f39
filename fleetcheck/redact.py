"""Keep credentials out of log output: a :class:`logging.Filter` that redacts them from every record.

fleetcheck holds bearer tokens and client keys for every cluster of a fleet,
and CI keeps scan logs for months. Nothing fleetcheck logs today carries a
credential (the replay server's request log records no headers; the live
client never enables the ``kubernetes`` client's own debug output, which
prints request headers with ``print``), but a log line is one careless
``%r`` of a request or an exception away from leaking one. This filter is
the second line of defence: whatever a record says, it leaves the process
without

- ``Authorization: Bearer|Basic ...`` and any ``bearer <token>``,
- ``token=...`` / ``token: ...`` / ``"token": "..."`` (also ``access_token``,
  ``id_token``, ``refresh_token``, ``password``, ``client-key-data``),
- PEM private keys, plain or base64-encoded as kubeconfigs carry them
  (``client-key-data``).

A filter attached to a logger sees only the records logged *through that
logger*, not those of its children, which propagate straight to the
handlers. :func:`install_redaction` therefore attaches one shared filter to
each named logger and to every existing descendant; the live cluster state
calls it each time it opens a cluster, so loggers created by modules
imported later are covered from then on. Redaction runs only on records
that were enabled by level, so it costs nothing unless debug logging is on.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from collections.abc import Iterable

__all__ = ["REDACTED", "RedactingFilter", "install_redaction", "redact"]

#: What a redacted value is replaced with.
REDACTED = "[REDACTED]"

#: Loggers fleetcheck's own code and the HTTP stack of the live client log through.
DEFAULT_LOGGERS: tuple[str, ...] = ("fleetcheck", "urllib3", "kubernetes")

# ``Authorization: Bearer x`` / ``'authorization': 'Basic x'`` (header dumps, dict reprs)
_AUTH_HEADER = re.compile(
    r"""(?P<head>\bauthorization['"]?\s*[:=]\s*['"]?)(?P<scheme>bearer|basic)\s+[^\s'",;}\]]+""",
    re.IGNORECASE,
)
# ``bearer <token>`` anywhere else (an error message quoting a header value)
_BEARER = re.compile(r"(?P<head>\bbearer\s+)(?!\[REDACTED\])[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE)
# ``token=x``, ``token: x``, ``"token": "x"``, ``access_token=x``, ``password: x``, ``client-key-data: x``
_KEY_VALUE = re.compile(
    r"""(?P<head>\b(?:[a-z]+[_-])?(?:token|password|secret|client-key-data)['"]?\s*[:=]\s*['"]?)"""
    r"""(?!\[REDACTED)[^\s'"&,;}\]]+""",
    re.IGNORECASE,
)
# PEM private keys of any type (RSA, EC, ENCRYPTED, OPENSSH ...), also cut short by a truncated message
_PEM_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
# base64 of a PEM document: every such blob starts with the encoding of "-----BEGIN"
_PEM_B64 = re.compile(r"LS0tLS1CRUdJT[A-Za-z0-9+/]*={0,2}")


def _drop_encoded_key(match: re.Match[str]) -> str:
    """Redact a base64 blob only when it decodes to a private key (certificates are public)."""
    blob = match.group(0)
    try:
        decoded = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=False)
    except (binascii.Error, ValueError):
        return blob
    return f"{REDACTED} (private key)" if b"PRIVATE KEY" in decoded else blob


def redact(text: str) -> str:
    """``text`` with bearer tokens, token/password values and private keys replaced by ``[REDACTED]``."""
    if not text:
        return text
    text = _PEM_KEY.sub(f"{REDACTED} (private key)", text)
    text = _PEM_B64.sub(_drop_encoded_key, text)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group('head')}{m.group('scheme')} {REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group('head')}{REDACTED}", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group('head')}{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Rewrites every record it sees so that no credential reaches a handler; never drops a record.

    The message is formatted once (``msg % args``) and redacted, and the
    arguments are dropped: a handler formatting the record later cannot
    bring the raw value back. An exception's traceback text is rendered and
    redacted the same way (``exc_text``), and the live exception object is
    detached, because its ``args`` may hold the very header being hidden.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always keep it."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug; log what we can, still redacted
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


#: The one filter fleetcheck installs, so installing twice never stacks filters.
_FILTER = RedactingFilter()
#: Clusters are opened from several threads at once (``fleetcheck clusters``, prefetching).
_INSTALL_LOCK = threading.Lock()


def _loggers_under(names: Iterable[str]) -> list[logging.Logger]:
    prefixes = tuple(names)
    found = [logging.getLogger(name) for name in prefixes]
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and any(name.startswith(prefix + ".") for prefix in prefixes):
            found.append(logger)
    return found


def install_redaction(names: Iterable[str] = DEFAULT_LOGGERS) -> RedactingFilter:
    """Attach the redacting filter to the loggers ``names`` and all their existing descendants (idempotent).

    Returns the filter, so a caller (or a test) can remove it again.
    """
    with _INSTALL_LOCK:
        for logger in _loggers_under(names):
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
    return _FILTER
