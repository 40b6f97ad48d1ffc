"""One contract suite for every ``RunStore``: memory, SQLite, DynamoDB on moto, Table on Azurite."""

from __future__ import annotations

import random
import string
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from core.domain import Approval, CallRecord, CallStatus, Run, RunStatus, Step, StepStatus
from core.errors import BackendError, ConflictError, NotFoundError
from core.state.base import KILL_GLOBAL, RunStore, kill_scope_run, kill_scope_tenant

pytestmark = pytest.mark.emulators


def new_run(**fields: Any) -> Run:
    fields.setdefault("id", f"run-{uuid.uuid4().hex[:10]}")
    fields.setdefault("goal", "reorder stock")
    return Run(**fields)


def step(index: int, result: Any = None) -> Step:
    call = CallRecord(
        call_id=f"c{index}",
        tool="erp.create_po",
        args={"sku": "A-1", "qty": 3},
        cloud="azure",
        status=CallStatus.DONE,
        executed=True,
        result=result,
    )
    return Step(index=index, status=StepStatus.DONE, reasoning=f"step {index}", calls=[call])


def advance(store: RunStore, run: Run, new_step: Step, **changes: Any) -> Run:
    updated = run.model_copy(update={"step_count": new_step.index + 1, **changes})
    return store.checkpoint(updated, expected_version=run.version, steps=[new_step])


# -- create / get ----------------------------------------------------------------------------


def test_create_then_get_round_trips_head_and_steps(store: RunStore) -> None:
    approval = Approval(
        id="ap1",
        run_id="r",
        step_index=0,
        call_id="c0",
        tool="erp.delete",
        args_hash="h" * 64,
        reasons=["destructive"],
    )
    run = new_run(
        tenant="acme", inputs={"sku": "A-1"}, approvals=[approval], steps=[step(0), step(1)]
    )
    created = store.create_run(run)
    assert created.version == 1
    got = store.get_run(run.id)
    assert got.version == 1
    assert got.model_dump(exclude={"updated_at"}) == created.model_dump(exclude={"updated_at"})
    assert [s.index for s in got.steps] == [0, 1]
    assert got.approvals[0].args_hash == "h" * 64
    head = store.get_run(run.id, with_steps=False)
    assert head.steps == [] and head.tenant == "acme"


def test_missing_run_and_duplicate_create(store: RunStore) -> None:
    with pytest.raises(NotFoundError):
        store.get_run("no-such-run")
    with pytest.raises(NotFoundError):
        store.get_run("no-such-run", with_steps=False)
    run = store.create_run(new_run())
    with pytest.raises(ConflictError):
        store.create_run(new_run(id=run.id, goal="other"))
    assert store.get_run(run.id).goal == "reorder stock"


# -- checkpoints -----------------------------------------------------------------------------


def test_checkpoint_bumps_version_and_upserts_steps(store: RunStore) -> None:
    run = store.create_run(new_run())
    run = advance(store, run, step(0), status=RunStatus.RUNNING)
    assert run.version == 2
    rewritten = step(0).model_copy(update={"reasoning": "rewritten"})
    run = store.checkpoint(run, expected_version=2, steps=[rewritten, step(1)])
    got = store.get_run(run.id)
    assert got.version == 3 and got.status is RunStatus.RUNNING
    assert [(s.index, s.reasoning) for s in got.steps] == [(0, "rewritten"), (1, "step 1")]
    head_only = store.checkpoint(got, expected_version=3)
    assert store.get_run(run.id).version == head_only.version == 4


def test_stale_version_raises_conflict_and_writes_nothing(store: RunStore) -> None:
    run = store.create_run(new_run())
    advance(store, run, step(0))
    for stale in (1, 0, 7):
        with pytest.raises(ConflictError):
            store.checkpoint(
                run.model_copy(update={"goal": "hijack"}), expected_version=stale, steps=[step(5)]
            )
    got = store.get_run(run.id)
    assert got.version == 2 and got.goal == "reorder stock"
    assert [s.index for s in got.steps] == [0]


def test_checkpoint_of_missing_run_is_not_found(store: RunStore) -> None:
    with pytest.raises(NotFoundError):
        store.checkpoint(new_run(), expected_version=1, steps=[step(0)])


