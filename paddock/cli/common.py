"""What several commands share: the local store, driving a run, approvals at the terminal."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from core.domain import Approval, Run, RunStatus
from core.errors import ConfigError, PaddockError
from core.identity.setup import Identity, identity_from_settings
from core.orchestrator.engine import Orchestrator
from core.orchestrator.outcome import run_unless_throttled
from core.orchestrator.summary import run_summary
from core.runtime import PlannerChoice, build_orchestrator
from core.settings import IdentitySettings, ModelSettings, Settings
from core.state.base import RunStore
from core.telemetry.tracing import RunTracer
from core.workflows import Workflow, WorkflowSet
from paddock.cli.render import LiveConsole, print_summary

if TYPE_CHECKING:
    from core.telemetry.setup import Telemetry

APPROVE_MODES = ("auto", "reject", "ask", "defer")
AUTO_APPROVER = "auto-approver"


def home() -> Path:
    return Path(os.environ.get("PADDOCK_HOME", ".paddock"))


def trace_file() -> Path:
    return Path(os.environ.get("PADDOCK_TRACE_FILE") or home() / "traces.jsonl")


_telemetry: list[Telemetry] = []


def run_tracer() -> RunTracer:
    """Spans of CLI runs go to the JSON-lines file (and OTLP etc. when configured), written
    in batches; ``finish`` flushes them."""
    from core.telemetry.setup import telemetry_from_env

    telemetry = telemetry_from_env(cloud="local", default_file=trace_file(), batch_default=True)
    _telemetry.append(telemetry)
    return telemetry.tracing


def flush_telemetry() -> None:
    """Write out the spans the CLI's tracers still hold."""
    for telemetry in _telemetry:
        telemetry.flush()


def open_store(kind: str | None = None) -> RunStore:
    """The CLI's store: SQLite under PADDOCK_HOME unless told otherwise."""
    kind = kind or os.environ.get("PADDOCK_CLI_STORE", "sqlite")
    if kind == "memory":
        from core.state.memory import MemoryStore

        return MemoryStore()
    if kind == "sqlite":
        from core.state.sqlite import SqliteStore

        return SqliteStore(home() / "state.db")
    if kind == "env":
        from core.state import store_from_settings

        return store_from_settings(Settings.from_env().storage)
    raise ConfigError(f"unknown store {kind!r}: choose sqlite, memory or env")


def add_store_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        choices=("sqlite", "memory", "env"),
        default=None,
        help="where run state lives (default: sqlite under $PADDOCK_HOME, "
        "./.paddock; env: PADDOCK_STORE settings)",
    )


def current_user() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli:unknown"


def ask_terminal(approval: Approval, inp: TextIO, out: TextIO) -> tuple[bool, str | None]:
    if not inp.isatty():
        raise ConfigError(
            "--approve ask needs an interactive terminal; use auto, reject or "
            "defer (then `paddock approve`)"
        )
    out.write(
        f"\nApprove {approval.tool} ({approval.id})? reasons: {'; '.join(approval.reasons)}\n[y/N] "
    )
    out.flush()
    answer = inp.readline().strip().lower()
    return answer in ("y", "yes"), None


def drive(
    orch: Orchestrator,
    run: Run,
    *,
    approve: str,
    console: LiveConsole | None,
    approver: str = AUTO_APPROVER,
) -> Run:
    """Advance the run to the end, deciding approvals as ``approve`` says.

    A call that needs a second person (the workflow's four-eyes setting) is never approved
    here on the requester's behalf: ``auto`` and ``ask`` by the requester leave it pending,
    say so and print the command another person approves it with."""
    while True:
        run = run_unless_throttled(orch.advance(run.id))
        if run.status is not RunStatus.AWAITING_APPROVAL or approve == "defer":
            return run
        blocked = False
        for approval in run.pending_approvals:
            comment: str | None
            if approve == "reject":
                ok, comment = False, "rejected automatically (--approve reject)"
            else:
                decider = approver if approve == "auto" else current_user()
                why = orch.second_person(run, approval)
                if why is not None and (approve == "auto" or decider == run.requested_by):
                    tell_second_person(run, approval, why, sys.stderr)
                    blocked = True
                    continue
                if approve == "auto":
                    ok, comment = True, "approved automatically (--approve auto)"
                else:
                    ok, comment = ask_terminal(approval, sys.stdin, sys.stderr)
                    approver = decider
            run = orch.decide(run.id, approval.id, approver=approver, approve=ok, comment=comment)
            if console is not None:
                console.approval_decided(approval.id, ok, approver)
        if blocked:
            return orch.store.get_run(run.id)


