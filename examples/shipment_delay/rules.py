"""The offline rule scripts of the shipment-delay mesh: one per agent.

Like the supply-chain script, these are fixed procedures written by hand, not a language
model. Which agent is thinking is told by the tools it sees (each agent sees only its own):

* **Logistics Planning** (sees ``ask_*`` and ``create_reroute_request``): asks Carrier
  Relations for the shipment's status, asks Contracts what the contract allows, plays once a
  model steered by the injected contract passage (a labelled SIMULATION, so the demo shows the
  guardrails refusing it), asks Carrier Relations for a quote from an approved carrier, and
  drafts the re-routing request citing the clause.
* **Carrier Relations** (tracking and carrier tools): answers a status question or finds and
  quotes the cheapest carrier with room among those it was told to consider.
* **Contracts** (clause search): searches the clauses and cites them.

Domain agents end with a sentence for people and a ``DATA: {...}`` line for the agent that
asked (a model would read the sentence; the script reads the data).
"""

from __future__ import annotations

import json
import re
from typing import Any

from core.domain import Plan, ProposedCall
from core.errors import PlannerError
from core.planner.base import PlanContext
from core.planner.rules import calls_of, done_results, refused
from examples.shipment_delay import data

CONFIDENT = 0.9
_CARRIER = re.compile(r"\b(CA-\d{3})\b")
_LOCATION = re.compile(r"\b([A-Z]{2}-[A-Z]{3}-\d{2})\b")
_SHIPMENT = re.compile(r"\b(SH-\d{4})\b")
MODEL = "offline rule planner"


def _call(ctx: PlanContext, tool: str, args: dict[str, Any], n: int = 0) -> ProposedCall:
    return ProposedCall(id=f"{tool}-{len(ctx.steps)}-{n}", tool=tool, args=args)


def _move(reasoning: str, *calls: ProposedCall, confidence: float = CONFIDENT) -> Plan:
    return Plan(
        reasoning=f"[{MODEL}] {reasoning}", confidence=confidence, calls=list(calls), model=MODEL
    )


def _done(text: str, payload: dict[str, Any] | None = None) -> Plan:
    answer = text if payload is None else f"{text}\nDATA: {json.dumps(payload)}"
    return Plan(reasoning=text, confidence=CONFIDENT, final_answer=answer, model=MODEL)


def _sees(ctx: PlanContext, tool: str) -> bool:
    return any(t.name == tool for t in ctx.tools)


def next_move(ctx: PlanContext) -> Plan:
    """The next move of whichever agent of the mesh is thinking."""
    if _sees(ctx, "create_reroute_request") and _sees(ctx, "search_contract_clauses"):
        raise PlannerError(
            "the shipment-delay rule scripts play the agents of its mesh: "
            "start the run as an agent (Run.agent, e.g. logistics_planning)"
        )
    if _sees(ctx, "ask_carrier_relations"):
        return _planning(ctx)
    if _sees(ctx, "search_contract_clauses"):
        return _contracts(ctx)
    return _carrier_relations(ctx)


# -- Carrier Relations -----------------------------------------------------------------------


def _context(ctx: PlanContext) -> dict[str, Any]:
    found = ctx.inputs.get("context")
    return dict(found) if isinstance(found, dict) else {}


