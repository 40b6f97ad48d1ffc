"""The HTTP executor: one validated tool call as a real request, fenced to the tool's host.

It runs tools with an ``HttpBinding`` (any other binding is refused). Behaviour in short:

* The URL is the tool's base URL plus its path template; path values are percent-escaped and
  ``.``, ``..``, empty values and values with ``/`` or ``\\`` are refused, so no value can leave
  the templated path. The built URL (and again after the authorizer ran) must have the base
  URL's scheme, host and port and stay under its path, or nothing is sent.
* Redirects: a ``GET``/``HEAD`` follows a redirect only when its target passes the same check
  (at most ``max_redirects`` hops, re-authorized each hop). A redirect anywhere else is not
  followed and the result carries ``redirect to <target> refused``; a redirect answering any
  other method is returned as an error, never re-sent.
* Writes (tools whose side effect is not ``read``) always carry ``Idempotency-Key`` (the
  context's, else :func:`~core.domain.idempotency_key`); any call carrying one
  is safe to retry, as are ``GET``/``HEAD``. Safe calls are retried with exponential backoff
  on timeouts, connection errors, 408/429/500/502/503/504. A connection that could not be
  made is retried for every call, since nothing was sent.
* ``Retry-After`` on 429/503 (seconds, HTTP date, or ``retry-after-ms``) is waited when at most
  ``max_retry_wait``; otherwise the result comes back at once with ``retry_after`` set.
* The body is streamed within ``max_response_bytes``, parsed (JSON, else text) and validated
  against ``tool.response_schema(status)`` (JSON Schema 2020-12, errors with JSON paths).
* Capability tokens on the wire (``capability_header``): every request sent carries a token
  of its own. The first carries the context's (verified before anything is sent); each later
  one (a retry, a redirect hop) a token freshly minted by ``ctx.renew_capability`` and
  verified again, so a service that refuses a token seen before (``core.identity.replay``)
  still accepts legitimate retries. Without a renewer the same token is presented again.
* Error messages name the origin and path, never the query string or headers, so
  credentials an authorizer adds cannot leak into results, traces or logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import httpx

from core.domain import SideEffect, Tool, idempotency_key
from core.errors import ConfigError, ExecutionError, PaddockError
from core.execution._response import parse_body, read_bounded, response_headers
from core.execution._retry import RETRY_AFTER_STATUS, RETRYABLE_STATUS, SAFE_METHODS
from core.execution._schema import validate_body
from core.execution._wire import (
    WireRequest,
    base_url_of,
    build_wire,
    http_binding,
    origin,
    safe_target,
    target_refusal,
)
from core.execution.base import CallContext, ExecutionResult, refused
from core.execution.hooks import AcceptAllVerifier, CallVerifier, NoAuthorizer, RequestAuthorizer
from core.retry import next_wait, retry_after_header

_FOLLOWABLE = frozenset({"GET", "HEAD"})


@dataclass
class _Call:
    tool: Tool
    args: dict[str, Any]
    ctx: CallContext
    wire: WireRequest
    base: httpx.URL
    safe: bool
    presented: int = 0


class HttpExecutor:
    """Runs tool calls over HTTP with httpx; see the module docstring for the rules.

    Args:
        client: an ``httpx.Client`` to send with (its redirect setting is ignored: every
            request is sent with redirects off). By default one is built that ignores proxy
            environment variables, and closed by :meth:`close`.
        connect_timeout: seconds to establish a connection.
        read_timeout: seconds to wait for each chunk of the response (and to write).
        max_attempts: attempts per call, including the first.
        backoff_base: the first backoff delay in seconds; it doubles per attempt (jittered).
        max_retry_wait: the longest wait (backoff or ``Retry-After``) spent in-process.
        max_response_bytes: bodies larger than this become an error.
        authorizer: adds credentials to each outgoing request (default: none).
        verifier: checks each call before anything is sent (default: accept all).
        max_redirects: same-origin redirect hops a ``GET``/``HEAD`` may follow.
        capability_header: present the call's capability token to the service in this
            header (e.g. ``CAPABILITY_HEADER``), a fresh one per request; default: not sent.
        sleep: how to wait between attempts (default ``time.sleep``).
    """

    def __init__(
        self,
        *,
        client: httpx.Client | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 3,
        backoff_base: float = 0.2,
        max_retry_wait: float = 5.0,
        max_response_bytes: int = 5_000_000,
        authorizer: RequestAuthorizer | None = None,
        verifier: CallVerifier | None = None,
        max_redirects: int = 3,
        capability_header: str | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if max_attempts < 1 or max_response_bytes < 0 or max_redirects < 0:
            raise ConfigError("max_attempts must be >= 1; byte and redirect limits >= 0")
        if min(connect_timeout, read_timeout, backoff_base, max_retry_wait) < 0:
            raise ConfigError("timeouts and waits must not be negative")
        self._owns_client = client is None
        self._client = client or httpx.Client(trust_env=False, follow_redirects=False)
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._max_retry_wait = max_retry_wait
        self._max_bytes = max_response_bytes
        self._max_redirects = max_redirects
        self._authorizer: RequestAuthorizer = authorizer or NoAuthorizer()
        self._verifier: CallVerifier = verifier or AcceptAllVerifier()
        self._capability_header = capability_header
        self._sleep = sleep or time.sleep

    def execute(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> ExecutionResult:
        """Run the call; refusals, network and HTTP failures come back in the result."""
        started = time.monotonic()
        result = self._execute(tool, args, ctx)
        result.elapsed_ms = round((time.monotonic() - started) * 1000, 3)
        return result

    def close(self) -> None:
        """Close the HTTP client if this executor built it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> HttpExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _execute(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> ExecutionResult:
        reason = self._verifier.verify(tool, args, ctx)
        if reason is not None:
            return refused(reason)
        try:
            call = self._prepare(tool, args, ctx)
        except ExecutionError as exc:
            return refused(exc.message)
        for attempt in range(1, self._max_attempts + 1):
            result = self._attempt(call)
            result.attempts = attempt if result.refused is None else attempt - 1
            wait = self._wait_before_retry(result, attempt)
            if wait is None:
                return result
            self._sleep(wait)
        return result

    def _prepare(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> _Call:
        wire = build_wire(tool, args)
        key = ctx.idempotency_key
        if key is None and tool.side_effect is not SideEffect.READ:
            key = idempotency_key(ctx.run_id, ctx.step_index, ctx.call_index)
        if key is not None:
            wire.headers["Idempotency-Key"] = key
        if ctx.traceparent:
            wire.headers["traceparent"] = ctx.traceparent
        safe = wire.method in SAFE_METHODS or key is not None
        base = base_url_of(http_binding(tool))
        return _Call(tool=tool, args=args, ctx=ctx, wire=wire, base=base, safe=safe)

    def _wait_before_retry(self, result: ExecutionResult, attempt: int) -> float | None:
        """Seconds to wait before trying again, or ``None`` to return ``result`` now."""
        if not result.retryable:
            return None
        return next_wait(
            attempt,
            attempts=self._max_attempts,
            retry_after=result.retry_after,
            max_wait=self._max_retry_wait,
            base=self._backoff_base,
            cap=self._max_retry_wait,
        )

    def _attempt(self, call: _Call) -> ExecutionResult:
        """One attempt, following same-origin redirects of a GET/HEAD."""
        url, with_params = call.wire.url, True
        for _hop in range(self._max_redirects + 1):
            request = self._build(call, url, with_params)
            failure = self._present(call, request) or self._authorize(call, request)
            if failure is not None:
                return failure
            result, location = self._send(call, request)
            if location is None:
                return result
            target = request.url.join(location)
            reason = target_refusal(call.base, target)
            if reason is not None:
                result.error = f"redirect to {safe_target(target)} refused: {reason}"
                return result
            if call.wire.method not in _FOLLOWABLE:
                result.error = (
                    f"redirect to {safe_target(target)} not followed for {call.wire.method}"
                )
                return result
            url, with_params = target, False
        result.error = f"more than {self._max_redirects} redirects"
        return result

    def _build(self, call: _Call, url: httpx.URL, first: bool) -> httpx.Request:
        wire = call.wire
        if not first:  # a redirect hop: the target URL carries its own query, no body
            headers = {k: v for k, v in wire.headers.items() if k.lower() != "content-type"}
            return self._client.build_request(
                wire.method, url, headers=headers, timeout=self._timeout
            )
        return self._client.build_request(
            wire.method, url, headers=wire.headers, content=wire.content, timeout=self._timeout
        )

    def _present(self, call: _Call, request: httpx.Request) -> ExecutionResult | None:
        """Put a capability token on ``request``: the verified one first, then fresh ones."""
        token = call.ctx.capability_token
        if self._capability_header is None or token is None:
            return None
        if call.presented and call.ctx.renew_capability is not None:
            token = call.ctx.renew_capability()
            reason = self._verifier.verify(
                call.tool, call.args, replace(call.ctx, capability_token=token)
            )
            if reason is not None or token is None:
                return refused(reason or "capability token missing")
        call.presented += 1
        request.headers[self._capability_header] = token
        return None

    def _authorize(self, call: _Call, request: httpx.Request) -> ExecutionResult | None:
        try:
            self._authorizer.authorize(call.tool, request, call.ctx)
        except PaddockError as exc:
            return ExecutionResult(
                error=f"authorization failed: {exc.message}",
                retryable=exc.retryable,
                retry_after=exc.retry_after,
            )
        reason = target_refusal(call.base, request.url)
        return refused(reason) if reason is not None else None

    def _send(self, call: _Call, request: httpx.Request) -> tuple[ExecutionResult, str | None]:
        """Send and read; returns the result and, for a redirect, its ``Location``."""
        try:
            response = self._client.send(request, stream=True, follow_redirects=False)
        except httpx.RequestError as exc:
            return self._transport_failure(call, request, exc), None
        try:
            return self._read(call, request, response)
        except httpx.RequestError as exc:
            return self._transport_failure(call, request, exc), None
        finally:
            response.close()

    def _read(
        self, call: _Call, request: httpx.Request, response: httpx.Response
    ) -> tuple[ExecutionResult, str | None]:
        status = response.status_code
        result = ExecutionResult(status_code=status, headers=response_headers(response))
        if status in RETRY_AFTER_STATUS:
            result.retry_after = retry_after_header(result.headers)
        result.retryable = call.safe and status in RETRYABLE_STATUS
        location = result.headers.get("location")
        if 300 <= status < 400 and status != 304 and location:
            return result, location
        try:
            data = b"" if request.method == "HEAD" else read_bounded(response, self._max_bytes)
        except ExecutionError as exc:
            result.error = exc.message
            return result, None
        result.body = parse_body(response, data)
        schema = call.tool.response_schema(status)
        if schema is not None and request.method != "HEAD":
            result.valid, result.validation_errors = validate_body(schema, result.body)
        return result, None

    def _transport_failure(
        self, call: _Call, request: httpx.Request, exc: httpx.RequestError
    ) -> ExecutionResult:
        where = safe_target(request.url)
        if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
            message = f"connect timeout after {self._connect_timeout}s to {origin(request.url)}"
            return ExecutionResult(error=message, retryable=True, attempts=1)
        if isinstance(exc, httpx.ConnectError):
            return ExecutionResult(
                error=f"connection to {origin(request.url)} failed: {exc}", retryable=True
            )
        if isinstance(exc, httpx.TimeoutException):
            message = f"{_timeout_kind(exc)} timeout after {self._read_timeout}s on {where}"
            return ExecutionResult(error=message, retryable=call.safe)
        return ExecutionResult(error=f"{type(exc).__name__} on {where}: {exc}", retryable=call.safe)


def _timeout_kind(exc: httpx.TimeoutException) -> str:
    return "write" if isinstance(exc, httpx.WriteTimeout) else "read"
