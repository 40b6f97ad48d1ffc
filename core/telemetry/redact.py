"""Redaction: secrets and (optionally) personal data never reach spans or logs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_SECRET_KEYS = re.compile(
    r"(authorization|api[-_]?key|x-api-key|token|secret|password|passwd|credential|"
    r"signature|cookie|session|private[-_]?key|client[-_]?secret|x-amz-security-token)",
    re.IGNORECASE)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("bearer", re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
    ("aws_key", re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("aws_sig", re.compile(r"Signature=[0-9a-f]{64}")),
    ("openai_key", re.compile(r"\bsk-[A-Za-z0-9_-]{16,}")),
    ("secret_assign", re.compile(
        r"(?i)\b(api[_-]?key|secret|password|token)\s*[:=]\s*['\"]?[^\s'\",;]{6,}")),
]
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")

MASK = "[REDACTED]"


@dataclass(frozen=True)
class Redactor:
    """Masks secrets always; e-mail addresses and IBANs when configured (default on)."""

    personal_data: bool = True
    max_text: int | None = 4000

    def text(self, value: str) -> str:
        for _, pattern in _PATTERNS:
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
        return {k: (MASK if _SECRET_KEYS.search(k) else self.text(v))
                for k, v in headers.items()}


DEFAULT_REDACTOR = Redactor()
