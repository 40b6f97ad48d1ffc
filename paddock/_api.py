"""The embedding API: Paddock's orchestrator inside your own Python program.

``Paddock`` owns one orchestrator over one run store. Start a run of a workflow bundle or of a
catalog (spec files, URLs, MCP servers, ``python:`` modules), advance it, decide its
approvals, read it back. ``AsyncPaddock`` is the same from asyncio code.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.domain import Approval, Budget, Grant, Run, RunStatus
from core.errors import ConfigError
from core.execution.base import Executor
from core.guardrails.base import Guard
from core.orchestrator.engine import Orchestrator
from core.orchestrator.outcome import AdvanceOutcome
from core.planner.base import Planner
from core.settings import Settings
from core.state.base import RunStore
from core.workflows import Workflow, WorkflowSet


class Paddock:
    """An embedded Paddock: start, advance and inspect fenced runs from Python.

    Args:
        store: where runs are checkpointed (default: in memory, gone with the process; pass
            ``core.state.sqlite.SqliteStore(path)`` to keep them).
        workflows: the workflows runs may name (see :meth:`from_bundles`).
        planners: planners by name (``Run.planner``) that win over the built-in ``openai`` /
            ``azure-openai`` ones, e.g. your own model client or a test's scripted planner.
        settings: model, identity and limit settings (default: from the environment).
        executor: how tool calls run (default: HTTP, MCP and Python tools, no credentials).
        guard: the guard for every call (default: each workflow's policy set).
    """

    def __init__(
        self,
        *,
        store: RunStore | None = None,
        workflows: Sequence[Workflow] = (),
        planners: Mapping[str, Planner] | None = None,
        settings: Settings | None = None,
        executor: Executor | None = None,
        guard: Guard | None = None,
    ) -> None:
        from core.runtime import build_orchestrator, default_executor
        from core.state.memory import MemoryStore

        self.store: RunStore = store if store is not None else MemoryStore()
        self.workflows = WorkflowSet(workflows)
        self.orchestrator: Orchestrator = build_orchestrator(
            store=self.store,
            executor=executor if executor is not None else default_executor(),
            guard=guard,
            settings=settings if settings is not None else Settings.from_env(),
            workflows=self.workflows,
            planner_overrides=planners,
        )

    @classmethod
    def from_bundles(cls, *folders: str | Path, **options: Any) -> Paddock:
        """A Paddock whose runs may be runs of these workflow bundles (``docs/bundles.md``).

        Raises:
            BundleError: a bundle is invalid; its ``problems`` list every problem.
        """
        from core.bundles import load_bundle

        return cls(workflows=[load_bundle(f) for f in folders], **options)

    def start(
        self,
        goal: str | None = None,
        *,
        workflow: str | None = None,
        catalog: Sequence[str] = (),
        inputs: Mapping[str, Any] | None = None,
        planner: str = "openai",
        grant: Grant | None = None,
        budget: Budget | None = None,
        base_urls: Mapping[str, str] | None = None,
        tenant: str = "default",
        requested_by: str | None = None,
    ) -> Run:
        """Create a run (status ``pending``; nothing runs until :meth:`advance`).

        Give either ``workflow`` (a loaded workflow's name; ``goal`` then overrides its
        default goal) or ``catalog`` with a ``goal``.

        Raises:
            ConfigError: neither or both sources, a missing goal, bad inputs.
            SpecError: a catalog source cannot be loaded.
        """
        if (workflow is None) == (not catalog):
            raise ConfigError("give either workflow or catalog, not both and not neither")
        run = Run(
            id="run_" + uuid.uuid4().hex[:12],
            goal=goal or "",
            tenant=tenant,
            requested_by=requested_by,
            planner=planner,
            base_urls=dict(base_urls or {}),
            inputs=dict(inputs or {}),
        )
        if budget is not None:
            run.budget = budget
        if workflow is not None:
            from core.bundles.start import start_workflow_run

            budget_limits = budget.model_dump(exclude_unset=True) if budget else None
            run = start_workflow_run(
                run,
                self.workflows.get_workflow(workflow),
                goal=goal,
                inputs=inputs,
                budget=budget_limits,
            )
        else:
            from core.catalog import Catalog

            if not goal:
                raise ConfigError("a catalog run needs a goal")
            run.catalog = list(catalog)
            Catalog.from_sources(run.catalog, base_urls=run.base_urls)  # fail here, clearly
        if grant is not None:
            run.grant = grant
        return self.orchestrator.create(run)

    def advance(self, run_id: str, *, max_steps: int | None = None) -> AdvanceOutcome:
        """Advance a run until it finishes, pauses for an approval, waits, or ``max_steps``
        planned steps pass; the outcome says which (``outcome.run`` is the run then)."""
        return self.orchestrator.advance(run_id, max_steps=max_steps)

    def run(self, goal: str | None = None, **start: Any) -> Run:
        """:meth:`start` then :meth:`advance` until the run rests (finished or paused)."""
        created = self.start(goal, **start)
        return self.advance(created.id).run

    def decide(
        self,
        run_id: str,
        approval_id: str,
        *,
        approve: bool,
        approver: str,
        comment: str | None = None,
    ) -> Run:
        """Approve or reject a pending approval; :meth:`advance` then resumes the run.

        Raises:
            ApprovalError: unknown, already decided, expired or self-approved.
        """
        return self.orchestrator.decide(
            run_id, approval_id, approver=approver, approve=approve, comment=comment
        )

    def resume(self, run_id: str, *, max_steps: int | None = None) -> AdvanceOutcome:
        """Advance a run after its approvals were decided (the same as :meth:`advance`)."""
        return self.advance(run_id, max_steps=max_steps)

    def get_run(self, run_id: str) -> Run:
        """The run with its steps, calls, decisions and approvals (``NotFoundError`` if none)."""
        return self.store.get_run(run_id)

    def pending_approvals(self, run_id: str) -> list[Approval]:
        """The approvals the run waits for (empty when it waits for none)."""
        return list(self.get_run(run_id).pending_approvals)

    def kill(self, run_id: str, *, reason: str) -> Run:
        """Stop a run (and its child runs) for good."""
        return self.orchestrator.kill(run_id, reason=reason)


class AsyncPaddock:
    """:class:`Paddock` for asyncio code.

    The engine is synchronous (its stores and HTTP clients block), so each method runs the
    synchronous one in a worker thread (``asyncio.to_thread``): the event loop is never
    blocked, and runs advance concurrently up to the default thread pool's size. Async Python
    tools run on their own event loop inside that thread.
    """

    def __init__(self, paddock: Paddock | None = None, **options: Any) -> None:
        self.sync = paddock if paddock is not None else Paddock(**options)

    async def start(self, goal: str | None = None, **options: Any) -> Run:
        """See :meth:`Paddock.start`."""
        return await asyncio.to_thread(self.sync.start, goal, **options)

    async def advance(self, run_id: str, *, max_steps: int | None = None) -> AdvanceOutcome:
        """See :meth:`Paddock.advance`."""
        return await asyncio.to_thread(self.sync.advance, run_id, max_steps=max_steps)

    async def run(self, goal: str | None = None, **start: Any) -> Run:
        """See :meth:`Paddock.run`."""
        return await asyncio.to_thread(self.sync.run, goal, **start)

    async def decide(
        self, run_id: str, approval_id: str, *, approve: bool, approver: str, **options: Any
    ) -> Run:
        """See :meth:`Paddock.decide`."""
        return await asyncio.to_thread(
            self.sync.decide, run_id, approval_id, approve=approve, approver=approver, **options
        )

    async def get_run(self, run_id: str) -> Run:
        """See :meth:`Paddock.get_run`."""
        return await asyncio.to_thread(self.sync.get_run, run_id)


__all__ = ["AsyncPaddock", "Paddock", "RunStatus"]
