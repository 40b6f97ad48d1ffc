"""Which calls the HTTP executor may try again (how long to wait is ``core.retry``'s)."""

from __future__ import annotations

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
RETRY_AFTER_STATUS = frozenset({429, 503})
