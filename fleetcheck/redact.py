"""The one redaction: :func:`redact` for every report and terminal line, a :class:`logging.Filter` for logs.

fleetcheck holds bearer tokens and client keys for every cluster of a fleet,
and CI keeps scan logs for months. Nothing fleetcheck logs today carries a
credential (the replay server's request log records no headers; the live
client never enables the ``kubernetes`` client's own debug output, which
prints request headers with ``print``), but a log line is one careless
``%r`` of a request or an exception away from leaking one. This filter is
the second line of defence: whatever a record says, it leaves the process
without

- ``Authorization: Bearer|Basic ...`` and any ``bearer <token>``,
- URL userinfo (``https://user:pass@host`` -> ``https://[REDACTED]@host``),
- credential query parameters (``?api_key=``, ``&sig=``, ``X-Amz-Signature=``,
  Azure SAS ``sv``/``se``/``sig`` ...): the name stays, the value goes,
- ``name=value`` / ``name: value`` / ``"name": "value"`` secrets: ``token``,
  ``password``, ``passwd``, ``secret``, ``client_secret``, ``api-key``,
  ``private_key``, ``aws_secret_access_key``, ``aws_session_token`` ... (any
  ``prefix_`` or ``prefix-`` in front, any case),
- PEM private keys, plain or base64-encoded as kubeconfigs carry them
  (``client-key-data``),
- the run's own credentials, verbatim, whatever surrounds them
  (:func:`register_secret`).

The same :func:`redact` runs on every message, object reference and label a
report or the terminal shows (``fleetcheck.plugin`` applies it once, where a
verdict record is made), so cluster data that quotes a credential (a
remote-write URL with a password, a storage location's status echoing an
access key, a 401 body echoing the bearer token) is cut before any output.
Every pattern is linear in the text: repetitions are bounded and anchored
on a literal or a boundary, so an ordinary message costs microseconds and a
hostile 4 MB one well under a second (0.1-0.5 s measured), never a
catastrophic backtrack (``tests/security/test_leaks.py`` times it).

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

__all__ = ["REDACTED", "RedactingFilter", "install_redaction", "redact", "register_secret"]

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
# names whose value is a credential; any ``prefix_``/``prefix-`` may precede (``aws_session_token``, ``db-password``),
# since only a letter or digit before the name stops a match
_SECRET_NAMES = (
    r"(?:aws_secret_access_key|secret_access_key|session_token|client_secret|private[_-]?key|api[_-]?key"
    r"|access[_-]?key|password|passwd|pwd|secret|token|client-key-data)"
)
# ``token=x``, ``token: x``, ``"token": "x"``, ``access_token=x``, ``password: x``, ``AWS_SECRET_ACCESS_KEY=x``
_KEY_VALUE = re.compile(
    r"""(?P<head>(?<![A-Za-z0-9])""" + _SECRET_NAMES + r"""['"]?\s{0,8}[:=]\s{0,8}['"]?)(?!\[REDACTED)[^\s'"&,;}\]]+""",
    re.IGNORECASE,
)
# ``scheme://user:pass@host``: the whole userinfo goes (a lone token before ``@`` is a credential too);
# ``docker-pullable://nginx@sha256:...`` (a container's imageID) is a digest, not a login
_USERINFO = re.compile(r"(?P<head>://)(?!\[REDACTED\]@)[^/\s@?#'\"<>\\]{1,4096}(?=@(?!sha256:|sha512:))")
# credential query parameters of signed and authenticated URLs (S3, GCS, Azure SAS, API keys); the name stays
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&;](?:token|access_token|id_token|refresh_token|auth_token|api_key|apikey|api-key|key|password"
    r"|passwd|pwd|secret|client_secret|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token"
    r"|x-goog-signature|x-goog-credential|sv|se|sas)=)(?!\[REDACTED)[^&#\s'\"<>]+",
    re.IGNORECASE,
)
# PEM private keys of any type (RSA, EC, ENCRYPTED, OPENSSH ...), also cut short by a truncated message
_PEM_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|\Z)",
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


#: credentials this run holds (bearer tokens, passwords, client keys): redacted wherever they appear, in any form
_RUN_SECRETS: set[str] = set()
_RUN_SECRETS_LOCK = threading.Lock()
#: shorter values are too likely to occur in ordinary text to be replaced blindly
_MIN_SECRET_LENGTH = 8


def register_secret(value: str | bytes | None) -> None:
    """Remember a credential of this run, so :func:`redact` removes it verbatim from any text.

    The patterns below catch credentials by their shape; this catches the run's own
    tokens and keys whatever surrounds them (an API server or proxy echoing the
    bearer token in a 401 body, an exec plugin printing it on stderr).
    """
    if value is None:
        return
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    with _RUN_SECRETS_LOCK:
        for line in text.splitlines() or [text]:
            line = line.strip()
            if len(line) >= _MIN_SECRET_LENGTH and not line.startswith("-----"):
                _RUN_SECRETS.add(line)


def _drop_run_secrets(text: str) -> str:
    with _RUN_SECRETS_LOCK:
        secrets = sorted(_RUN_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _keep_head(match: re.Match[str]) -> str:
    return f"{match.group('head')}{REDACTED}"


def redact(text: str) -> str:
    """``text`` with every credential the module docstring lists replaced by ``[REDACTED]``.

    Idempotent (``redact(redact(t)) == redact(t)``), so a layer that redacts
    again, or a log line quoting a redacted message, changes nothing.
    """
    if not text:
        return text
    text = _drop_run_secrets(text)
    if "PRIVATE KEY" in text:
        text = _PEM_KEY.sub(f"{REDACTED} (private key)", text)
    if "LS0tLS1CRUdJT" in text:
        text = _PEM_B64.sub(_drop_encoded_key, text)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group('head')}{m.group('scheme')} {REDACTED}", text)
    text = _BEARER.sub(_keep_head, text)
    if "://" in text:
        text = _USERINFO.sub(_keep_head, text)
    if "=" in text:
        text = _QUERY_SECRET.sub(_keep_head, text)
    return _KEY_VALUE.sub(_keep_head, text)


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
