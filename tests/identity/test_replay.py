"""Replay protection: a capability token is accepted once, by the executor and by services.

The attacks replay captured requests byte for byte to real local services on 127.0.0.1; the
shared store is checked across two verifier replicas on every ``RunStore`` backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.domain import CallRecord, CallStatus, Decision, Run, Tool, Verdict
from core.execution.base import CallContext
from core.execution.hooks import CAPABILITY_HEADER
from core.execution.http import HttpExecutor
from core.identity import CapabilityMinter, CapabilityVerifier, KeyRing
from core.identity.replay import JtiUse, MemoryJtiStore, RunStoreJtiStore
from core.state.base import RunStore
from paddock.local.servers import LocalServer
from paddock.local.verify import RequestVerifier, capability_verifier
from tests.identity.backend import GuardedBackend, tool

ARGS = {"item_id": "A-1"}
REPLAYED = "capability token already used (replay refused)"
FULL = "capability token replay store is full (refused until entries expire)"


@pytest.fixture()
def keys() -> KeyRing:
    return KeyRing.generate(kid="k-replay")


def _ctx(
    keys: KeyRing, target: Tool, *, renew: bool = True, args: dict[str, Any] | None = None
) -> CallContext:
    """A call context with a fresh token, able to mint more for the same call."""
    minter = CapabilityMinter(keys)
    run = Run(id="run_replay", goal="test", tenant="acme")
    call = CallRecord(
        call_id="c1",
        tool=target.name,
        args=dict(args or ARGS),
        status=CallStatus.APPROVED,
        decision=Decision(id="dec_1", verdict=Verdict.ALLOW),
    )

    def mint() -> str | None:
        return minter.issue(run, 0, 0, call, target).token

    return CallContext(
        run_id=run.id,
        step_index=0,
        call_index=0,
        tenant="acme",
        capability_token=mint(),
        renew_capability=mint if renew else None,
    )


def _executor(keys: KeyRing, **kwargs: Any) -> HttpExecutor:
    return HttpExecutor(
        verifier=CapabilityVerifier(keys.verifying()), capability_header=CAPABILITY_HEADER, **kwargs
    )


def _replay(
    url: str, method: str, path: str, headers: dict[str, str], body: bytes
) -> httpx.Response:
    """Send a captured request again, exactly (the attacker's move)."""
    sent = {k: v for k, v in headers.items() if k not in ("host", "content-length")}
    with httpx.Client(trust_env=False) as client:
        return client.request(method, url.rstrip("/") + path, headers=sent, content=body)


def _jti(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["jti"])


# -- the stores ---------------------------------------------------------------------------


def test_memory_store_remembers_until_expiry_and_purges() -> None:
    seen = MemoryJtiStore()
    assert seen.use("a", expires_at=110.0, now=100.0) is JtiUse.FIRST
    assert seen.use("a", expires_at=110.0, now=105.0) is JtiUse.REPLAY
    assert seen.use("b", expires_at=130.0, now=105.0) is JtiUse.FIRST
    assert len(seen) == 2
    assert seen.use("c", expires_at=140.0, now=111.0) is JtiUse.FIRST
    assert len(seen) == 2  # "a" expired and was dropped


def test_memory_store_at_its_cap_fails_closed_until_entries_expire() -> None:
    seen = MemoryJtiStore(max_entries=2)
    assert seen.use("a", expires_at=110.0, now=100.0) is JtiUse.FIRST
    assert seen.use("b", expires_at=120.0, now=100.0) is JtiUse.FIRST
    assert seen.use("c", expires_at=120.0, now=101.0) is JtiUse.FULL
    assert seen.use("a", expires_at=110.0, now=101.0) is JtiUse.REPLAY  # still refused
    assert seen.use("c", expires_at=130.0, now=110.0) is JtiUse.FIRST  # "a" made room
    assert len(seen) == 2


def test_shared_store_is_one_memory_for_two_replicas(store: RunStore) -> None:
    first, second = (RunStoreJtiStore(store, namespace="svc") for _ in range(2))
    assert first.use("jti-1", expires_at=1e10, now=1e10 - 60) is JtiUse.FIRST
    assert second.use("jti-1", expires_at=1e10, now=1e10 - 59) is JtiUse.REPLAY
    assert first.use("jti-1", expires_at=1e10, now=1e10 - 58) is JtiUse.REPLAY
    assert second.use("jti-2", expires_at=1e10, now=1e10 - 58) is JtiUse.FIRST
    other = RunStoreJtiStore(store, namespace="executor")  # its own check of the same tokens
    assert other.use("jti-1", expires_at=1e10, now=1e10 - 57) is JtiUse.FIRST


def test_shared_store_cap_fails_closed() -> None:
    from core.state.memory import MemoryStore

    seen = RunStoreJtiStore(MemoryStore(), namespace="svc", max_entries=1)
    assert seen.use("a", expires_at=200.0, now=100.0) is JtiUse.FIRST
    assert seen.use("b", expires_at=200.0, now=100.0) is JtiUse.FULL
    assert seen.use("b", expires_at=300.0, now=201.0) is JtiUse.FIRST


def test_a_store_error_refuses(keys: KeyRing) -> None:
    from core.errors import BackendError

    class Broken:
        def use(self, jti: str, *, expires_at: float, now: float) -> JtiUse:
            raise BackendError("table unreachable")

    verifier = CapabilityVerifier(keys.verifying(), seen=Broken())
    target = tool("http://127.0.0.1:9")
    assert (
        verifier.verify(target, ARGS, _ctx(keys, target))
        == "capability token replay check unavailable: table unreachable"
    )


# -- the executor ---------------------------------------------------------------------------


def test_the_executor_accepts_a_token_once(backend: GuardedBackend, keys: KeyRing) -> None:
    target = tool(backend.url)
    ctx = _ctx(keys, target)
    with HttpExecutor(verifier=CapabilityVerifier(keys.verifying())) as executor:
        assert executor.execute(target, ARGS, ctx).refused is None
        again = executor.execute(target, ARGS, ctx)
    assert again.refused == REPLAYED and again.attempts == 0
    assert len(backend.seen) == 1


def test_the_executor_cap_fails_closed(backend: GuardedBackend, keys: KeyRing) -> None:
    target = tool(backend.url)
    verifier = CapabilityVerifier(keys.verifying(), seen=MemoryJtiStore(max_entries=1))
    with HttpExecutor(verifier=verifier) as executor:
        assert executor.execute(target, ARGS, _ctx(keys, target)).refused is None
        assert executor.execute(target, ARGS, _ctx(keys, target)).refused == FULL
    assert len(backend.seen) == 1


# -- services ---------------------------------------------------------------------------------


@pytest.fixture()
def guarded(keys: KeyRing) -> Iterator[GuardedBackend]:
    server = GuardedBackend(capability_verifier(keys.verifying())).start()
    yield server
    server.stop()


def test_a_replayed_request_is_refused_by_the_service(
    guarded: GuardedBackend, keys: KeyRing
) -> None:
    target = tool(guarded.url, name="put_item", method="PUT")
    args = {**ARGS, "body": {"n": 1}}
    with _executor(keys) as executor:
        result = executor.execute(target, args, _ctx(keys, target, args=args))
    assert result.status_code == 200
    [first] = guarded.seen
    assert first.headers[CAPABILITY_HEADER.lower()]
    answer = _replay(guarded.url, first.method, first.path, first.headers, first.body)
    assert answer.status_code == 401 and answer.json()["message"] == REPLAYED
    assert [s.refused for s in guarded.seen] == [None, REPLAYED]


def test_without_a_token_or_with_a_forged_one_the_service_refuses(
    guarded: GuardedBackend, keys: KeyRing
) -> None:
    target = tool(guarded.url)
    with HttpExecutor() as plain:  # presents nothing
        assert plain.execute(target, ARGS, _ctx(keys, target)).status_code == 401
    forged = _ctx(KeyRing.generate(kid="k-replay"), target)  # same kid, other key
    with HttpExecutor(capability_header=CAPABILITY_HEADER) as executor:
        assert executor.execute(target, ARGS, forged).status_code == 401
    assert [s.refused for s in guarded.seen] == [
        "capability token missing",
        "capability token signature invalid",
    ]


def test_the_service_cap_fails_closed(keys: KeyRing) -> None:
    server = GuardedBackend(
        capability_verifier(keys.verifying(), seen=MemoryJtiStore(max_entries=1))
    ).start()
    try:
        target = tool(server.url)
        with _executor(keys) as executor:
            assert executor.execute(target, ARGS, _ctx(keys, target)).status_code == 200
            assert executor.execute(target, ARGS, _ctx(keys, target)).status_code == 401
    finally:
        server.stop()
    assert [s.refused for s in server.seen] == [None, FULL]


def test_two_replicas_share_what_they_have_seen(store: RunStore, keys: KeyRing) -> None:
    replicas = [
        GuardedBackend(
            capability_verifier(keys.verifying(), seen=RunStoreJtiStore(store, namespace="items"))
        ).start()
        for _ in range(2)
    ]
    try:
        a, b = replicas
        target = tool(a.url)
        with _executor(keys) as executor:
            assert executor.execute(target, ARGS, _ctx(keys, target)).status_code == 200
        [captured] = a.seen
        answer = _replay(b.url, captured.method, captured.path, captured.headers, captured.body)
        assert answer.status_code == 401 and answer.json()["message"] == REPLAYED
        with _executor(keys) as executor:  # a fresh, legitimate call to the other replica
            assert executor.execute(tool(b.url), ARGS, _ctx(keys, tool(b.url))).status_code == 200
    finally:
        for replica in replicas:
            replica.stop()
    assert [s.refused for s in b.seen] == [REPLAYED, None]


# -- legitimate retries -------------------------------------------------------------------


class Flaky:
    """Checks capability tokens, then answers 503 to the first accepted request, 200 after."""

    def __init__(self, check: RequestVerifier) -> None:
        self.check = check
        self.tokens: list[str] = []
        self.answers: list[int] = []
        self.server = LocalServer(
            Starlette(routes=[Route("/{rest:path}", self._handle)]), name="flaky"
        ).start()

    async def _handle(self, request: Request) -> Response:
        self.tokens.append(request.headers.get(CAPABILITY_HEADER, ""))
        reason = await self.check(request)
        status = 401 if reason is not None else 503 if 503 not in self.answers else 200
        self.answers.append(status)
        return JSONResponse({"message": reason}, status_code=status)


@pytest.fixture()
def flaky(keys: KeyRing) -> Iterator[Flaky]:
    service = Flaky(capability_verifier(keys.verifying()))
    yield service
    service.server.stop()


def _retrying(keys: KeyRing) -> HttpExecutor:
    no_wait: Callable[[float], None] = lambda _seconds: None  # noqa: E731
    return _executor(keys, max_attempts=3, backoff_base=0.0, sleep=no_wait)


def test_a_retry_presents_a_fresh_token_and_is_accepted(flaky: Flaky, keys: KeyRing) -> None:
    target = tool(flaky.server.url)
    with _retrying(keys) as executor:
        result = executor.execute(target, ARGS, _ctx(keys, target))
    assert (result.status_code, result.attempts) == (200, 2)
    assert flaky.answers == [503, 200]
    assert len({_jti(t) for t in flaky.tokens}) == 2


def test_without_a_renewer_the_retry_is_a_replay(flaky: Flaky, keys: KeyRing) -> None:
    target = tool(flaky.server.url)
    with _retrying(keys) as executor:
        result = executor.execute(target, ARGS, _ctx(keys, target, renew=False))
    assert result.status_code == 401 and flaky.answers == [503, 401]


def test_a_renewed_token_is_verified_before_it_is_sent(flaky: Flaky, keys: KeyRing) -> None:
    target = tool(flaky.server.url)
    stranger = CapabilityMinter(KeyRing.generate(kid="k-other"))
    base = _ctx(keys, target)
    run = Run(id="run_replay", goal="test", tenant="acme")
    call = CallRecord(
        call_id="c1",
        tool=target.name,
        args=dict(ARGS),
        status=CallStatus.APPROVED,
        decision=Decision(id="dec_1", verdict=Verdict.ALLOW),
    )
    ctx = replace(base, renew_capability=lambda: stranger.issue(run, 0, 0, call, target).token)
    with _retrying(keys) as executor:
        result = executor.execute(target, ARGS, ctx)
    assert result.refused == "capability token key id 'k-other' is unknown"
    assert flaky.answers == [503]  # the retry was never sent


def test_each_redirect_hop_presents_a_fresh_token(keys: KeyRing) -> None:
    check = capability_verifier(keys.verifying())
    jtis: list[str] = []

    async def handle(request: Request) -> Response:
        reason = await check(request)
        if reason is not None:
            return JSONResponse({"message": reason}, status_code=401)
        jtis.append(_jti(request.headers[CAPABILITY_HEADER]))
        if request.url.path.startswith("/items/"):
            return Response(status_code=302, headers={"location": "/moved/A-1"})
        return JSONResponse({"ok": True})

    server = LocalServer(
        Starlette(routes=[Route("/{rest:path}", handle)]), name="redirecting"
    ).start()
    try:
        target = tool(server.url)
        with _executor(keys) as executor:
            result = executor.execute(target, ARGS, _ctx(keys, target))
    finally:
        server.stop()
    assert result.status_code == 200 and len(set(jtis)) == 2
