"""``paddock agents list|show`` and the mesh demo (``paddock demo shipment-delay``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from core.domain import Approval, CallRecord, Run, Step
from core.errors import ConfigError
from paddock.cli.common import (
    AUTO_APPROVER,
    current_user,
    finish,
    open_store,
    run_tracer,
    trace_file,
)
from paddock.cli.render import LiveConsole, short


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agents = sub.add_parser("agents", help="the domain agents of the bundled meshes")
    verbs = agents.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True
    listing = verbs.add_parser("list", help="every agent profile, by scenario")
    listing.add_argument("--json", action="store_true", help="one JSON document")
    listing.set_defaults(handler=cmd_list)
    show = verbs.add_parser("show", help="one agent profile in full")
    show.add_argument("name", help="the agent's name, e.g. carrier_relations")
    show.add_argument("--scenario", help="the scenario whose agent it is (when ambiguous)")
    show.add_argument("--json", action="store_true", help="one JSON document")
    show.set_defaults(handler=cmd_show)


def _meshes() -> dict[str, Any]:
    from core.mesh import WorkflowMeshes
    from examples import example_workflows

    meshes = WorkflowMeshes(example_workflows().agent_dirs())
    return {s: meshes.for_workflow(s) for s in meshes.scenarios}


def cmd_list(args: argparse.Namespace) -> int:
    meshes = _meshes()
    if args.json:
        print(
            json.dumps(
                {
                    s: [p.model_dump(mode="json") for p in m.profiles.values()]
                    for s, m in meshes.items()
                },
                indent=2,
            )
        )
        return 0
    for scenario, mesh in meshes.items():
        print(f"{scenario}:")
        for p in mesh.profiles.values():
            asks = f"  delegates to {', '.join(p.delegates)}" if p.delegates else ""
            print(
                f"  {p.name:<20} {p.title:<20} home {p.home_cloud:<6} "
                f"{len(p.tools)} tool(s), {'/'.join(p.side_effects)}{asks}"
            )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    found = [
        (s, m)
        for s, m in _meshes().items()
        if args.name in m.profiles and args.scenario in (None, s)
    ]
    if not found:
        raise ConfigError(
            f"no agent {args.name!r}"
            + (f" in scenario {args.scenario!r}" if args.scenario else "")
            + ": see `paddock agents list`"
        )
    if len(found) > 1:
        raise ConfigError(f"agent {args.name!r} exists in several scenarios; pass --scenario")
    scenario, mesh = found[0]
    profile = mesh.get(args.name)
    grant = mesh.grant(profile.name)
    if args.json:
        print(
            json.dumps(
                {
                    "scenario": scenario,
                    **profile.model_dump(mode="json"),
                    "grant": grant.model_dump(mode="json"),
                },
                indent=2,
            )
        )
        return 0
    b = profile.budget
    print(f"{profile.title} ({profile.name}) · scenario {scenario}")
    print(f"  domain:     {profile.domain}")
    print(f"  home cloud: {profile.home_cloud}")
    print(f"  tools:      {', '.join(profile.tools)}")
    print(f"  delegates:  {', '.join(mesh.get(d).ask_tool for d in profile.delegates) or '-'}")
    print(f"  may:        {', '.join(profile.side_effects)}")
    print(
        f"  planner:    {profile.planner or 'as the delegating run'}"
        + (f" (model {profile.model})" if profile.model else "")
    )
    print(
        f"  budget:     {b.max_steps} steps, {b.max_tool_calls or 'unlimited'} tool calls, "
        f"{b.max_tokens or 'unlimited'} tokens, "
        + (f"${b.max_cost_usd:.2f}" if b.max_cost_usd is not None else "no cost cap")
    )
    print(
        f"  grant:      {', '.join(grant.tools or ['every tool'])} "
        f"[{', '.join(grant.side_effects)}]"
    )
    return 0


class MeshConsole(LiveConsole):
    """The live console, each line labelled with the agent (and indented for child runs)."""

    def __init__(self, out: TextIO | None = None) -> None:
        super().__init__(out)
        self._label = ""

    def _p(self, text: str = "") -> None:
        if not self._label:
            super()._p(text)
            return
        lead = "\n" if text.startswith("\n") else ""
        super()._p(lead + self._label + text.lstrip("\n"))

    def _as(self, run: Run) -> None:
        agent = run.agent or "run"
        self._label = f"    [{agent} · {run.id}] " if run.parent_id else f"[{agent}] "

    def step_planned(self, run: Run, step: Step) -> None:
        self._as(run)
        super().step_planned(run, step)

    def call_decided(self, run: Run, step: Step, call: CallRecord) -> None:
        self._as(run)
        super().call_decided(run, step, call)

    def call_finished(self, run: Run, step: Step, call: CallRecord) -> None:
        self._as(run)
        super().call_finished(run, step, call)

    def run_paused(self, run: Run) -> None:
        self._as(run)
        super().run_paused(run)

    def run_finished(self, run: Run) -> None:
        if run.parent_id:
            self._as(run)
            self._p(f"finished {run.status.value}: {short(run.result or run.reason, 300)}")


def _decider(mode: str, out: TextIO, orch: Any) -> Any:
    def decide(holder: Run, approval: Approval) -> tuple[bool, str, str | None] | None:
        if mode == "defer":
            return None
        if mode in ("auto", "ask"):  # never for the requester, when four eyes are required
            why = orch.second_person(holder, approval)
            if why is not None and (mode == "auto" or current_user() == holder.requested_by):
                from paddock.cli.common import tell_second_person

                tell_second_person(holder, approval, why, sys.stderr)
                return None
        if mode == "auto":
            return True, AUTO_APPROVER, "approved automatically (--approve auto)"
        if mode == "reject":
            return False, AUTO_APPROVER, "rejected automatically (--approve reject)"
        from paddock.cli.common import ask_terminal

        where = f" raised in child run {holder.id} ({holder.agent})" if holder.parent_id else ""
        out.write(f"\napproval {approval.id}{where}\n")
        ok, comment = ask_terminal(approval, sys.stdin, sys.stderr)
        return ok, current_user(), comment

    return decide


def run_mesh_demo(
    args: argparse.Namespace, scenario: Any, run: Run, header: str, identity: Any = None
) -> int:
    """Run the scenario's orchestrating agent and its child runs through in-memory queues."""
    from core.mesh import WorkflowMeshes, act_as
    from core.orchestrator.children import ChildRuns
    from examples import example_workflows
    from paddock.cli.cmd_run import model_settings
    from paddock.cli.common import local_orchestrator, local_planners
    from paddock.local.mesh import LocalMesh, memory_queues

    out = sys.stderr if args.json else sys.stdout
    mesh = WorkflowMeshes(example_workflows().agent_dirs()).for_workflow(scenario.name)
    if mesh is None or scenario.agent is None:
        raise ConfigError(f"scenario {scenario.name} has no agent mesh")
    profile = mesh.get(scenario.agent)
    act_as(run, mesh, profile.name)
    console = MeshConsole(out)
    store = open_store(args.store)
    queues = memory_queues()
    planners = local_planners(model_settings(args))
    planners(run)  # a bad model configuration fails here, with one line
    orch = local_orchestrator(
        store=store,
        observer=console,
        planners=planners,
        tracing=run_tracer(),
        identity=identity,
        children=ChildRuns(store, queues, cloud="local"),
    )
    print(header, file=out)
    helpers = ", ".join(
        f"{mesh.get(d).title} ({mesh.get(d).home_cloud})" for d in profile.delegates
    )
    print(f"agents:  {profile.title} ({profile.home_cloud}) delegates to {helpers}", file=out)
    print(f"run:     {run.id}\ngoal:    {run.goal}", file=out)
    local = LocalMesh({"local": orch}, queues)
    local.start(run, cloud="local")

    def decided(holder: Run, approval: Approval, ok: bool) -> None:
        console.approval_decided(
            approval.id, ok, "auto-approver" if args.approve != "ask" else current_user()
        )

    final = local.run_until_settled(
        run.id, decide=_decider(args.approve, out, orch), on_decided=decided
    )
    label = "offline rule planner (no model, no network)" if args.llm == "rules" else args.llm
    code = finish(final, as_json=args.json, planner_label=label)
    print(
        f"tree:     paddock trace {final.id}    (spans in {trace_file()}; child runs "
        f"{', '.join(c.id for c in final.children) or '-'})",
        file=out,
    )
    return code
