"""What the API and the workers need, built once per process and lazily, from ``Settings``.

Handlers create a ``Deps`` at module scope (cheap: no clients, no I/O) and the first request
that needs the store, a queue or the orchestrator builds it. Tests inject their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from core.api.local_targets import LOOPBACK
from core.settings import Settings
from core.workflows import WorkflowSet

if TYPE_CHECKING:
    from core.api.auth import Authenticator
    from core.identity.setup import Identity
    from core.orchestrator.engine import CatalogProvider, Orchestrator
    from core.planner.rules import RuleScript
    from core.queue.base import Cloud, TaskQueue
    from core.state.base import RunStore
    from core.telemetry.setup import Telemetry

T = TypeVar("T")


class Deps:
    """Store, queues, orchestrator and authenticator of one process.

    Args:
        settings: the process's settings (``Settings.from_env()`` at start-up).
        workflows: the workflows runs may be started from (``POST /runs {"workflow": NAME}``),
            with the base URLs of their services here. Default: the bundles under
            ``PADDOCK_WORKFLOWS_DIR``, loaded now (an invalid bundle fails the cold start).
        rule_scripts: the offline rule planner's script per workflow (default: none).
        identity: the credentials every call carries (default: from the settings).
        allowed_hosts: hosts that catalog URLs and base URL overrides in a request may name.
            ``None``: loopback only in local mode, none otherwise (a request cannot point a
            run's tools, and the credentials attached to them, at a host of its choosing).
        local_ports: in local mode, the loopback ports a scenario run's base URL overrides
            may name besides those of the scenario's own services. ``None``: from
            ``settings.local`` (``PADDOCK_LOCAL_BASE_URL_PORTS``).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        store: RunStore | None = None,
        queues: Mapping[str, TaskQueue] | None = None,
        orchestrator: Orchestrator | None = None,
        authenticator: Authenticator | None = None,
        workflows: WorkflowSet | None = None,
        rule_scripts: Mapping[str, RuleScript] | None = None,
        identity: Identity | None = None,
        allowed_hosts: Collection[str] | None = None,
        local_ports: Collection[int] | None = None,
        catalogs: CatalogProvider | None = None,
        orchestrator_factory: Callable[[Deps], Orchestrator] | None = None,
    ) -> None:
        self.settings = settings
        if workflows is None:
            from core.bundles.deployed import load_workflows

            workflows = load_workflows(settings.workflows.dir)
        self.workflows = workflows
        self.rule_scripts = dict(rule_scripts or {})
        self.identity = identity
        if allowed_hosts is None:
            allowed_hosts = LOOPBACK if settings.local.enabled else ()
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)
        self.local_ports = (
            settings.local.base_url_ports if local_ports is None else frozenset(local_ports)
        )
        self._lock = threading.RLock()
        self._built: dict[str, Any] = {}
        if store is not None:
            self._built["store"] = store
        if orchestrator is not None:
            self._built["orchestrator"] = orchestrator
        if authenticator is not None:
            self._built["authenticator"] = authenticator
        if catalogs is not None:
            self._built["catalogs"] = catalogs
        self._queues: dict[str, TaskQueue] = dict(queues or {})
        self._orchestrator_factory = orchestrator_factory

    @property
    def cloud(self) -> Cloud:
        return self.settings.cloud

    @property
    def store(self) -> RunStore:
        def build() -> RunStore:
            from core.state.factory import store_from_settings

            return store_from_settings(self.settings.storage)

        return self._once("store", build)

    @property
    def authenticator(self) -> Authenticator:
        def build() -> Authenticator:
            from core.api.auth import authenticator_from_settings

            return authenticator_from_settings(self.settings)

        return self._once("authenticator", build)

    @property
    def catalogs(self) -> CatalogProvider:
        """Each run's catalog (its workflow's, or its own sources), loaded once per process."""

        def build() -> CatalogProvider:
            from core.runtime import RunCatalogs

            return RunCatalogs(self.workflows)

        return self._once("catalogs", build)

    @property
    def orchestrator(self) -> Orchestrator:
        def build() -> Orchestrator:
            if self._orchestrator_factory is not None:
                return self._orchestrator_factory(self)
            from core.api.worker import QueueHandoff
            from core.orchestrator.children import ChildRuns
            from core.runtime import build_orchestrator

            telemetry = self.telemetry
            return build_orchestrator(
                workflows=self.workflows,
                rule_scripts=self.rule_scripts,
                store=self.store,
                cloud=self.cloud,
                handoff=QueueHandoff(self.queue_for, sender=self.cloud),
                tracing=telemetry.tracing,
                observer=telemetry.observer,
                children=ChildRuns(self.store, self.queue_for, cloud=self.cloud),
                settings=self.settings,
                identity=self.identity,
            )

        return self._once("orchestrator", build)

    @property
    def telemetry(self) -> Telemetry:
        """Tracer, metrics and exporters from ``settings.telemetry`` (``PADDOCK_TRACE_*``,
        ``PADDOCK_OTLP_*``, ``PADDOCK_METRICS``; see docs/observability.md)."""

        def build() -> Telemetry:
            from core.telemetry.setup import telemetry_from_settings

            return telemetry_from_settings(self.settings.telemetry, cloud=self.cloud)

        return self._once("telemetry", build)

    def flush_telemetry(self) -> None:
        """Export buffered spans and metrics before a serverless invocation is frozen."""
        telemetry = self._built.get("telemetry")
        if telemetry is not None:
            telemetry.flush()

    def queue_for(self, cloud: str) -> TaskQueue:
        """The work queue of ``cloud`` (this process's own cloud, or a handoff target)."""
        with self._lock:
            queue = self._queues.get(cloud)
            if queue is None:
                from core.queue.factory import queue_from_settings

                queue = queue_from_settings(self.settings.storage, cloud=cloud)
                self._queues[cloud] = queue
            return queue

    def enqueue(
        self, run_id: str, version: int, *, traceparent: str | None = None, resume: bool = False
    ) -> None:
        """Ask this cloud's workers to advance ``run_id`` from ``version``."""
        from core.queue.base import Envelope, EnvelopeKind

        cloud = self.cloud
        kind = EnvelopeKind.RESUME if resume else EnvelopeKind.ADVANCE
        self.queue_for(cloud).send(
            Envelope(
                run_id=run_id,
                expected_version=version,
                target=cloud,
                sender=cloud,
                kind=kind,
                traceparent=traceparent,
            )
        )

    def _once(self, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            found: T = self._built[name]
            return found
