"""``paddock demo`` and ``paddock run``."""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from core.domain import Budget, Run
from core.errors import ConfigError
from core.settings import LLM_CHOICES, ModelSettings
from paddock.cli.common import (
    APPROVE_MODES,
    add_store_flag,
    current_user,
    drive,
    finish,
    local_orchestrator,
    local_planners,
    local_workflows,
    open_store,
    run_tracer,
    trace_file,
)
from paddock.cli.render import LiveConsole

if TYPE_CHECKING:
    from core.identity.setup import Identity
    from core.workflows import WorkflowSet

DEFAULT_MAX_STEPS = 25

PLANNER_LABELS = {
    "rules": "offline rule planner (no model, no network)",
    "openai": "OpenAI-compatible model via the openai SDK",
    "azure-openai": "Azure OpenAI via the openai SDK",
    "bedrock": "Amazon Bedrock (Converse) via boto3",
    "anthropic": "Anthropic Messages API via the anthropic SDK",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from examples import example_names

    demo = sub.add_parser("demo", help="run a bundled scenario end to end, live")
    demo.add_argument(
        "scenario",
        nargs="?",
        default="supply-chain",
        choices=example_names(),
        help="which scenario (default: supply-chain)",
    )
    _run_flags(demo)
    demo.set_defaults(handler=cmd_demo)

    run = sub.add_parser("run", help="run a workflow bundle, or any goal against any catalog")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--bundle",
        metavar="DIR",
        help="a workflow bundle folder (docs/bundles.md): its catalog, rules, grant and agents",
    )
    source.add_argument(
        "--catalog",
        action="append",
        metavar="SPEC",
        help="OpenAPI/Swagger file or URL, mcp+ server, or python:package.module (repeatable)",
    )
    run.add_argument(
        "--goal",
        help="what the agent should achieve (required with --catalog; a bundle has a default)",
    )
    run.add_argument(
        "--base-url",
        action="append",
        default=[],
        metavar="TITLE=URL",
        help="override the base URL of the spec with this title (repeatable)",
    )
    run.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="trusted operator input for the run (repeatable)",
    )
    run.add_argument("--tenant", default="default")
    _run_flags(run)
    run.set_defaults(handler=cmd_run)


def _run_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--llm",
        choices=LLM_CHOICES,
        default="rules",
        help="planner: offline rules (default), openai, azure-openai, bedrock, anthropic",
    )
    p.add_argument(
        "--model",
        metavar="NAME",
        help="the model of --llm (default from OPENAI_MODEL, AZURE_OPENAI_DEPLOYMENT, "
        "BEDROCK_MODEL_ID or ANTHROPIC_MODEL)",
    )
    p.add_argument(
        "--approve",
        choices=APPROVE_MODES,
        default="ask",
        help="approvals: auto, reject, ask on the terminal (default), or defer "
        "(leave the run waiting for `paddock approve`)",
    )
    p.add_argument("--max-steps", type=_positive, default=DEFAULT_MAX_STEPS, metavar="N")
    p.add_argument(
        "--json",
        action="store_true",
        help="print live output to stderr and one JSON summary as the last line",
    )
    add_store_flag(p)


def model_settings(args: argparse.Namespace) -> ModelSettings:
    """The environment's model settings, with ``--model`` laid over the chosen planner's."""
    settings = ModelSettings.from_env()
    model = getattr(args, "model", None)
    return settings if model is None else settings.with_model(args.llm, model)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} expects KEY=VALUE, got {item!r}")
        pairs[key.strip()] = value
    return pairs


def _start(
    args: argparse.Namespace,
    run: Run,
    header: str,
    identity: Identity | None = None,
    workflows: WorkflowSet | None = None,
) -> int:
    out = sys.stderr if args.json else sys.stdout
    console = LiveConsole(out)
    planners = local_planners(model_settings(args))
    planner = planners(run)  # fail early, with one line, on a bad model configuration
    label = PLANNER_LABELS.get(args.llm, args.llm)
    if args.llm != "rules":
        label = f"{planner.label} ({label})"
    print(header, file=out)
    print(f"planner: {label}", file=out)
    print(f"run:     {run.id}\ngoal:    {run.goal}", file=out)
    store = open_store(args.store)
    orch = local_orchestrator(
        store=store,
        observer=console,
        planners=planners,
        tracing=run_tracer(),
        identity=identity,
        workflows=workflows or local_workflows(),
    )
    run = orch.create(run)
    run = drive(orch, run, approve=args.approve, console=console)
    code = finish(run, as_json=args.json, planner_label=label)
    print(f"trace:    paddock trace {run.id}    (spans in {trace_file()})", file=out)
    return code


