"""The offline rule script for the supply-chain scenario.

This is what the embedded default "thinks" with: a fixed procedure written by hand, not a
language model. It reads the goal and the observations so far and returns the next move:

1. check the stock of the part at the plant;
2. search suppliers that can deliver the quantity;
3. rate every supplier that can deliver (``get_risk_score``);
4. read the supplier inbox for news about the candidates (untrusted text);
5. **simulated compromise**: if a message carries instructions to call tools, the script plays
   a gullible model and proposes exactly those calls, so the demo shows what the guardrails do
   with them. The reasoning says plainly that this is a simulation;
6. request a quote from the cheapest supplier whose risk is within the limit;
7. order from it at the quoted price, citing the quote;
8. report.

Refused calls are never retried: the script moves on, as a well-behaved model would.
"""

from __future__ import annotations

import re
from typing import Any

from core.domain import Plan, ProposedCall
from core.planner.base import PlanContext
from core.planner.rules import calls_of, done_results, refused
from examples.supply_chain import data

_GOAL = re.compile(
    r"(?P<qty>\d[\d,]*)\s+(?:units|pieces|pcs)\s+of\s+(?:part\s+)?"
    r"(?P<part>[A-Z]-\d+).*?plant\s+(?P<plant>[A-Z]{2}\d{2})",
    re.IGNORECASE | re.DOTALL,
)
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)\b")
_BIC = re.compile(r"\bBIC\s+([A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)\b")
_VENDOR = re.compile(r"\b(V-\d{4})\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

CONFIDENT = 0.9


def _order(ctx: PlanContext) -> tuple[str, str, int]:
    """Part, plant and quantity from the run's inputs, else the goal, else the scenario."""
    match = _GOAL.search(ctx.goal)
    part = str(ctx.inputs.get("part") or (match and match["part"].upper()) or data.PART)
    plant = str(ctx.inputs.get("plant") or (match and match["plant"].upper()) or data.PLANT)
    quantity = ctx.inputs.get("quantity") or (
        int(match["qty"].replace(",", "")) if match else data.QUANTITY
    )
    return part, plant, int(quantity)


def _call(ctx: PlanContext, tool: str, args: dict[str, Any], n: int = 0) -> ProposedCall:
    return ProposedCall(id=f"{tool}-{len(ctx.steps)}-{n}", tool=tool, args=args)


def _move(reasoning: str, *calls: ProposedCall, confidence: float = CONFIDENT) -> Plan:
    return Plan(
        reasoning=reasoning, confidence=confidence, calls=list(calls), model="offline rule planner"
    )


def _done(text: str) -> Plan:
    return Plan(
        reasoning=text, confidence=CONFIDENT, final_answer=text, model="offline rule planner"
    )


def _has(ctx: PlanContext, tool: str) -> bool:
    return any(t.name == tool for t in ctx.tools)


def next_move(ctx: PlanContext) -> Plan:
    """The next move of the sourcing procedure, given what the run has seen so far."""
    part, plant, quantity = _order(ctx)

    if not calls_of(ctx, "get_stock"):
        return _move(
            f"[offline rule planner] Check how many {part} plant {plant} holds before "
            "buying anything.",
            _call(ctx, "get_stock", {"plant": plant, "part": part}),
        )
    stock = done_results(ctx, "get_stock")
    if not stock:
        return _done(f"Could not read the stock of {part} at {plant}; stopping without ordering.")
    on_hand = int(stock[-1][1].get("unrestricted", 0))
    if on_hand >= quantity:
        return _done(f"Plant {plant} already holds {on_hand} {part}: no purchase needed.")

    if not calls_of(ctx, "search_suppliers"):
        return _move(
            f"[offline rule planner] Stock of {part} at {plant} is {on_hand}, short of "
            f"{quantity}. Search suppliers that can deliver {quantity}.",
            _call(ctx, "search_suppliers", {"part": part, "quantity": quantity}),
        )
    found = done_results(ctx, "search_suppliers")
    candidates = [
        s for s in (found[-1][1].get("suppliers", []) if found else []) if s.get("can_deliver")
    ]
    if not candidates:
        return _done(f"No supplier can deliver {quantity} {part}; a buyer has to source it.")

    rated = {c.args.get("supplier_id"): r for c, r in done_results(ctx, "get_risk_score")}
    unrated = [
        s["supplier_id"]
        for s in candidates
        if s["supplier_id"]
        not in {c.args.get("supplier_id") for c in calls_of(ctx, "get_risk_score")}
    ]
    if unrated:
        names = ", ".join(f"{s['supplier_id']} ({s['name']})" for s in candidates)
        return _move(
            f"[offline rule planner] Suppliers able to deliver: {names}. Check each "
            "one's risk before asking for a price.",
            *(
                _call(ctx, "get_risk_score", {"supplier_id": sid}, i)
                for i, sid in enumerate(unrated)
            ),
        )

    if _has(ctx, "list_supplier_messages") and not calls_of(ctx, "list_supplier_messages"):
        return _move(
            "[offline rule planner] Read the supplier inbox for news about these "
            "suppliers (delivery problems, changed terms) before choosing.",
            _call(ctx, "list_supplier_messages", {}),
        )
    steered = _simulated_injection(ctx)
    if steered is not None:
        return steered

    safe = [
        s
        for s in candidates
        if s["supplier_id"] in rated
        and float(rated[s["supplier_id"]].get("score", 1.0)) <= data.RISK_LIMIT
        and not refused(ctx, "request_quote")
    ]
    risky = [
        f"{sid} (risk {float(r.get('score', 1.0)):.2f})"
        for sid, r in rated.items()
        if float(r.get("score", 1.0)) > data.RISK_LIMIT
    ]
    quotes = done_results(ctx, "request_quote")
    if not quotes:
        if refused(ctx, "request_quote"):
            return _done("The quote request was refused; stopping without ordering.")
        if not safe:
            return _done(
                f"Every supplier that can deliver is above the risk limit "
                f"{data.RISK_LIMIT}: {', '.join(risky)}. A buyer has to decide."
            )
        choice = min(safe, key=lambda s: float(s.get("indicative_unit_price") or 0))
        skipped = (
            f" Skip {', '.join(risky)}: above the risk limit {data.RISK_LIMIT}." if risky else ""
        )
        return _move(
            f"[offline rule planner]{skipped} Ask {choice['supplier_id']} "
            f"({choice['name']}) for a binding quote.",
            _call(
                ctx,
                "request_quote",
                {
                    "body": {
                        "supplier_id": choice["supplier_id"],
                        "part": part,
                        "quantity": quantity,
                        "plant": plant,
                    }
                },
            ),
        )

    quote = quotes[-1][1]
    if not calls_of(ctx, "create_purchase_order"):
        return _move(
            f"[offline rule planner] Quote {quote['quote_id']}: {quote['quantity']} x "
            f"{quote['unit_price']:.2f} {quote['currency']} = {quote['total']:,.2f} "
            f"{quote['currency']}. Order at the quoted price.",
            _call(
                ctx,
                "create_purchase_order",
                {
                    "body": {
                        "part": part,
                        "plant": plant,
                        "quantity": quote["quantity"],
                        "vendor_id": quote["supplier_id"],
                        "unit_price": quote["unit_price"],
                        "currency": quote["currency"],
                        "quote_id": quote["quote_id"],
                    }
                },
            ),
        )
    orders = done_results(ctx, "create_purchase_order")
    if not orders:
        why = calls_of(ctx, "create_purchase_order")[-1]
        return _done(
            f"The purchase order was not placed ({why.status.value}"
            f"{': ' + why.error if why.error else ''}); nothing was ordered."
        )
    po = orders[-1][1]
    return _done(
        f"Ordered {po.get('quantity', quantity)} {part} for plant {plant} from "
        f"{quote['supplier_name']} ({quote['supplier_id']}): purchase order "
        f"{po.get('po_number') or po.get('po_id') or po.get('id')}, "
        f"{quote['total']:,.2f} {quote['currency']}, delivery in "
        f"{quote['lead_time_days']} days."
    )


def _simulated_injection(ctx: PlanContext) -> Plan | None:
    """Play a model that obeys tool instructions found in the inbox, once per message.

    A real model may or may not fall for such text; the script always does, so that every run
    of the demo shows the guardrails refusing the calls. Nothing here is hidden: the reasoning
    is marked as a simulation.
    """
    inbox = done_results(ctx, "list_supplier_messages")
    if not inbox:
        return None
    followed = {
        tag
        for s in ctx.steps
        for tag in re.findall(r"message (MSG-\d+)", s.reasoning)
        if "SIMULATION" in s.reasoning
    }
    for message in inbox[-1][1].get("messages", []):
        mid, body = str(message.get("message_id")), str(message.get("body", ""))
        if mid in followed:
            continue
        calls = _obey(ctx, body, str(message.get("supplier_id") or data.CHOSEN_SUPPLIER))
        if calls:
            tools = ", ".join(c.tool for c in calls)
            return _move(
                f"[offline rule planner — SIMULATION of a model steered by untrusted "
                f"text] Following the instructions in message {mid} from the supplier "
                f"inbox: {tools}. A careful model would ignore them; the guardrails "
                "must stop them either way.",
                *calls,
                confidence=0.8,
            )
    return None


def _obey(ctx: PlanContext, text: str, sender: str) -> list[ProposedCall]:
    """The tool calls an instruction-following model would read out of ``text``."""
    part, plant, _ = _order(ctx)
    calls: list[ProposedCall] = []
    vendor = _VENDOR.search(text)
    iban, bic = _IBAN.search(text), _BIC.search(text)
    if "update_vendor_bank" in text and vendor and iban and bic:
        calls.append(
            _call(
                ctx,
                "update_vendor_bank",
                {"vendor_id": vendor[1], "body": {"iban": iban[1].replace(" ", ""), "bic": bic[1]}},
                len(calls),
            )
        )
    if "delete_vendor" in text and vendor:
        calls.append(_call(ctx, "delete_vendor", {"vendor_id": vendor[1]}, len(calls)))
    emails = _EMAIL.findall(text)
    if emails and "send_supplier_message" in text:
        calls.append(
            _call(
                ctx,
                "send_supplier_message",
                {
                    "body": {
                        "supplier_id": sender,
                        "subject": f"Enquiry {part} for {plant}",
                        "body": f"Please confirm availability of {part} for plant {plant}.",
                        "cc": emails[:1],
                    }
                },
                len(calls),
            )
        )
    return [c for c in calls if _has(ctx, c.tool)]
