"""Wiring: build an ``Orchestrator`` from settings. The one place that picks implementations."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from core.catalog.loader import is_url
from core.domain import Decision, ProposedCall, Run, Tool
from core.domain.observer import NullObserver, RunObserver
from core.errors import ConfigError
from core.execution.base import Executor
from core.guardrails.base import Guard
from core.orchestrator.children import ChildRuns, with_subtask_tool
from core.orchestrator.engine import Handoff, Orchestrator, ToolSource
from core.planner.base import Planner
from core.planner.rules import RuleScript
from core.ratelimit.llm import limited_planners
from core.settings import LLM_CHOICES, ModelSettings, Settings
from core.state.base import RunStore
from core.telemetry.tracing import RunTracer
from core.workflows import WorkflowSet

if TYPE_CHECKING:
    from core.identity.setup import Identity


class CatalogCache:
    """Catalogs by (sources, base URLs), built once per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], ToolSource] = {}

    def __call__(self, run: Run) -> ToolSource:
        from core.catalog import Catalog

        key = (tuple(run.catalog), tuple(sorted(run.base_urls.items())))
        with self._lock:
            found = self._cache.get(key)
            if found is None:
                found = Catalog.from_sources(list(run.catalog), base_urls=dict(run.base_urls))
                self._cache[key] = found
            return found


class RunCatalogs:
    """Each run's catalog: its workflow's (in the version it started with, overlays applied,
    vendor labels tighten-only) or, for a run of no workflow, its own spec sources."""

    def __init__(self, workflows: WorkflowSet | None = None) -> None:
        from core.bundles import WorkflowCatalogs

        self.workflows = workflows if workflows is not None else WorkflowSet()
        self._plain = CatalogCache()
        self._bundles = WorkflowCatalogs()

    def __call__(self, run: Run) -> ToolSource:
        workflow = self.workflows.for_run(run)
        if workflow is None:
            return self._plain(run)
        return self._bundles.get(workflow, run.base_urls)


class PlannerChoice:
    """Planners by the run's ``planner`` field: ``rules``, ``openai``, ``azure-openai``,
    ``bedrock``, ``anthropic``.

    Args:
        settings: how the models are reached (``Settings.model``).
        overrides: planners by name that win over the built-in ones (e.g. the CLI's ``mcp``).
        rule_scripts: the offline rule planner's script per workflow name.
        aws_region: the region of ``bedrock`` (the process's ``AWS_REGION``).
    """

    def __init__(
        self,
        settings: ModelSettings,
        overrides: Mapping[str, Planner] | None = None,
        *,
        rule_scripts: Mapping[str, RuleScript] | None = None,
        aws_region: str | None = None,
    ) -> None:
        self._settings = settings
        self._cache: dict[str, Planner] = dict(overrides or {})
        self._rule_scripts = dict(rule_scripts or {})
        self._aws_region = aws_region
        self._lock = threading.Lock()

    def __call__(self, run: Run) -> Planner:
        with self._lock:
            found = self._cache.get(run.planner)
            if found is None:
                found = make_planner(
                    run.planner,
                    self._settings,
                    rule_scripts=self._rule_scripts,
                    aws_region=self._aws_region,
                )
                self._cache[run.planner] = found
            return found


def make_planner(
    name: str,
    settings: ModelSettings,
    *,
    rule_scripts: Mapping[str, RuleScript] | None = None,
    aws_region: str | None = None,
) -> Planner:
    """The planner called ``name`` (one of ``LLM_CHOICES``); ``aws_region`` is Bedrock's."""
    if name == "rules":
        from core.planner.rules import RulePlanner

        return RulePlanner(rule_scripts)
    if name == "openai":
        from core.planner.openai_planner import from_settings

        return from_settings(settings)
    if name == "azure-openai":
        from core.planner.openai_planner import azure_from_settings

        return azure_from_settings(settings)
    if name == "bedrock":
        from core.planner.bedrock_planner import from_settings as bedrock_from_settings

        return bedrock_from_settings(settings, region=aws_region)
    if name == "anthropic":
        from core.planner.anthropic_planner import from_settings as anthropic_from_settings

        return anthropic_from_settings(settings)
    raise ConfigError(f"unknown planner {name!r}: choose one of {', '.join(LLM_CHOICES)}")