def test_two_workers_never_both_win_a_checkpoint(store: RunStore) -> None:
    """Both workers read the same version, then both write. At most one may win each round;
    none may win twice for one version, and the stored steps are exactly the winners'. (Both
    may lose a round: DynamoDB cancels both of two concurrent transactions on one item with
    ``TransactionConflict``, which the store reports as a conflict to re-read and retry.)"""
    run = store.create_run(new_run(status=RunStatus.RUNNING))
    rounds, barrier = 20, threading.Barrier(2, timeout=60)
    wins: dict[int, list[str]] = {}
    lock = threading.Lock()

    def worker(name: str) -> None:
        for _ in range(rounds):
            current = store.get_run(run.id, with_steps=False)
            barrier.wait()  # both have read the same version before either writes
            mine = step(current.step_count, result={"by": name})
            try:
                advance(store, current, mine)
            except ConflictError:
                pass
            else:
                with lock:
                    wins.setdefault(current.version, []).append(name)
            barrier.wait()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("aws", "azure")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(len(names) == 1 for names in wins.values()), wins
    won = sorted(wins)
    assert won == list(range(1, len(won) + 1))  # each win moved the run one version on
    assert len(won) >= rounds // 2, f"only {len(won)} of {rounds} rounds had a winner"
    final = store.get_run(run.id)
    assert final.version == len(won) + 1
    assert [s.calls[0].result["by"] for s in final.steps] == [wins[v][0] for v in won]


@pytest.mark.slow  # ~30 s on moto (it deep-copies the table per transaction), ~11 s on Azurite
def test_thousand_step_run(store: RunStore) -> None:
    run = store.create_run(new_run(status=RunStatus.RUNNING))
    started = time.perf_counter()
    for i in range(1000):
        run = advance(store, run, step(i, result={"i": i}))
    elapsed = time.perf_counter() - started
    got = store.get_run(run.id)
    assert got.version == 1001 and got.step_count == 1000
    assert [s.calls[0].result["i"] for s in got.steps] == list(range(1000))
    print(f"\n1,000 checkpoints on {type(store).__name__}: {elapsed:.2f} s")


def test_large_tool_result_and_head_round_trip(store: RunStore) -> None:
    rng = random.Random(5)
    blob = "".join(rng.choices(string.ascii_letters + "é€😀", k=2 * 1024 * 1024))
    run = store.create_run(new_run(inputs={"document": blob[:600_000]}))
    run = advance(store, run, step(0, result={"text": blob}))
    got = store.get_run(run.id)
    assert got.steps[0].calls[0].result["text"] == blob
    assert got.inputs["document"] == blob[:600_000]
    run = advance(store, got, step(1, result="small"))
    assert store.get_run(run.id).steps[1].calls[0].result == "small"


def test_a_parent_with_a_thousand_children_round_trips(store: RunStore) -> None:
    # 1,000 child records with answers of 4,000 characters: ~4.5 MB on the parent's head, far
    # over DynamoDB's 400 KB item and Azure Table's 1 MB entity limits without the claim-check.
    from core.domain import ChildRef

    refs = [
        ChildRef(
            id=f"child-{n:04d}",
            step_index=0,
            call_id="fan",
            goal=f"assess supplier S-{n:04d}",
            status=RunStatus.SUCCEEDED,
            result=f"S-{n:04d} " + "x" * 3990,
        )
        for n in range(1000)
    ]
    run = store.create_run(new_run())
    run = advance(store, run, step(0), children=refs)
    got = store.get_run(run.id)
    assert [c.id for c in got.children] == [r.id for r in refs]
    assert got.children[999].result == refs[999].result
    run = advance(store, got, step(1, result="after"))  # and it can still be checkpointed
    assert store.get_run(run.id, with_steps=False).children[0].result == refs[0].result


# -- listing ---------------------------------------------------------------------------------


