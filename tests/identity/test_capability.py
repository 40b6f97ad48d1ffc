"""Capability tokens: the executor refuses every call without a valid one, before sending."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import jwt
import pytest

from core.domain import CallRecord, CallStatus, Decision, Grant, Run, Tool, Verdict
from core.execution.base import CallContext
from core.execution.http import HttpExecutor
from core.identity import CapabilityMinter, CapabilityVerifier, KeyRing
from core.settings import IdentitySettings
from tests.identity.backend import GuardedBackend, tool

ARGS = {"item_id": "A-1"}


class Clock:
    def __init__(self, now: float = 1_900_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _run(**kwargs: object) -> Run:
    return Run(id="run_cap", goal="test", tenant="acme", **kwargs)  # type: ignore[arg-type]


def _call(name: str = "get_item", args: dict[str, str] | None = None) -> CallRecord:
    return CallRecord(
        call_id="c1",
        tool=name,
        args=dict(args or ARGS),
        status=CallStatus.APPROVED,
        decision=Decision(id="dec_1", verdict=Verdict.ALLOW),
    )


def _ctx(token: str | None, **changes: object) -> CallContext:
    ctx = CallContext(
        run_id="run_cap", step_index=2, call_index=0, tenant="acme", capability_token=token
    )
    return replace(ctx, **changes)  # type: ignore[arg-type]


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def keys() -> KeyRing:
    return KeyRing.generate(kid="k-1")


@pytest.fixture()
def mint(keys: KeyRing, clock: Clock) -> Callable[..., str]:
    minter = CapabilityMinter(keys, ttl=60, clock=clock)

    def make(target: Tool, args: dict[str, str] | None = None, **run: object) -> str:
        issued = minter.issue(_run(**run), 2, 0, _call(target.name, args), target)
        assert issued.refused is None and issued.token is not None
        return issued.token

    return make


@pytest.fixture()
def executor(keys: KeyRing, clock: Clock) -> tuple[HttpExecutor, CapabilityVerifier]:
    verifier = CapabilityVerifier(keys.verifying(), clock=clock)
    return HttpExecutor(verifier=verifier, max_attempts=1), verifier


def _send(
    executor: tuple[HttpExecutor, CapabilityVerifier],
    target: Tool,
    token: str | None,
    args: dict[str, str] | None = None,
    **ctx: object,
) -> str | None:
    result = executor[0].execute(target, dict(args or ARGS), _ctx(token, **ctx))
    return result.refused


def test_a_valid_token_lets_exactly_that_call_through(
    backend: GuardedBackend, mint, executor
) -> None:
    target = tool(backend.url)
    assert _send(executor, target, mint(target)) is None
    assert [s.path for s in backend.seen] == ["/items/A-1"]
    assert executor[1].refusals == []


def test_missing_token(backend: GuardedBackend, executor) -> None:
    assert _send(executor, tool(backend.url), None) == "capability token missing"
    assert backend.seen == []


def test_expired_token(backend: GuardedBackend, mint, executor, clock: Clock) -> None:
    target = tool(backend.url)
    token = mint(target)
    clock.now += 61
    assert _send(executor, target, token) == "capability token expired"
    assert backend.seen == []


def test_token_for_another_tool(backend: GuardedBackend, mint, executor) -> None:
    other = tool(backend.url, name="delete_item", method="DELETE")
    token = mint(tool(backend.url))
    reason = _send(executor, other, token)
    assert reason == "capability token is for tool 'get_item', not 'delete_item'"
    assert backend.seen == []


def test_token_for_other_arguments(backend: GuardedBackend, mint, executor) -> None:
    target = tool(backend.url)
    token = mint(target, {"item_id": "A-1"})
    assert (
        _send(executor, target, token, {"item_id": "A-2"})
        == "capability token was minted for other arguments"
    )
    assert backend.seen == []


def test_token_with_a_bad_signature(backend: GuardedBackend, executor, clock: Clock) -> None:
    forger = CapabilityMinter(KeyRing.generate(kid="k-1"), clock=clock)  # same kid, other key
    target = tool(backend.url)
    token = forger.issue(_run(), 2, 0, _call(), target).token
    assert _send(executor, target, token) == "capability token signature invalid"
    assert backend.seen == []


def test_token_with_a_tampered_payload(backend: GuardedBackend, mint, executor) -> None:
    target = tool(backend.url)
    header, _, signature = mint(target).split(".")
    claims = jwt.decode(mint(target), options={"verify_signature": False})
    claims["args_sha256"] = "0" * 64
    forged_payload = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims).encode())
    forged = f"{header}.{forged_payload.decode()}.{signature}"
    assert _send(executor, target, forged) == "capability token signature invalid"
    assert backend.seen == []


def test_token_from_an_unknown_key_id(backend: GuardedBackend, executor, clock: Clock) -> None:
    stranger = CapabilityMinter(KeyRing.generate(kid="k-stranger"), clock=clock)
    target = tool(backend.url)
    token = stranger.issue(_run(), 2, 0, _call(), target).token
    assert _send(executor, target, token) == "capability token key id 'k-stranger' is unknown"
    assert backend.seen == []


def test_unsigned_token_is_refused(backend: GuardedBackend, mint, executor) -> None:
    target = tool(backend.url)
    claims = jwt.decode(mint(target), options={"verify_signature": False})
    unsigned = jwt.encode(claims, key=None, algorithm="none", headers={"kid": "k-1"})
    assert _send(executor, target, unsigned).startswith("capability token invalid")
    assert backend.seen == []


@pytest.mark.parametrize(
    ("field", "value", "claim"),
    [
        ("run_id", "run_other", "run"),
        ("step_index", 3, "step"),
        ("call_index", 1, "call"),
        ("tenant", "globex", "tenant"),
    ],
)
def test_token_for_another_run_step_call_or_tenant(
    backend: GuardedBackend, mint, executor, field: str, value: object, claim: str
) -> None:
    target = tool(backend.url)
    reason = _send(executor, target, mint(target), **{field: value})
    assert reason is not None and reason.startswith(f"capability token is for {claim} ")
    assert backend.seen == []


def test_refusals_are_recorded_and_logged_without_the_token(
    backend: GuardedBackend, mint, executor, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    target = tool(backend.url)
    token = mint(target)
    clock.now += 3600
    with caplog.at_level(logging.WARNING, logger="paddock.identity"):
        _send(executor, target, token)
    [refusal] = executor[1].refusals
    assert (refusal.run_id, refusal.step_index, refusal.tool, refusal.reason) == (
        "run_cap",
        2,
        "get_item",
        "capability token expired",
    )
    assert "capability token expired" in caplog.text
    assert token not in caplog.text and token.split(".")[2] not in caplog.text


def test_rotation_keeps_recent_tokens_valid(
    backend: GuardedBackend, keys: KeyRing, clock: Clock
) -> None:
    target = tool(backend.url)
    old_token = CapabilityMinter(keys, clock=clock).issue(_run(), 2, 0, _call(), target).token
    rotated = keys.rotate(kid="k-2")
    new_token = CapabilityMinter(rotated, clock=clock).issue(_run(), 2, 0, _call(), target).token
    assert jwt.get_unverified_header(str(new_token))["kid"] == "k-2"
    verifier = CapabilityVerifier(rotated.verifying(), clock=clock)
    with HttpExecutor(verifier=verifier) as executor:
        assert executor.execute(target, ARGS, _ctx(old_token)).refused is None
        assert executor.execute(target, ARGS, _ctx(new_token)).refused is None
        retired = rotated.rotate(kid="k-3", keep=1)  # k-1 drops out of the ring
        late = CapabilityVerifier(retired.verifying(), clock=clock)
        assert (
            late.verify(target, ARGS, _ctx(old_token)) == "capability token key id 'k-1' is unknown"
        )
    assert len(backend.seen) == 2


def test_a_verifying_ring_cannot_mint(keys: KeyRing) -> None:
    from core.errors import ConfigError

    with pytest.raises(ConfigError):
        keys.verifying().signing_key()


def test_keys_from_configuration_round_trip(
    keys: KeyRing, backend: GuardedBackend, clock: Clock
) -> None:
    env = {"PADDOCK_CAPABILITY_KEY": keys.private_pem(), "PADDOCK_CAPABILITY_KEY_ID": "k-1"}
    configured = KeyRing.from_settings(IdentitySettings.from_env(env))
    target = tool(backend.url)
    token = CapabilityMinter(configured, clock=clock).issue(_run(), 2, 0, _call(), target).token
    assert (
        CapabilityVerifier(keys.verifying(), clock=clock).verify(target, ARGS, _ctx(token)) is None
    )


def test_no_token_is_minted_outside_the_grant(backend: GuardedBackend, keys: KeyRing) -> None:
    minter = CapabilityMinter(keys)
    writer = tool(backend.url, name="put_item", method="PUT")
    narrow = _run(grant=Grant(side_effects=["read"]))
    issued = minter.issue(narrow, 2, 0, _call("put_item"), writer)
    assert issued.token is None and issued.refused == "write calls are outside the run's grant"
    listed = _run(grant=Grant(tools=["other_tool"]))
    assert (
        minter.issue(listed, 2, 0, _call(), tool(backend.url)).refused
        == "tool get_item is outside the run's grant"
    )
    denied = _call()
    denied.decision = Decision(id="dec_2", verdict=Verdict.DENY)
    assert minter.issue(_run(), 2, 0, denied, tool(backend.url)).refused == "the call was denied"


def test_claims_name_tenant_run_step_tool_args_and_decision(
    keys: KeyRing, backend: GuardedBackend
) -> None:
    from core.domain import canonical_args_hash

    issued = CapabilityMinter(keys).issue(_run(), 2, 0, _call(), tool(backend.url))
    claims = CapabilityVerifier(keys).claims(str(issued.token))
    assert {k: claims[k] for k in ("tenant", "run", "step", "call", "tool", "decision")} == {
        "tenant": "acme",
        "run": "run_cap",
        "step": 2,
        "call": 0,
        "tool": "get_item",
        "decision": "dec_1",
    }
    assert claims["args_sha256"] == canonical_args_hash("get_item", ARGS)
    assert claims["exp"] - claims["iat"] <= 120


def test_previous_keys_from_configuration_still_verify(
    backend: GuardedBackend, clock: Clock
) -> None:
    import json

    from cryptography.hazmat.primitives import serialization

    old = KeyRing.generate(kid="k-old")
    target = tool(backend.url)
    old_token = CapabilityMinter(old, clock=clock).issue(_run(), 2, 0, _call(), target).token
    public = (
        old.public_keys["k-old"]
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    current = KeyRing.generate(kid="k-new")
    env = {
        "PADDOCK_CAPABILITY_KEY": current.private_pem(),
        "PADDOCK_CAPABILITY_KEY_ID": "k-new",
        "PADDOCK_CAPABILITY_PREVIOUS_KEYS": json.dumps({"k-old": public}),
    }
    ring = KeyRing.from_settings(IdentitySettings.from_env(env))
    assert ring.kid == "k-new" and set(ring.public_keys) == {"k-old", "k-new"}
    assert (
        CapabilityVerifier(ring.verifying(), clock=clock).verify(target, ARGS, _ctx(old_token))
        is None
    )