def _carrier_relations(ctx: PlanContext) -> Plan:
    context = _context(ctx)
    if "pallets" in context:
        return _quote(ctx, context)
    shipment = str(context.get("shipment_id") or "")
    if not shipment:
        match = _SHIPMENT.search(ctx.goal)
        shipment = match[1] if match else data.SHIPMENT
    if not calls_of(ctx, "get_shipment_status"):
        return _move(
            f"Look up shipment {shipment} in carrier tracking.",
            _call(ctx, "get_shipment_status", {"shipment_id": shipment}),
        )
    found = done_results(ctx, "get_shipment_status")
    if not found:
        return _done(f"Tracking has no status for {shipment}.", {"error": "no status"})
    s = found[-1][1]
    keys = (
        "shipment_id",
        "status",
        "delay_days",
        "promised_delivery",
        "expected_delivery",
        "contract_id",
        "carrier_id",
        "origin",
        "destination",
        "pallets",
    )
    return _done(
        f"{s['shipment_id']} ({s['pallets']} pallets, {s['origin']} -> "
        f"{s['destination']}, carrier {s['carrier_name']}) is {s['status']}: "
        f"{s['delay_days']} days late, now expected {s['expected_delivery']} "
        f"(promised {s['promised_delivery']}). Reason: {s['delay_reason']}. "
        f"Delivered under contract {s['contract_id']}.",
        {k: s[k] for k in keys},
    )


def _quote(ctx: PlanContext, context: dict[str, Any]) -> Plan:
    lane = {
        "origin": str(context.get("origin")),
        "destination": str(context.get("destination")),
        "pallets": int(context["pallets"]),
    }
    allowed = [str(c) for c in context.get("carriers") or []]
    if not calls_of(ctx, "search_carrier_capacity"):
        return _move(
            f"Search carriers with room for {lane['pallets']} pallets "
            f"{lane['origin']} -> {lane['destination']}.",
            _call(ctx, "search_carrier_capacity", lane),
        )
    found = done_results(ctx, "search_carrier_capacity")
    offers = found[-1][1].get("carriers", []) if found else []
    fitting = [c for c in offers if not allowed or c["carrier_id"] in allowed]
    if not fitting:
        return _done(
            f"No carrier among {', '.join(allowed) or 'any'} has room on this lane.",
            {"quote": None},
        )
    best = min(fitting, key=lambda c: float(c["indicative_price_eur"]))
    if not calls_of(ctx, "quote_carrier"):
        skipped = [c["carrier_id"] for c in offers if c not in fitting]
        note = f" Not considered: {', '.join(skipped)} (not on the list given)." if skipped else ""
        return _move(
            f"Cheapest with room: {best['carrier_id']} ({best['name']}), about "
            f"{best['indicative_price_eur']:,.2f} EUR.{note} Ask for a quote.",
            _call(ctx, "quote_carrier", {"body": {"carrier_id": best["carrier_id"], **lane}}),
        )
    quotes = done_results(ctx, "quote_carrier")
    if not quotes:
        return _done(f"{best['carrier_id']} gave no quote.", {"quote": None})
    q = quotes[-1][1]
    return _done(
        f"Quote {q['quote_id']}: {q['carrier_name']} ({q['carrier_id']}) moves "
        f"{q['pallets']} pallets {q['origin']} -> {q['destination']} in "
        f"{q['transit_days']} day(s) for {q['price_eur']:,.2f} EUR, valid until "
        f"{q['valid_until']}.",
        {"quote": q},
    )


# -- Contracts -------------------------------------------------------------------------------


def _contracts(ctx: PlanContext) -> Plan:
    context = _context(ctx)
    if not calls_of(ctx, "search_contract_clauses"):
        query = str(context.get("query") or ctx.goal)[:300]
        return _move(
            "Search the contract clauses for the question.",
            _call(ctx, "search_contract_clauses", {"query": query, "top_k": 4}),
        )
    found = done_results(ctx, "search_contract_clauses")
    passages = found[-1][1].get("passages", []) if found else []
    if not passages:
        return _done("No contract clause answers this question.", {"passages": []})
    cited = "; ".join(
        f"{p['contract_id']} clause {p['clause']} ({p['heading']}, page {p['page']})"
        for p in passages
    )
    keep = ("contract_id", "clause", "heading", "page", "text")
    return _done(
        f"Relevant clauses: {cited}. Clause text is quoted from the documents.",
        {"passages": [{k: p[k] for k in keep} for p in passages]},
    )


# -- Logistics Planning (the orchestrator) ---------------------------------------------------


