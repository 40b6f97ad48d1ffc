"""What each step of a run was granted, and why: for ``paddock identity explain``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.domain import Approval, CallRecord, CallStatus, Run
from core.identity.scope import SECRET_SCHEMES


def _when(seconds: Any) -> str | None:
    if not isinstance(seconds, int | float):
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _approval(run: Run, call: CallRecord) -> Approval | None:
    return next((a for a in run.approvals if a.id == call.approval_id), None)


def _why(run: Run, call: CallRecord) -> list[str]:
    reasons: list[str] = []
    decision = call.decision
    if decision is not None:
        rules = f" ({', '.join(decision.rule_ids)})" if decision.rule_ids else ""
        reasons.append(f"guardrail decision {decision.id}: {decision.verdict.value}{rules}")
        reasons.extend(f"  - {r}" for r in decision.reasons)
    approval = _approval(run, call)
    if approval is not None:
        who = approval.decided_by or "nobody yet"
        reasons.append(f"approval {approval.id}: {approval.status.value} by {who}")
    grant = run.grant
    tools = "any tool of its catalog" if grant.tools is None else ", ".join(grant.tools)
    reasons.append(f"within the run's grant: {tools}; side effects {', '.join(grant.side_effects)}")
    return reasons


def _granted(call: CallRecord) -> dict[str, Any] | None:
    claims = call.capability
    if not claims:
        return None
    scope = claims.get("scope") or {}
    return {
        "capability": {
            "kid": claims.get("kid"),
            "jti": claims.get("jti"),
            "issued_at": _when(claims.get("iat")),
            "expires_at": _when(claims.get("exp")),
            "ttl_seconds": (claims["exp"] - claims["iat"])
            if isinstance(claims.get("exp"), int) and isinstance(claims.get("iat"), int)
            else None,
            "args_sha256": claims.get("args_sha256"),
            "decision": claims.get("decision"),
        },
        "credential": dict(scope),
        "source": claims.get("source"),
    }


def _not_granted(call: CallRecord) -> str:
    if call.status is CallStatus.DENIED:
        return "denied by the guardrails: no token, no credential"
    if call.status is CallStatus.REJECTED:
        return "rejected by a human: no token, no credential"
    if call.status is CallStatus.AWAITING_APPROVAL:
        return "waiting for approval: nothing granted yet"
    if call.error and call.error.startswith("refused"):
        return call.error
    return "not executed by this worker: nothing granted"


def explain(run: Run) -> dict[str, Any]:
    """Per step and call: the capability and credential scope granted, and the reasons."""
    steps: list[dict[str, Any]] = []
    for step in run.steps:
        calls: list[dict[str, Any]] = []
        for index, call in enumerate(step.calls):
            granted = _granted(call)
            calls.append(
                {
                    "call": index,
                    "tool": call.tool,
                    "cloud": call.cloud,
                    "side_effect": call.side_effect,
                    "status": call.status.value,
                    "status_code": call.status_code,
                    "granted": granted,
                    "not_granted": None if granted else _not_granted(call),
                    "why": _why(run, call),
                    "refused": call.error if call.error and "refused" in call.error else None,
                }
            )
        if calls:
            steps.append({"step": step.number, "calls": calls})
    return {
        "run": run.id,
        "tenant": run.tenant,
        "status": run.status.value,
        "grant": run.grant.model_dump(mode="json"),
        "steps": steps,
    }


def render(report: dict[str, Any]) -> str:
    """The report as text for a terminal."""
    grant = report["grant"]
    tools = "any tool of its catalog" if grant["tools"] is None else ", ".join(grant["tools"])
    lines = [
        f"run {report['run']} (tenant {report['tenant']}, {report['status']})",
        f"grant (upper bound of every token and credential): {tools}; side effects "
        f"{', '.join(grant['side_effects'])}",
        "",
    ]
    for step in report["steps"]:
        lines.append(f"step {step['step']}")
        for call in step["calls"]:
            lines.append(
                f"  {call['tool']}  [{call['cloud']} · {call['side_effect']}]  "
                f"{call['status']}"
                + (f" (HTTP {call['status_code']})" if call["status_code"] else "")
            )
            granted = call["granted"]
            if granted is None:
                lines.append(f"    granted: nothing — {call['not_granted']}")
            else:
                cap = granted["capability"]
                lines.append(
                    f"    capability token {cap['jti']} (key {cap['kid']}, "
                    f"{cap['ttl_seconds']} s, until {cap['expires_at']}) for "
                    f"arguments sha256 {str(cap['args_sha256'])[:16]}…"
                )
                lines.append(f"    credential: {_scope_text(granted['credential'])}")
                if granted.get("source"):
                    lines.append(f"    from: {granted['source']}")
            lines.extend(
                f"    why: {w}" if not w.startswith("  ") else f"    {w}" for w in call["why"]
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _scope_text(scope: dict[str, Any]) -> str:
    scheme = scope.get("scheme", "none")
    if scheme == "aws_sigv4":
        resource = scope.get("resource", "(no session policy)")
        return (
            f"aws_sigv4 — session policy: {scope.get('action', '?')} on {resource} "
            f"(region {scope.get('region')})"
        )
    if scheme == "entra":
        return f"entra — token for audience {scope.get('audience')} only ({scope.get('scope')})"
    if scheme in SECRET_SCHEMES:
        extra = f", scopes {' '.join(scope['scopes'])}" if scope.get("scopes") else ""
        return f"{scheme} — secret {scope.get('secret')}{extra} (value never recorded)"
    return f"{scheme} — no credential"
