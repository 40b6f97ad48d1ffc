"""What every part of the identity layer shares: its error, a credential, a cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.domain import CallRecord, Run, Tool
from core.errors import PaddockError


class CredentialError(PaddockError):
    """No credential could be obtained for a call (unconfigured scheme, STS refusal...)."""


@dataclass(frozen=True, repr=False)
class Credential:
    """A short-lived secret for one scope. ``repr`` never shows ``secret``.

    ``secret`` holds the parts a request needs (an access key pair, a bearer token, an API
    key); ``source`` says where it came from, for ``paddock identity explain`` and logs.
    """

    secret: Mapping[str, str]
    source: str
    expires_at: float | None = None
    """Unix time after which the credential is useless; ``None`` for static secrets."""

    def __repr__(self) -> str:
        return f"Credential(source={self.source!r}, expires_at={self.expires_at!r})"


CacheKey = tuple[str, str, str]
"""(scheme, audience, policy): what a credential is good for."""


@dataclass
class CredentialCache:
    """Credentials by (scheme, audience, policy), reused until ``margin`` seconds before expiry.

    Static credentials (no expiry) are kept for ``static_ttl`` seconds, so a rotated secret
    is picked up without a restart.
    """

    margin: float = 60.0
    static_ttl: float = 300.0
    clock: Callable[[], float] = time.time
    _items: dict[CacheKey, tuple[Credential, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: CacheKey, fetch: Callable[[], Credential]) -> Credential:
        now = self.clock()
        with self._lock:
            found = self._items.get(key)
            if found is not None and now < found[1]:
                return found[0]
        credential = fetch()
        good_until = (
            now + self.static_ttl
            if credential.expires_at is None
            else credential.expires_at - self.margin
        )
        with self._lock:
            if good_until > now:
                self._items[key] = (credential, good_until)
            else:
                self._items.pop(key, None)
        return credential

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class Issued:
    """A minted capability token and its claims, or why none was minted."""

    token: str | None
    claims: dict[str, Any]
    refused: str | None = None


class CapabilityIssuer(Protocol):
    """Mints the capability token the executor demands before a call runs."""

    def issue(
        self, run: Run, step_index: int, call_index: int, call: CallRecord, tool: Tool
    ) -> Issued: ...