def tell_second_person(run: Run, approval: Approval, why: str, out: TextIO) -> None:
    """Say plainly that this call waits for someone other than its requester."""
    out.write(
        f"\n{approval.tool} ({approval.id}) needs a second person: {why}.\n"
        f"{run.requested_by or 'the requester'} asked for run {run.id}, so it cannot be "
        "approved here.\n"
        f"Another person approves it with:  paddock approve {run.id} {approval.id}\n"
        "(or rejects it: add --reject)\n"
    )
    out.flush()


def finish(run: Run, *, as_json: bool, planner_label: str) -> int:
    """Print the outcome; the exit code says how the run ended."""
    flush_telemetry()
    if as_json:
        print(json.dumps(run_summary(run), ensure_ascii=False, default=str))
    else:
        print_summary(run, sys.stdout, planner_label=planner_label)
        if run.status is RunStatus.AWAITING_APPROVAL:
            for a in run.pending_approvals:
                print(f"waiting: paddock approve {run.id} {a.id}   (or --reject)")
    return exit_code(run.status)


EXIT_CODES = {
    RunStatus.SUCCEEDED: 0,
    RunStatus.FAILED: 1,
    RunStatus.KILLED: 1,
    RunStatus.AWAITING_APPROVAL: 3,
    RunStatus.NEEDS_REVIEW: 4,
}
"""How a run's status ends the command (docs/cli.md); 2 is bad input, 130 an interrupt."""


def exit_code(status: RunStatus) -> int:
    """The exit code of a command that drove a run to ``status`` (1 for any other)."""
    return EXIT_CODES.get(status, 1)


def fail(message: str) -> PaddockError:
    return ConfigError(message)


def local_planners(settings: ModelSettings | None = None) -> PlannerChoice:
    """The planners of a local process (model settings default to the environment's): the
    built-in ones, with the example workflows' rule scripts and the planner of runs made for
    MCP clients (``mcp``)."""
    from examples import rule_scripts
    from paddock.mcp.direct import DirectCalls

    return PlannerChoice(
        settings or ModelSettings.from_env(),
        {"mcp": DirectCalls()},
        rule_scripts=rule_scripts(),
        aws_region=IdentitySettings.from_env().aws_region,
    )


def local_workflows(*, extra: Sequence[Workflow] = (), runs: Sequence[Run] = ()) -> WorkflowSet:
    """The workflows a local process knows: the examples, the bundles under
    ``PADDOCK_WORKFLOWS_DIR``, ``extra``, and the bundle each of ``runs`` was started from
    (reloaded from its folder, so ``paddock approve`` resumes a ``run --bundle`` run)."""
    from core.bundles import load_bundle
    from core.bundles.deployed import load_workflows
    from examples import example_workflows

    found: dict[str, Workflow] = {w.name: w for w in example_workflows().values()}
    deployed = load_workflows(Settings.from_env().workflows.dir)
    found.update({w.name: w for w in deployed.values()})
    found.update({w.name: w for w in extra})
    for run in runs:
        source = run.workflow_source
        if run.scenario and run.scenario not in found and source and Path(source).is_dir():
            found[run.scenario] = load_bundle(source)
    return WorkflowSet(found.values())


def local_orchestrator(
    *, store: RunStore, identity: Identity | None = None, **kwargs: Any
) -> Orchestrator:
    """``build_orchestrator`` for this machine, with ``settings`` from the environment unless
    given: the example workflows (their policies and meshes), their rule scripts, and the
    labelled local identities unless the settings configure real ones
    (``PADDOCK_AWS_ROLE_ARN``, ``PADDOCK_ENTRA_CLIENT_ID``, ``PADDOCK_SECRETS``)."""
    from examples import rule_scripts
    from paddock.local.identity import local_identity
    from paddock.mcp.direct import DirectCalls

    settings: Settings = kwargs.setdefault("settings", Settings.from_env())
    if identity is None and kwargs.get("executor") is None:
        identity = identity_from_settings(settings.identity, cloud="local", local=local_identity)
    kwargs.setdefault("workflows", local_workflows())
    kwargs.setdefault("rule_scripts", rule_scripts())
    kwargs.setdefault("planner_overrides", {"mcp": DirectCalls()})
    return build_orchestrator(store=store, identity=identity, **kwargs)
