"""Events derived from the committed run: which, with what ids, and how statuses map."""

from __future__ import annotations

from core.domain import Approval, ApprovalStatus, Run, RunStatus
from core.events import EVENT_NAMES, run_events


def _run(status: RunStatus, **kw: object) -> Run:
    return Run.model_validate(
        {"id": "run_1", "goal": "g", "tenant": "acme", "status": status, **kw}
    )


def _approval(status: ApprovalStatus) -> Approval:
    return Approval(
        id="ap_1",
        run_id="run_1",
        step_index=1,
        call_id="c1",
        tool="create_order",
        args_hash="h",
        status=status,
        decided_by=None if status is ApprovalStatus.PENDING else "bob",
    )


def test_a_pending_run_has_no_events_and_a_running_one_has_started() -> None:
    assert run_events(_run(RunStatus.PENDING)) == []
    [started] = run_events(_run(RunStatus.RUNNING, step_count=1))
    assert (started.id, started.type, started.subject) == (
        "run_1:run.started",
        "com.paddock.run.started",
        "run_1",
    )
    assert started.to_dict()["paddocktenant"] == "acme"


def test_ids_are_stable_across_recomputation() -> None:
    run = _run(RunStatus.AWAITING_APPROVAL, approvals=[_approval(ApprovalStatus.PENDING)])
    first = [e.to_dict() for e in run_events(run, source="/paddock/test")]
    assert first == [e.to_dict() for e in run_events(run, source="/paddock/test")]
    assert [e["id"] for e in first] == ["run_1:run.started", "run_1:approval.requested:ap_1"]


def test_a_decided_approval_adds_approval_decided() -> None:
    run = _run(RunStatus.RUNNING, approvals=[_approval(ApprovalStatus.REJECTED)])
    names = [e.name for e in run_events(run)]
    assert names == ["run.started", "approval.requested", "approval.decided"]
    assert run_events(run)[-1].data["decision"] == "rejected"


def test_every_terminal_status_maps_by_value_to_a_documented_event() -> None:
    for status in RunStatus:
        if not status.finished:
            continue
        last = run_events(_run(status, step_count=1, error="boom"))[-1]
        assert last.name == f"run.{status.value}" and last.name in EVENT_NAMES
        assert last.data["status"] == status.value


def test_a_run_killed_before_it_started_reports_only_killed() -> None:
    assert [e.name for e in run_events(_run(RunStatus.KILLED))] == ["run.killed"]


def test_long_texts_are_cut_so_an_event_fits_every_transport() -> None:
    run = _run(RunStatus.SUCCEEDED, step_count=1, goal="g" * 5000, result="r" * 300_000)
    done = run_events(run)[-1]
    assert len(done.data["result"]) == 1000 and done.data["result"].endswith("…")
    assert len(done.data["goal"]) == 1000
    assert len(done.model_dump_json()) < 8000