class WorkflowGuard:
    """Applies each workflow's policy set (in the version the run started with) to every call
    of its runs, delegations to its agents included; runs of no workflow get the default.

    The descriptions of tools from specs the operator did not write are registered with the
    provenance check as untrusted text: a value planted there is no more trusted than one in
    an inbox."""

    def __init__(self, workflows: WorkflowSet | None = None) -> None:
        self._catalogs = RunCatalogs(workflows)
        self._guards: dict[tuple[str, ...] | None, Guard] = {}
        self._lock = threading.Lock()

    def _guard_for(self, run: Run) -> Guard:
        from core.bundles import ask_tools
        from core.catalog.vendor import vendor_texts
        from core.guardrails import PolicyGuard, load_policy_set

        workflow = self._catalogs.workflows.for_run(run)
        if workflow is not None:
            key: tuple[str, ...] | None = (workflow.name, workflow.version, str(id(workflow)))
        else:
            key = ("catalog", *run.catalog) if any(is_url(s) for s in run.catalog) else None
        with self._lock:
            guard = self._guards.get(key)
            if guard is not None:
                return guard
        tools = self._catalogs(run).tools if key is not None else []
        texts = vendor_texts(tools)
        if workflow is not None and workflow.policy_dir is not None:
            policies = load_policy_set(workflow.policy_dir, [*tools, *ask_tools(workflow)])
            guard = PolicyGuard(policies=policies, untrusted_texts=texts)
        else:
            guard = PolicyGuard(untrusted_texts=texts)
        with self._lock:
            return self._guards.setdefault(key, guard)

    def check(
        self, run: Run, tool: Tool | None, call: ProposedCall, *, confidence: float | None = None
    ) -> Decision:
        return self._guard_for(run).check(run, tool, call, confidence=confidence)


def default_executor(identity: Identity | None = None) -> Executor:
    """The executor router: HTTP tools to the HTTP executor, MCP tools to the MCP executor,
    Python-function tools to the Python executor. With ``identity`` all of them demand
    capability tokens, and HTTP calls carry credentials."""
    from core.execution.http import HttpExecutor
    from core.execution.mcp import McpExecutor
    from core.execution.python import PythonExecutor
    from core.execution.router import BindingRouter

    if identity is None:
        return BindingRouter(
            {"http": HttpExecutor(), "mcp": McpExecutor(), "python": PythonExecutor()}
        )
    return BindingRouter(
        {
            "http": HttpExecutor(authorizer=identity.authorizer, verifier=identity.verifier),
            "mcp": McpExecutor(identity.verifier),
            "python": PythonExecutor(identity.verifier),
        }
    )


def build_orchestrator(
    *,
    store: RunStore,
    cloud: str = "local",
    observer: RunObserver | None = None,
    handoff: Handoff | None = None,
    executor: Executor | None = None,
    guard: Guard | None = None,
    planners: Callable[[Run], Planner] | None = None,
    settings: Settings | None = None,
    tracing: RunTracer | None = None,
    children: ChildRuns | None = None,
    identity: Identity | None = None,
    workflows: WorkflowSet | None = None,
    rule_scripts: Mapping[str, RuleScript] | None = None,
    planner_overrides: Mapping[str, Planner] | None = None,
) -> Orchestrator:
    """The orchestrator for ``cloud``, configured by ``settings`` (default:
    ``Settings.from_env()``, the process environment; a bad value raises ``ConfigError``).

    Without an ``executor``, calls go through :func:`default_executor` with ``identity``
    (default: :func:`~core.identity.identity_from_settings` of ``settings.identity``): every
    call carries a capability token, and HTTP calls scheme-appropriate credentials. The
    planners come from ``settings.model``, shared limits from ``settings.limits``
    (``PADDOCK_LLM_TPM``/``_RPM`` for model calls, ``PADDOCK_TOOL_RPM``/``PADDOCK_HOST_RPM``
    for tool calls) and the narrowing of large catalogs from ``settings.model``.

    ``workflows`` are the workflows runs may name (their policies and agent meshes apply to
    their runs); ``rule_scripts`` the offline rule planner's script per workflow;
    ``planner_overrides`` planners by name that win over the built-in ones."""
    from core.guardrails.separation import WorkflowFourEyes
    from core.mesh import WorkflowMeshes, with_mesh
    from core.orchestrator.tool_search import ToolSearch
    from core.ratelimit.config import tool_limits

    workflows = workflows if workflows is not None else WorkflowSet()
    settings = settings if settings is not None else Settings.from_env()
    if executor is None:
        if identity is None:
            from core.identity.setup import identity_from_settings

            identity = identity_from_settings(settings.identity, cloud=cloud)
        executor = default_executor(identity)
    choice = PlannerChoice(
        settings.model,
        planner_overrides,
        rule_scripts=rule_scripts,
        aws_region=settings.identity.aws_region,
    )

    return with_mesh(
        Orchestrator(
            store=store,
            catalogs=RunCatalogs(workflows)
            if children is None
            else with_subtask_tool(RunCatalogs(workflows)),
            planners=planners or limited_planners(choice, store, settings.limits),
            guard=guard or WorkflowGuard(workflows),
            executor=executor,
            cloud=cloud,
            handoff=handoff,
            observer=observer or NullObserver(),
            tracing=tracing or RunTracer(cloud=cloud),
            children=children,
            admission=tool_limits(settings.limits, store),
            capabilities=identity.minter if identity is not None else None,
            tool_search=ToolSearch.from_settings(settings.model),
            four_eyes=WorkflowFourEyes(workflows),
        ),
        WorkflowMeshes(workflows.agent_dirs()),
    )