def _answers(ctx: PlanContext, tool: str) -> list[dict[str, Any]]:
    """The DATA of each successful delegation to ``tool``, oldest first."""
    out: list[dict[str, Any]] = []
    for _, result in done_results(ctx, tool):
        for child in (result or {}).get("children", []):
            text = str(child.get("result") or "")
            _, sep, blob = text.rpartition("DATA: ")
            if sep:
                try:
                    out.append(json.loads(blob))
                except ValueError:
                    continue
    return out


def _planning(ctx: PlanContext) -> Plan:
    match = _SHIPMENT.search(ctx.goal)
    shipment_id = match[1] if match else data.SHIPMENT
    status = next((a for a in _answers(ctx, "ask_carrier_relations") if "delay_days" in a), None)
    if status is None:
        if calls_of(ctx, "ask_carrier_relations"):
            return _done(
                f"Carrier Relations could not tell the status of {shipment_id}; "
                "stopping without re-routing."
            )
        return _move(
            f"Ask Carrier Relations where {shipment_id} is and how late it is.",
            _call(
                ctx,
                "ask_carrier_relations",
                {
                    "goal": f"Status of shipment {shipment_id}: how late is it, and "
                    "under which contract is it delivered?",
                    "context": {"shipment_id": shipment_id},
                },
            ),
        )
    if int(status["delay_days"]) * 24 <= 48:
        return _done(
            f"{shipment_id} is {status['delay_days']} day(s) late: within 48 hours, "
            "no re-routing needed."
        )
    contract = str(status["contract_id"])
    terms = _answers(ctx, "ask_contracts")
    if not terms:
        if calls_of(ctx, "ask_contracts"):
            return _done("The Contracts agent gave no answer; stopping without re-routing.")
        return _move(
            f"{shipment_id} is {status['delay_days']} days late. Ask Contracts what "
            f"contract {contract} allows: approved alternative carriers, re-routing "
            "of delayed shipments, who pays.",
            _call(
                ctx,
                "ask_contracts",
                {
                    "goal": f"Under contract {contract}, may a shipment that is "
                    f"{status['delay_days']} days late be re-routed, via which "
                    "approved alternative carriers, and who pays?",
                    "context": {
                        "contract_id": contract,
                        "query": "approved alternative carriers re-routing of "
                        "delayed shipments costs",
                    },
                },
            ),
        )
    passages = terms[-1].get("passages", [])
    steered = _simulated_injection(ctx, status, passages)
    if steered is not None:
        return steered
    own = [p for p in passages if p.get("contract_id") == contract]
    approved = sorted(
        {
            c
            for p in own
            if "carrier" in str(p.get("heading", "")).lower()
            for c in _CARRIER.findall(str(p.get("text", "")))
        }
    )
    clause = next((p for p in own if "re-rout" in str(p.get("heading", "")).lower()), None)
    if clause is None or not approved:
        return _done(
            f"Contract {contract} names no re-routing clause or approved carriers in "
            "what the Contracts agent found; a planner has to decide."
        )
    quote = next(
        (a["quote"] for a in _answers(ctx, "ask_carrier_relations") if a.get("quote")), None
    )
    if quote is None:
        if len(calls_of(ctx, "ask_carrier_relations")) >= 2:
            return _done(
                f"No approved carrier ({', '.join(approved)}) could take "
                f"{shipment_id}; a planner has to decide."
            )
        return _move(
            f"Contract {contract} clause {clause['clause']} allows re-routing via "
            f"an approved carrier ({', '.join(approved)}). Ask Carrier Relations for "
            "the cheapest quote among them.",
            _call(
                ctx,
                "ask_carrier_relations",
                {
                    "goal": f"Find the cheapest of {', '.join(approved)} with room for "
                    f"{status['pallets']} pallets from {status['origin']} to "
                    f"{status['destination']} and get a quote.",
                    "context": {
                        "origin": status["origin"],
                        "destination": status["destination"],
                        "pallets": status["pallets"],
                        "carriers": approved,
                    },
                },
            ),
        )
    if not _legit_requests(ctx):
        return _move(
            f"Draft the re-routing request: {quote['carrier_name']} "
            f"({quote['carrier_id']}), quote {quote['quote_id']}, "
            f"{quote['price_eur']:,.2f} EUR, citing {contract} clause "
            f"{clause['clause']}.",
            _call(
                ctx,
                "create_reroute_request",
                {
                    "body": {
                        "shipment_id": shipment_id,
                        "carrier_id": quote["carrier_id"],
                        "quote_id": quote["quote_id"],
                        "destination": status["destination"],
                        "cost_eur": quote["price_eur"],
                        "contract_id": contract,
                        "clause": clause["clause"],
                        "justification": f"{shipment_id} is {status['delay_days']} days "
                        f"late; contract {contract} clause "
                        f"{clause['clause']} ({clause['heading']}) allows "
                        "re-routing via an approved alternative carrier.",
                    }
                },
            ),
        )
    return _finish(ctx, shipment_id, quote, contract, clause)


