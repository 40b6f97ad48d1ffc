"""``paddock trace``: a run's spans as a tree in the terminal."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def span_tree(spans: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(depth, span) in tree order, children by start time; orphans become roots."""
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        parent = span["parent_id"] if span["parent_id"] in ids else None
        children[parent].append(span)
    for group in children.values():
        group.sort(key=lambda s: s["start_ns"])
    out: list[tuple[int, dict[str, Any]]] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in children.get(parent, []):
            out.append((depth, span))
            walk(span["span_id"], depth + 1)

    walk(None, 0)
    return out


def cloud_of(span: dict[str, Any]) -> str | None:
    found = span["attributes"].get("paddock.cloud") or span.get("resource", {}).get("paddock.cloud")
    return str(found) if found else None


def describe(span: dict[str, Any]) -> str:
    """The span's one-line summary: cloud, step, decision, HTTP status, tokens, cost."""
    a = span["attributes"]
    bits: list[str] = []
    cloud = cloud_of(span)
    if cloud:
        bits.append(f"[{cloud}]")
    if span["name"] == "run" and a.get("paddock.tenant"):
        bits.append(f"tenant {a['paddock.tenant']}")
    if "messaging.operation.type" in a:
        bits.append(
            f"queue {a.get('paddock.envelope.sender') or '?'} -> "
            f"{a.get('paddock.envelope.target', '?')} "
            f"(attempt {a.get('paddock.envelope.attempt', 1)})"
        )
    if "paddock.step.index" in a:
        bits.append(
            f"#{int(a['paddock.step.index']) + 1}"
            + (" resumed" if a.get("paddock.step.resumed") else "")
        )
    if "paddock.decision" in a:
        rules = ",".join(a.get("paddock.rule_ids", []) or [])
        bits.append(
            f"{a.get('paddock.tool.name', '')} -> {a['paddock.decision']}"
            + (f" ({rules})" if rules else "")
        )
    if "http.response.status_code" in a:
        bits.append(f"HTTP {a['http.response.status_code']}")
    if "paddock.tool.location" in a:
        bits.append(f"{a['paddock.tool.location']}/{a.get('paddock.tool.side_effect', '')}")
    if "gen_ai.usage.input_tokens" in a:
        model = a.get("gen_ai.request.model")
        bits.append(
            (f"{model} " if model else "") + f"tokens {a['gen_ai.usage.input_tokens']}+"
            f"{a.get('gen_ai.usage.output_tokens', 0)}"
        )
    if a.get("paddock.cost_usd"):
        bits.append(f"${float(a['paddock.cost_usd']):.6f}")
    if "paddock.approval.status" in a:
        bits.append(
            f"{a.get('paddock.tool.name', '')} {a['paddock.approval.status']} by "
            f"{a.get('paddock.approval.by') or '?'}"
        )
    if "paddock.run.status" in a and span["name"] != "checkpoint":
        bits.append(f"status {a['paddock.run.status']}")
    if span.get("status") == "ERROR":
        bits.append("ERROR")
    return " ".join(bits)


def totals(spans: list[dict[str, Any]]) -> dict[str, Any]:
    """Tokens and USD summed over the ``plan`` spans; clouds seen; wall time."""
    plans = [s for s in spans if "gen_ai.usage.input_tokens" in s["attributes"]]
    starts = [s["start_ns"] for s in spans]
    ends = [s["end_ns"] for s in spans]
    return {
        "spans": len(spans),
        "prompt_tokens": sum(int(s["attributes"]["gen_ai.usage.input_tokens"]) for s in plans),
        "completion_tokens": sum(
            int(s["attributes"].get("gen_ai.usage.output_tokens", 0)) for s in plans
        ),
        "cost_usd": round(
            sum(float(s["attributes"].get("paddock.cost_usd", 0.0)) for s in plans), 8
        ),
        "clouds": sorted({c for s in spans if (c := cloud_of(s))}),
        "wall_ms": round((max(ends) - min(starts)) / 1e6, 3) if spans else 0.0,
    }


def render(spans: list[dict[str, Any]], *, reasoning: bool = True) -> str:
    """The tree, one span a line, the reasoning under its ``plan`` span, totals last."""
    lines: list[str] = []
    for depth, span in span_tree(spans):
        lines.append(
            f"{'  ' * depth}{span['name']:<{max(1, 34 - 2 * depth)}} "
            f"{span['duration_ms']:>9.2f} ms  {describe(span)}".rstrip()
        )
        attrs = span["attributes"]
        if attrs.get("paddock.decision", "allow") != "allow":
            # Why the guard held the call: the argument and the source that tainted it.
            for reason in attrs.get("paddock.reasons", []) or []:
                lines.append(f"{'  ' * (depth + 1)}why: {str(reason)[:240]}")
        for event in span.get("events", []):
            if event["name"] == "gen_ai.reasoning" and reasoning:
                text = str(event["attributes"].get("gen_ai.reasoning.text", ""))
                lines.append(f"{'  ' * (depth + 1)}thinking: {text[:160]}")
            elif event["name"] == "paddock.handoff":
                target = event["attributes"].get("paddock.handoff.target", "?")
                lines.append(f"{'  ' * (depth + 1)}handed off to {target}")
            elif event["name"] == "exception":
                lines.append(
                    f"{'  ' * (depth + 1)}error: "
                    f"{event['attributes'].get('exception.message', '')}"[:200]
                )
    t = totals(spans)
    lines.append(
        f"total: {t['wall_ms']:.2f} ms wall, {t['spans']} spans, tokens "
        f"{t['prompt_tokens']}+{t['completion_tokens']}, ${t['cost_usd']:.6f}, "
        f"clouds: {', '.join(t['clouds']) or '-'}"
    )
    return "\n".join(lines)
