"""``paddock trace``: a run's spans as a tree in the terminal."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def span_tree(spans: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(depth, span) in tree order, children by start time."""
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


def describe(span: dict[str, Any]) -> str:
    a = span["attributes"]
    bits: list[str] = []
    cloud = a.get("paddock.cloud") or span.get("resource", {}).get("paddock.cloud")
    if cloud:
        bits.append(f"[{cloud}]")
    if "paddock.step.index" in a:
        bits.append(f"#{int(a['paddock.step.index']) + 1}")
    if "paddock.decision" in a:
        rules = ",".join(a.get("paddock.rule_ids", []) or [])
        bits.append(f"{a.get('paddock.tool.name', '')} -> {a['paddock.decision']}"
                    + (f" ({rules})" if rules else ""))
    if "http.response.status_code" in a:
        bits.append(f"HTTP {a['http.response.status_code']}")
    if "paddock.tool.location" in a:
        bits.append(f"{a['paddock.tool.location']}/{a.get('paddock.tool.side_effect', '')}")
    if "gen_ai.usage.input_tokens" in a:
        bits.append(f"tokens {a['gen_ai.usage.input_tokens']}+"
                    f"{a.get('gen_ai.usage.output_tokens', 0)}")
    if a.get("paddock.cost_usd"):
        bits.append(f"${a['paddock.cost_usd']:.4f}")
    if "paddock.run.status" in a:
        bits.append(f"status {a['paddock.run.status']}")
    if span.get("status") == "ERROR":
        bits.append("ERROR")
    return " ".join(bits)


def render(spans: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for depth, span in span_tree(spans):
        lines.append(f"{'  ' * depth}{span['name']:<{max(1, 34 - 2 * depth)}} "
                     f"{span['duration_ms']:>9.2f} ms  {describe(span)}".rstrip())
        for event in span.get("events", []):
            if event["name"] == "gen_ai.reasoning":
                text = str(event["attributes"].get("gen_ai.reasoning.text", ""))
                lines.append(f"{'  ' * (depth + 1)}thinking: {text[:160]}")
    return "\n".join(lines)