def test_list_by_status_and_tenant_newest_first_with_pages(store: RunStore) -> None:
    tag = uuid.uuid4().hex[:6]
    base = datetime(2030, 1, 1, tzinfo=UTC)
    plan = [
        ("acme", RunStatus.RUNNING),
        ("acme", RunStatus.SUCCEEDED),
        ("globex", RunStatus.RUNNING),
        ("acme", RunStatus.RUNNING),
        ("globex", RunStatus.FAILED),
        ("acme", RunStatus.RUNNING),
        ("acme", RunStatus.AWAITING_APPROVAL),
    ]
    ids = []
    for i, (tenant, status) in enumerate(plan):
        run = new_run(
            id=f"{tag}-{i}",
            tenant=f"{tenant}-{tag}",
            status=status,
            created_at=base + timedelta(seconds=i),
        )
        store.create_run(run)
        ids.append(run.id)

    def walk(**filters: Any) -> list[str]:
        seen, cursor = [], None
        for _ in range(10):
            page = store.list_runs(limit=2, cursor=cursor, **filters)
            assert len(page.runs) <= 2 and all(r.steps == [] for r in page.runs)
            seen += [r.id for r in page.runs]
            cursor = page.cursor
            if cursor is None:
                return seen
        raise AssertionError("pagination did not end")

    expect = [ids[i] for i in (5, 3, 0)]
    assert walk(status=RunStatus.RUNNING, tenant=f"acme-{tag}") == expect
    assert walk(tenant=f"acme-{tag}") == [ids[i] for i in (6, 5, 3, 1, 0)]
    assert walk(tenant=f"globex-{tag}") == [ids[4], ids[2]]
    running = [r for r in walk(status=RunStatus.RUNNING) if r.startswith(tag)]
    assert running == [ids[i] for i in (5, 3, 2, 0)]
    everything = [r for r in walk() if r.startswith(tag)]
    assert everything == list(reversed(ids))

    moved = store.get_run(ids[3])
    store.checkpoint(
        moved.model_copy(update={"status": RunStatus.SUCCEEDED}), expected_version=moved.version
    )
    assert walk(status=RunStatus.RUNNING, tenant=f"acme-{tag}") == [ids[5], ids[0]]
    assert walk(status=RunStatus.SUCCEEDED, tenant=f"acme-{tag}") == [ids[3], ids[1]]
    assert store.list_runs(tenant=f"nobody-{tag}").runs == []


def test_listing_orders_by_instant_whatever_the_time_zone(store: RunStore) -> None:
    """Newest first by the moment of creation: offsets are normalised, naive times are UTC."""
    tenant = f"tz-{uuid.uuid4().hex[:6]}"
    noon = datetime(2030, 1, 1, 12, tzinfo=UTC)
    moments = {
        "utc": noon,
        "plus2": (noon + timedelta(hours=1)).astimezone(timezone(timedelta(hours=2))),
        "minus5": (noon + timedelta(hours=2)).astimezone(timezone(timedelta(hours=-5))),
        "naive": (noon + timedelta(hours=3)).replace(tzinfo=None),
    }
    for name, moment in moments.items():
        store.create_run(new_run(id=f"{tenant}-{name}", tenant=tenant, created_at=moment))
    listed = [r.id.removeprefix(f"{tenant}-") for r in store.list_runs(tenant=tenant).runs]
    assert listed == ["naive", "minus5", "plus2", "utc"]


def test_pages_neither_repeat_nor_skip_while_runs_are_created_and_move(store: RunStore) -> None:
    """A cursor marks a place in the order, not a count: runs created or finished between two
    pages do not shift the next page."""
    tenant = f"page-{uuid.uuid4().hex[:6]}"
    base = datetime(2030, 1, 1, tzinfo=UTC)
    ids = [f"{tenant}-{i}" for i in range(5)]
    for i, run_id in enumerate(ids):
        store.create_run(
            new_run(
                id=run_id,
                tenant=tenant,
                status=RunStatus.RUNNING,
                created_at=base + timedelta(seconds=i),
            )
        )
    first = store.list_runs(tenant=tenant, limit=2)
    assert [r.id for r in first.runs] == [ids[4], ids[3]]
    store.create_run(new_run(id=f"{tenant}-new", tenant=tenant, created_at=base + timedelta(1)))
    second = store.list_runs(tenant=tenant, limit=2, cursor=first.cursor)
    assert [r.id for r in second.runs] == [ids[2], ids[1]]

    running = store.list_runs(tenant=tenant, status=RunStatus.RUNNING, limit=2)
    assert [r.id for r in running.runs] == [ids[4], ids[3]]
    seen = store.get_run(ids[4], with_steps=False)
    store.checkpoint(
        seen.model_copy(update={"status": RunStatus.SUCCEEDED}), expected_version=seen.version
    )
    rest = store.list_runs(tenant=tenant, status=RunStatus.RUNNING, limit=2, cursor=running.cursor)
    assert [r.id for r in rest.runs] == [ids[2], ids[1]]


