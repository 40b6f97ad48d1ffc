"""Capability tokens: the orchestrator's signed permission for exactly one call.

Before a call executes the orchestrator mints a short-lived EdDSA JWT naming the tenant,
run, step, call, tool, the canonical arguments hash, the guardrail decision and the
credential scope. The executor's :class:`CapabilityVerifier` refuses every call whose token
is missing, expired, badly signed, signed by an unknown key, made for another tool, other
arguments, another run or step, or already used (its ``jti`` is remembered until it expires,
see :mod:`core.identity.replay`), and records why.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from core.domain import CallRecord, CallStatus, Run, Tool, Verdict, canonical_args_hash
from core.errors import ExecutionError
from core.execution._wire import build_wire
from core.execution.base import CallContext
from core.identity.base import Issued
from core.identity.keys import ALGORITHM, KeyRing
from core.identity.replay import MemoryJtiStore, SeenJtiStore, replay_refusal
from core.identity.scope import SECRET_SCHEMES, AwsTarget, credential_scope

ISSUER = "paddock-orchestrator"
AUDIENCE = "paddock-executor"
DEFAULT_TTL = 120.0
_REQUIRED = ("exp", "iat", "nbf", "jti", "iss", "aud")

log = logging.getLogger("paddock.identity")


def grant_refusal(run: Run, tool: Tool, call: CallRecord) -> str | None:
    """Why the run's grant or the call's decision does not cover this call, if so."""
    grant = run.grant
    if grant.tools is not None and tool.name not in grant.tools:
        return f"tool {tool.name} is outside the run's grant"
    if tool.side_effect.value not in grant.side_effects:
        return f"{tool.side_effect.value} calls are outside the run's grant"
    if call.decision is None:
        return "the call has no recorded guardrail decision"
    if call.decision.verdict is Verdict.DENY:
        return "the call was denied"
    if call.status not in (CallStatus.APPROVED, CallStatus.EXECUTING):
        return f"the call is {call.status.value}, not approved"
    return None


class CapabilityMinter:
    """Mints capability tokens (the orchestrator side); see the module docstring."""

    def __init__(
        self,
        keys: KeyRing,
        *,
        ttl: float = DEFAULT_TTL,
        target: AwsTarget | None = None,
        sources: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._ttl = ttl
        self._target = target or AwsTarget()
        self._sources = dict(sources or {})
        self._clock = clock

    def issue(
        self, run: Run, step_index: int, call_index: int, call: CallRecord, tool: Tool
    ) -> Issued:
        refusal = grant_refusal(run, tool, call)
        claims = self.claims(run, step_index, call_index, call, tool)
        if refusal is not None:
            return Issued(token=None, claims=claims, refused=refusal)
        token = jwt.encode(
            claims,
            self._keys.signing_key(),
            algorithm=ALGORITHM,
            headers={"kid": self._keys.kid, "typ": "paddock-cap+jwt"},
        )
        return Issued(token=token, claims=claims)

    def claims(
        self, run: Run, step_index: int, call_index: int, call: CallRecord, tool: Tool
    ) -> dict[str, Any]:
        now = int(self._clock())
        try:
            wire = build_wire(tool, call.args)
            scope: dict[str, Any] | None = credential_scope(
                tool, wire.method, wire.url, self._target
            )
        except ExecutionError:
            scope = None  # the executor refuses such arguments before anything is sent
        return {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "nbf": now - 1,
            "exp": now + int(self._ttl),
            "kid": self._keys.kid,
            "tenant": run.tenant,
            "run": run.id,
            "step": step_index,
            "call": call_index,
            "call_id": call.call_id,
            "tool": tool.name,
            "args_sha256": canonical_args_hash(tool.name, call.args),
            "decision": call.decision.id if call.decision is not None else None,
            "verdict": call.decision.verdict.value if call.decision is not None else None,
            "approval": call.approval_id,
            "side_effect": tool.side_effect.value,
            "scope": scope,
            "source": self._source(tool.auth.scheme),
        }

    def _source(self, scheme: str) -> str | None:
        """Where the executor gets this scheme's credentials (a label, for explain)."""
        if scheme in SECRET_SCHEMES:
            return self._sources.get("secrets")
        return self._sources.get(scheme)


