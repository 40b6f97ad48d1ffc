"""Build run histories the way the orchestrator records them (steps of CallRecords)."""

from __future__ import annotations

from typing import Any

from core.domain import (
    CallRecord,
    CallStatus,
    Decision,
    Grant,
    ProposedCall,
    Run,
    Step,
    StepStatus,
    Tool,
    Trust,
    Verdict,
)
from examples.supply_chain import data

GOAL = data.GOAL
INBOX = {"messages": [{k: v for k, v in m.items() if k != "hours_ago"} for m in data.MESSAGES]}
PO_OK = {
    "part": "P-100",
    "plant": "DE01",
    "quantity": 500,
    "vendor_id": "V-2001",
    "unit_price": 61.5,
    "currency": "EUR",
    "quote_id": "Q-000123",
}


def done(
    tool: Tool, args: dict[str, Any], result: Any, *, call_id: str = "c0", status_code: int = 200
) -> CallRecord:
    """A call that was allowed and executed, with its (parsed JSON) result."""
    return CallRecord(
        call_id=call_id,
        tool=tool.name,
        args=args,
        result=result,
        executed=True,
        status=CallStatus.DONE,
        status_code=status_code,
        side_effect=tool.side_effect.value,
        cloud=tool.location.value,
        untrusted=tool.trust is Trust.UNTRUSTED,
        decision=Decision(id="dec", verdict=Verdict.ALLOW),
    )


def refused(
    tool: Tool, args: dict[str, Any], *, reasons: list[str], call_id: str = "c0"
) -> CallRecord:
    return CallRecord(
        call_id=call_id,
        tool=tool.name,
        args=args,
        status=CallStatus.DENIED,
        side_effect=tool.side_effect.value,
        decision=Decision(id="dec", verdict=Verdict.DENY, reasons=reasons),
    )


def step(index: int, *calls: CallRecord, status: StepStatus = StepStatus.DONE) -> Step:
    return Step(index=index, status=status, calls=list(calls))


def new_run(*steps: Step, goal: str = GOAL, grant: Grant | None = None, **fields: Any) -> Run:
    return Run(
        id=fields.pop("id", "run_guard"),
        goal=goal,
        steps=list(steps),
        grant=grant or Grant(),
        **fields,
    )


def call(tool: str, **args: Any) -> ProposedCall:
    return ProposedCall(id="p0", tool=tool, args=args)


def sourcing_history(
    tools: dict[str, Tool], *, inbox: bool = True, quote: bool = True
) -> list[Step]:
    """The scenario so far: stock read, suppliers found, inbox read, both risks checked,
    a quote from the low-risk supplier (unit price 61.50 EUR)."""
    steps = [
        step(
            0,
            done(
                tools["get_stock"],
                {"plant": "DE01", "part": "P-100"},
                {
                    "part": "P-100",
                    "plant": "DE01",
                    "available": 0,
                    "unrestricted": 0,
                    "reorder_point": 200,
                },
            ),
        ),
        step(
            1,
            done(
                tools["search_suppliers"],
                {"part": "P-100", "quantity": 500},
                {
                    "part": "P-100",
                    "quantity": 500,
                    "suppliers": [
                        {
                            "supplier_id": "V-2001",
                            "name": "Nordic Bearings AB",
                            "available_quantity": 2400,
                            "can_deliver": True,
                            "indicative_unit_price": 61.5,
                            "currency": "EUR",
                        },
                        {
                            "supplier_id": "V-3002",
                            "name": "Shenzhen Precision Parts",
                            "available_quantity": 10000,
                            "can_deliver": True,
                            "indicative_unit_price": 48.2,
                            "currency": "EUR",
                        },
                    ],
                },
            ),
        ),
    ]
    if inbox:
        steps.append(step(2, done(tools["list_supplier_messages"], {}, INBOX)))
    steps.append(
        step(
            len(steps),
            done(
                tools["get_risk_score"],
                {"supplier_id": "V-2001"},
                {"supplier_id": "V-2001", "score": 0.18, "level": "low"},
            ),
            done(
                tools["get_risk_score"],
                {"supplier_id": "V-3002"},
                {"supplier_id": "V-3002", "score": 0.82, "level": "high"},
                call_id="c1",
            ),
        )
    )
    if quote:
        steps.append(
            step(
                len(steps),
                done(
                    tools["request_quote"],
                    {"body": {"supplier_id": "V-2001", "part": "P-100", "quantity": 500}},
                    {
                        "quote_id": "Q-000123",
                        "supplier_id": "V-2001",
                        "unit_price": 61.5,
                        "total": 30750.0,
                        "currency": "EUR",
                    },
                    status_code=201,
                ),
            )
        )
    return steps