def test_a_page_holds_at_least_one_run(store: RunStore) -> None:
    """``limit=0`` would hand back the same cursor forever; it is refused."""
    store.create_run(new_run())
    for limit in (0, -1):
        with pytest.raises(BackendError):
            store.list_runs(limit=limit)


# -- kill flags, idempotency, counters -------------------------------------------------------


def test_kill_flags_cover_global_tenant_and_run(store: RunStore) -> None:
    assert store.kill_reason(tenant="acme", run_id="r1") is None
    store.set_kill(kill_scope_run("r1"), "runaway")
    reason = store.kill_reason(tenant="acme", run_id="r1")
    assert reason is not None and "runaway" in reason
    assert store.kill_reason(tenant="acme", run_id="r2") is None
    store.set_kill(kill_scope_tenant("acme"), "tenant frozen")
    assert "tenant frozen" in (store.kill_reason(tenant="acme", run_id="r2") or "")
    assert store.kill_reason(tenant="globex", run_id="r2") is None
    store.set_kill(KILL_GLOBAL, "incident 42")
    assert "incident 42" in (store.kill_reason(tenant="globex", run_id="r9") or "")
    store.clear_kill(KILL_GLOBAL)
    store.clear_kill(KILL_GLOBAL)  # lowering a lowered flag is fine
    store.clear_kill(kill_scope_tenant("acme"))
    assert "runaway" in (store.kill_reason(tenant="acme", run_id="r1") or "")
    assert store.kill_reason(tenant="acme", run_id="r2") is None


def test_idempotency_put_if_absent(store: RunStore) -> None:
    key = f"idem-{uuid.uuid4().hex}"
    results: list[str] = []
    barrier = threading.Barrier(6)

    def claim(value: str) -> None:
        barrier.wait()
        results.append(store.put_idempotency(key, value))

    threads = [threading.Thread(target=claim, args=(f"worker-{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 6 and len(set(results)) == 1
    assert store.put_idempotency(key, "late") == results[0]
    expired = f"idem-{uuid.uuid4().hex}"
    assert store.put_idempotency(expired, "old", ttl_seconds=-1) == "old"
    assert store.put_idempotency(expired, "new") == "new"
    assert store.put_idempotency(expired, "newer") == "new"


def test_counter_compare_and_set(store: RunStore) -> None:
    name = f"bucket-{uuid.uuid4().hex[:8]}"
    empty = store.get_counter(name)
    assert empty.value == {} and empty.etag is None
    etag = store.put_counter(name, {"tokens": 10.0, "ts": 1.5}, etag=None)
    with pytest.raises(ConflictError):
        store.put_counter(name, {"tokens": 0.0}, etag=None)
    got = store.get_counter(name)
    assert got.value == {"tokens": 10.0, "ts": 1.5} and got.etag == etag
    store.put_counter(name, {"tokens": 9.0}, etag=etag)
    with pytest.raises(ConflictError):
        store.put_counter(name, {"tokens": 8.0}, etag=etag)
    assert store.get_counter(name).value == {"tokens": 9.0}


def test_counter_increments_race_without_losing_updates(store: RunStore) -> None:
    name = f"race-{uuid.uuid4().hex[:8]}"
    per_worker, workers = 10, 4

    def bump() -> None:
        for _ in range(per_worker):
            while True:
                current = store.get_counter(name)
                value = current.value.get("n", 0.0) + 1
                try:
                    store.put_counter(name, {"n": value}, etag=current.etag)
                    break
                except ConflictError:
                    continue

    threads = [threading.Thread(target=bump) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert store.get_counter(name).value == {"n": float(per_worker * workers)}