@dataclass(frozen=True)
class Refusal:
    """One refused call, as the verifier recorded it (never the token itself)."""

    at: float
    run_id: str
    step_index: int
    call_index: int
    tool: str
    reason: str


class CapabilityVerifier:
    """The executor's ``CallVerifier``: no valid capability token, no call.

    A token is accepted once: its ``jti`` goes into ``seen`` (default: a
    :class:`~core.identity.replay.MemoryJtiStore` of this process) until it expires.
    Refusals are logged (``paddock.identity``, warning) and kept in :attr:`refusals`.
    """

    def __init__(
        self,
        keys: KeyRing,
        *,
        leeway: float = 0.0,
        clock: Callable[[], float] = time.time,
        keep: int = 200,
        seen: SeenJtiStore | None = None,
    ) -> None:
        self._keys = keys
        self._leeway = leeway
        self._clock = clock
        self._seen: SeenJtiStore = seen if seen is not None else MemoryJtiStore()
        self._refusals: deque[Refusal] = deque(maxlen=keep)
        self._lock = threading.Lock()

    @property
    def refusals(self) -> list[Refusal]:
        with self._lock:
            return list(self._refusals)

    def verify(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> str | None:
        reason = self._check(tool, args, ctx)
        if reason is not None:
            refusal = Refusal(
                at=self._clock(),
                run_id=ctx.run_id,
                step_index=ctx.step_index,
                call_index=ctx.call_index,
                tool=tool.name,
                reason=reason,
            )
            with self._lock:
                self._refusals.append(refusal)
            log.warning(
                "call refused: run=%s step=%s call=%s tool=%s: %s",
                ctx.run_id,
                ctx.step_index,
                ctx.call_index,
                tool.name,
                reason,
            )
        return reason

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of a token; raises ``jwt.InvalidTokenError`` otherwise."""
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        key = self._keys.public_key(str(kid)) if kid is not None else None
        if key is None:
            raise _UnknownKey(f"capability token key id {kid!r} is unknown")
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={
                "require": list(_REQUIRED),
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
        now = self._clock()  # times are checked here, against the injected clock
        if now > float(claims["exp"]) + self._leeway:
            raise jwt.ExpiredSignatureError("expired")
        if now < float(claims["nbf"]) - self._leeway:
            raise jwt.ImmatureSignatureError("not yet valid")
        return claims

    def _check(self, tool: Tool, args: dict[str, Any], ctx: CallContext) -> str | None:
        claims, refusal = self.checked_claims(ctx.capability_token)
        if claims is None:
            return refusal
        expected = {
            "tool": tool.name,
            "tenant": ctx.tenant,
            "run": ctx.run_id,
            "step": ctx.step_index,
            "call": ctx.call_index,
        }
        for name, value in expected.items():
            if claims.get(name) != value:
                return f"capability token is for {name} {claims.get(name)!r}, not {value!r}"
        if claims.get("args_sha256") != canonical_args_hash(tool.name, args):
            return "capability token was minted for other arguments"
        return self.replay_refusal(claims)

    def checked_claims(self, token: str | None) -> tuple[dict[str, Any] | None, str]:
        """``(claims, "")`` for a token signed by a known key and within its lifetime, else
        ``(None, reason)``. Does not record the jti (see :meth:`replay_refusal`)."""
        if not token:
            return None, "capability token missing"
        try:
            return self.claims(token), ""
        except jwt.InvalidTokenError as exc:
            return None, token_refusal(exc)

    def replay_refusal(self, claims: Mapping[str, Any]) -> str | None:
        """Refuses verified claims whose ``jti`` was accepted before; else records it."""
        return replay_refusal(self._seen, claims, now=self._clock(), leeway=self._leeway)


def token_refusal(exc: jwt.InvalidTokenError) -> str:
    """The recorded reason for a token that :meth:`CapabilityVerifier.claims` rejected."""
    if isinstance(exc, _UnknownKey):
        return str(exc)
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "capability token expired"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "capability token signature invalid"
    return f"capability token invalid: {exc}"


class _UnknownKey(jwt.InvalidTokenError):
    pass