def new_run_id() -> str:
    return "run_" + uuid.uuid4().hex[:12]


def cmd_demo(args: argparse.Namespace) -> int:
    from examples import get_example
    from paddock.local.identity import local_identity_bundle

    scenario = get_example(args.scenario)
    identity, local = local_identity_bundle()
    verify = dict(scenario.local_auth(local)) if scenario.local_auth is not None else None
    services_cm = (
        scenario.services(verify_auth=verify) if verify is not None else scenario.services()
    )
    with services_cm as services:
        run = Run(
            id=new_run_id(),
            goal=scenario.goal,
            scenario=scenario.name,
            catalog=[str(p) for p in scenario.spec_paths()],
            base_urls=dict(services.base_urls),
            inputs=dict(scenario.inputs),
            planner=args.llm,
            grant=scenario.grant,
            requested_by=current_user(),
            budget=Budget(max_steps=args.max_steps),
        )
        if args.approve == "defer":
            print(
                "note: the demo's services live only as long as this process; a run resumed "
                "later with `paddock approve` will find them gone (use --approve ask to "
                "decide here)",
                file=sys.stderr,
            )
        header = (
            f"Paddock demo: {scenario.title} (services on 127.0.0.1)\n"
            "identity: local credentials (SigV4 with a generated key, tokens from a "
            "local OIDC issuer, a generated API key); each service verifies them"
        )
        if scenario.agent is not None:  # a mesh: the orchestrating agent delegates
            from paddock.cli.cmd_agents import run_mesh_demo

            return run_mesh_demo(args, scenario, run, header, identity)
        return _start(args, run, header, identity)


def cmd_run(args: argparse.Namespace) -> int:
    from core.catalog import Catalog

    if args.bundle is not None:
        return _run_bundle(args)
    if args.goal is None:
        raise ConfigError("--goal is required with --catalog")
    sources = [
        s if "://" in s or s.startswith(("mcp+", "python:")) else str(Path(s).resolve())
        for s in args.catalog
    ]
    base_urls = _pairs(args.base_url, "--base-url")
    Catalog.from_sources(sources, base_urls=base_urls)  # a bad spec fails here, clearly
    run = Run(
        id=new_run_id(),
        goal=args.goal,
        tenant=args.tenant,
        catalog=sources,
        base_urls=base_urls,
        inputs=_pairs(args.input, "--input"),
        planner=args.llm,
        requested_by=current_user(),
        budget=Budget(max_steps=args.max_steps),
    )
    return _start(args, run, "Paddock run")


def _run_bundle(args: argparse.Namespace) -> int:
    from core.bundles import load_bundle
    from core.bundles.start import start_workflow_run
    from paddock.cli.inputs import cli_inputs

    workflow = load_bundle(args.bundle)
    if args.llm == "rules":
        raise ConfigError(
            "the offline rule planner plays only the example workflows' scripts; run a "
            "bundle with a model: --llm openai, azure-openai, bedrock or anthropic"
        )
    run = Run(
        id=new_run_id(),
        goal="",
        tenant=args.tenant,
        base_urls=_pairs(args.base_url, "--base-url"),
        planner=args.llm,
        requested_by=current_user(),
    )
    inputs = cli_inputs(workflow, _pairs(args.input, "--input"))
    asked = {"max_steps": args.max_steps} if args.max_steps != DEFAULT_MAX_STEPS else {}
    start_workflow_run(run, workflow, goal=args.goal, inputs=inputs, budget=asked)
    header = f"Paddock run: workflow {workflow.name} (version {workflow.version})"
    return _start(args, run, header, workflows=local_workflows(extra=[workflow]))