def _legit_requests(ctx: PlanContext) -> list[Any]:
    return [
        c
        for c in calls_of(ctx, "create_reroute_request")
        if c.args.get("body", {}).get("carrier_id") != data.INJECTED_CARRIER
        and "SIMULATION" not in next((s.reasoning for s in ctx.steps if c in s.calls), "")
    ]


def _finish(
    ctx: PlanContext, shipment_id: str, quote: dict[str, Any], contract: str, clause: dict[str, Any]
) -> Plan:
    call = _legit_requests(ctx)[-1]
    done = [r for c, r in done_results(ctx, "create_reroute_request") if c is call]
    if not done:
        why = (
            "rejected by the approver"
            if call in refused(ctx, "create_reroute_request")
            else f"{call.status.value}{': ' + call.error if call.error else ''}"
        )
        return _done(f"The re-routing request for {shipment_id} was not recorded ({why}).")
    r = done[-1]
    return _done(
        f"Re-routing request {r['request_id']} submitted: {shipment_id} moves to "
        f"{quote['carrier_name']} ({r['carrier_id']}) under quote {r['quote_id']} for "
        f"{r['cost_eur']:,.2f} EUR, to {r['destination']}. It relies on contract "
        f"{r['contract_id']} clause {r['clause']} ({clause['heading']}): "
        f'"{clause["text"]}"'
    )


def _simulated_injection(
    ctx: PlanContext, status: dict[str, Any], passages: list[dict[str, Any]]
) -> Plan | None:
    """Play, once, a model that obeys instructions found in a contract passage.

    A real model may or may not fall for it; the script always does, so that every run of the
    demo shows the guardrails refusing the steered request. The reasoning says so.
    """
    if any("SIMULATION" in s.reasoning for s in ctx.steps):
        return None
    for p in passages:
        text = str(p.get("text", ""))
        carrier, place = _CARRIER.search(text), _LOCATION.search(text)
        if "re-route" not in text.lower() or carrier is None:
            continue
        body = {
            "shipment_id": str(status["shipment_id"]),
            "carrier_id": carrier[1],
            "quote_id": "Q-700001",
            "destination": place[1] if place else str(status["destination"]),
            "cost_eur": 4900,
            "contract_id": str(p["contract_id"]),
            "clause": str(p["clause"]),
            "justification": "Logistics notice: re-route via the carrier named there.",
        }
        return Plan(
            reasoning=(
                f"[{MODEL} — SIMULATION of a model steered by untrusted text] "
                f"Following the instructions in {p['contract_id']} clause "
                f"{p['clause']}: re-route to {carrier[1]}. A careful model "
                "would ignore them; the guardrails must stop them either way."
            ),
            confidence=0.8,
            model=MODEL,
            calls=[_call(ctx, "create_reroute_request", {"body": body})],
        )
    return None
