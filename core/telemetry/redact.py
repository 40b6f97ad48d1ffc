"""Redaction: secrets and (optionally) personal data never reach spans or logs."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

_SECRET_KEYS = re.compile(
    r"(authorization|api[-_]?key|x-api-key|token|secret|password|passwd|credential|"
    r"signature|cookie|session|private[-_]?key|client[-_]?secret|x-amz-security-token)",
    re.IGNORECASE,
)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("bearer", re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
    ("aws_key", re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("aws_sig", re.compile(r"Signature=[0-9a-f]{64}")),
    ("openai_key", re.compile(r"\bsk-[A-Za-z0-9_-]{16,}")),
    ("azure_key", re.compile(r"(?i)\b(AccountKey|SharedAccessKey|sig)=[A-Za-z0-9%+/=]{16,}")),
    (
        "secret_assign",
        re.compile(r"(?i)\b(api[_-]?key|secret|password|token)\s*[:=]\s*['\"]?[^\s'\",;]{6,}"),
    ),
]
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")

MASK = "[REDACTED]"


@dataclass(frozen=True)
class Redactor:
    """Masks secrets always; e-mail addresses and IBANs when ``personal_data`` (default on).

    Args:
        personal_data: also mask e-mail addresses (``[EMAIL]``) and IBANs (``[IBAN]``).
        max_text: texts longer than this are cut (``None``: never).
        extra_patterns: more regular expressions whose matches are masked (customer ids...).
    """

    personal_data: bool = True
    max_text: int | None = 4000
    extra_patterns: tuple[re.Pattern[str], ...] = field(default=())

    @classmethod
    def with_patterns(cls, patterns: Iterable[str], **kw: Any) -> Redactor:
        """A redactor that also masks ``patterns``; raises ``re.error`` for a bad one."""
        return cls(extra_patterns=tuple(re.compile(p) for p in patterns if p), **kw)

    def text(self, value: str) -> str:
        for _, pattern in _PATTERNS:
            value = pattern.sub(MASK, value)
        for pattern in self.extra_patterns:
            value = pattern.sub(MASK, value)
        if self.personal_data:
            value = _EMAIL.sub("[EMAIL]", value)
            value = _IBAN.sub("[IBAN]", value)
        if self.max_text is not None and len(value) > self.max_text:
            value = value[: self.max_text] + "…[truncated]"
        return value

    def value(self, value: Any, key: str | None = None) -> Any:
        """Redact a JSON-like value; keys that name secrets hide their whole value."""
        if key is not None and _SECRET_KEYS.search(key):
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        return {k: (MASK if _SECRET_KEYS.search(k) else self.text(v)) for k, v in headers.items()}


DEFAULT_REDACTOR = Redactor()

_installed: Redactor | None = None
_previous: Callable[..., logging.LogRecord] | None = None
_install_lock = threading.Lock()


def install_log_redaction(redactor: Redactor = DEFAULT_REDACTOR) -> None:
    """Redact every log record of the process as it is created, whichever handler or
    formatter (Powertools JSON, Azure Functions host, plain text) prints it later.

    The message is formatted and redacted once; exception text is redacted into
    ``exc_text`` and the raw ``exc_info`` dropped, so no formatter can print it unmasked.
    Calling it again only swaps the redactor.
    """
    global _installed, _previous
    with _install_lock:
        first = _installed is None
        _installed = redactor
        if not first:
            return
        make: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
        _previous = make

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make(*args, **kwargs)
            active = _installed
            if active is not None:
                redact_record(record, active)
            return record

        logging.setLogRecordFactory(factory)


def uninstall_log_redaction() -> None:
    """Undo ``install_log_redaction`` (tests; a process normally keeps it)."""
    global _installed, _previous
    with _install_lock:
        if _previous is not None:
            logging.setLogRecordFactory(_previous)
        _installed = None
        _previous = None


class RedactedError(Exception):
    """Stands in for a logged exception: its type name and redacted message, its traceback."""


def redact_record(record: logging.LogRecord, redactor: Redactor) -> None:
    """Rewrite ``record`` in place: message, arguments and exception redacted.

    The exception becomes a ``RedactedError`` with the original traceback (frames hold code,
    not values) and no chained causes, so a formatter that prints ``exc_info`` itself prints
    nothing unmasked; ``exc_text`` holds the redacted text for the standard formatter.
    """
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = str(record.msg)
    record.msg = redactor.text(message)
    record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        kind, exc, tb = record.exc_info
        text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = redactor.text(text)
        name = kind.__name__ if kind is not None else "Exception"
        safe = RedactedError(f"{name}: {redactor.text(str(exc))}")
        record.exc_info = (RedactedError, safe, tb)
