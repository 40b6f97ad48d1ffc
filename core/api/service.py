"""What each route does. Framework-free: validated input in, ``Reply`` out."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from core.api.errors import ApiError, forbidden, not_found
from core.api.local_targets import check_scenario_base_urls, service_ports
from core.api.models import (
    ApprovalList,
    ApprovalListQuery,
    ApprovalView,
    CancelRequest,
    DecisionRequest,
    Health,
    KillSwitchRequest,
    KillSwitchState,
    RunAccepted,
    RunList,
    RunListQuery,
    StartRunRequest,
    ToolList,
    ToolListQuery,
    ToolView,
    WorkflowList,
    WorkflowView,
)
from core.api.router import Reply, RequestContext
from core.api.views import approval_view, run_head, run_view
from core.domain import Budget, HttpBinding, Run, RunStatus
from core.errors import ConflictError, NotFoundError, PaddockError, SpecError
from core.orchestrator.children import fanin_progress
from core.state.base import KILL_GLOBAL, kill_scope_tenant

if TYPE_CHECKING:
    from core.api.deps import Deps

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
REPLAYED = "idempotency-replayed"
VERSION = "0.1.0"


def new_run_id() -> str:
    return "run_" + uuid.uuid4().hex[:12]


class ApiService:
    """The API's behaviour, identical whichever cloud adapter carried the request."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, ctx: RequestContext) -> Reply:
        req: StartRunRequest = ctx.body
        caller = ctx.caller()
        key = ctx.request.header("idempotency-key")
        run = self._new_run(req, caller.tenant, caller.subject)
        replayed = False
        from core.telemetry.tracing import attached

        # A caller's W3C traceparent makes the run's trace part of the caller's trace.
        with attached(ctx.request.header("traceparent")):
            if key is not None:
                run, replayed = self._claim(key, caller.tenant, req, run)
            else:
                run = self.deps.orchestrator.create(run)
        if run.status is RunStatus.PENDING and run.version == 1:
            # Also on a replay: the first attempt may have died before it enqueued. A second
            # message is harmless, the worker drops it by its version.
            self.deps.enqueue(run.id, run.version, traceparent=run.traceparent)
        body = RunAccepted(
            run_id=run.id,
            status=run.status,
            tenant=run.tenant,
            goal=run.goal,
            location=f"/runs/{run.id}",
        )
        headers = {"location": body.location}
        if replayed:
            headers[REPLAYED] = "true"
        return Reply(202, body, headers)

    def _new_run(self, req: StartRunRequest, tenant: str, subject: str) -> Run:
        settings = self.deps.settings
        budget = Budget(**(req.budget.model_dump(exclude_none=True) if req.budget else {}))
        run = Run(
            id=new_run_id(),
            goal=req.goal or "",
            tenant=tenant,
            requested_by=subject,
            inputs=dict(req.inputs),
            planner=req.llm or settings.model.llm,
            budget=budget,
        )
        if req.workflow is not None:
            from core.bundles.start import start_workflow_run

            workflow = self.deps.workflows.get_workflow(req.workflow)
            self._check_hosts(req.base_urls.values())
            if self.deps.settings.local.enabled:
                check_scenario_base_urls(
                    req.base_urls,
                    scenario=workflow.name,
                    allowed_ports=service_ports(workflow.base_urls.values())
                    | self.deps.local_ports,
                )
            run.base_urls = dict(req.base_urls)
            asked = req.budget.model_dump(exclude_none=True) if req.budget else {}
            start_workflow_run(run, workflow, goal=req.goal, inputs=req.inputs, budget=asked)
        else:
            run.catalog = list(req.catalog or [])
            run.base_urls = dict(req.base_urls)
            self._check_hosts([*run.catalog, *run.base_urls.values()])
            self._check_catalog(run)
        if req.max_children is not None:
            allowance = req.max_children
            if run.agent is not None:  # a mesh's delegation depth is part of its design
                allowance = min(allowance, run.grant.max_children)
            run.grant = run.grant.model_copy(update={"max_children": allowance})
        return run

    def _check_hosts(self, urls: Iterable[str]) -> None:
        for url in urls:
            try:
                host = (urlsplit(url).hostname or "").lower()
            except ValueError:
                host = ""
            if host not in self.deps.allowed_hosts:
                raise ApiError(
                    403,
                    "host_not_allowed",
                    f"{url!r}: this deployment does not let a request point tools "
                    "or catalogs at that host",
                )

    def _check_catalog(self, run: Run) -> None:
        from core.catalog.limits import load_limits

        try:
            with load_limits(hosts=self.deps.allowed_hosts):  # every redirect hop, too
                self.deps.catalogs(run)
        except (RecursionError, MemoryError) as exc:
            raise ApiError(
                422,
                "invalid_catalog",
                "the catalog could not be loaded: too deeply nested or too large",
            ) from exc
        except (SpecError, OSError, ValueError) as exc:
            message = exc.message if isinstance(exc, PaddockError) else str(exc)
            raise ApiError(
                422, "invalid_catalog", f"the catalog could not be loaded: {message}"
            ) from exc

    def _claim(self, key: str, tenant: str, req: StartRunRequest, run: Run) -> tuple[Run, bool]:
        """Bind the key to this run's id first, then create the run: a retry after a crash
        between the two creates the same run, a concurrent retry finds it."""
        if not key or len(key) > 255 or not key.isascii() or not key.isprintable():
            raise ApiError(
                400,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1-255 printable ASCII characters",
            )
        fingerprint = _fingerprint(tenant, req)
        slot = "api-start:" + hashlib.sha256(f"{tenant}\0{key}".encode()).hexdigest()[:40]
        mine = json.dumps({"run_id": run.id, "fingerprint": fingerprint})
        stored = json.loads(
            self.deps.store.put_idempotency(slot, mine, ttl_seconds=IDEMPOTENCY_TTL_SECONDS)
        )
        if stored["fingerprint"] != fingerprint:
            raise ApiError(
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request body",
            )
        if stored["run_id"] == run.id:
            return self.deps.orchestrator.create(run), False
        try:
            return self.deps.store.get_run(stored["run_id"], with_steps=False), True
        except NotFoundError:
            pass  # the first attempt claimed the key and died before creating the run
        run.id = stored["run_id"]
        try:
            return self.deps.orchestrator.create(run), True
        except ConflictError:
            return self.deps.store.get_run(run.id, with_steps=False), True

    def get_run(self, ctx: RequestContext) -> Reply:
        run = self._visible_run(ctx)
        progress = fanin_progress(self.deps.store, run)
        return Reply(200, run_view(run.model_copy(update={"reason": progress or run.reason})))

    def list_runs(self, ctx: RequestContext) -> Reply:
        q: RunListQuery = ctx.query
        tenant = self._tenant_filter(ctx, q.tenant)
        try:
            page = self.deps.store.list_runs(
                status=q.status, tenant=tenant, limit=q.limit, cursor=q.cursor
            )
        except (ValueError, TypeError, KeyError, PaddockError) as exc:
            if q.cursor is None:
                raise
            raise ApiError(
                422, "invalid_cursor", "cursor is not one this API returned for this listing"
            ) from exc
        return Reply(200, RunList(runs=[run_head(r) for r in page.runs], next_cursor=page.cursor))

    def cancel_run(self, ctx: RequestContext) -> Reply:
        req: CancelRequest = ctx.body or CancelRequest()
        run = self._visible_run(ctx, with_steps=False)
        if run.status.finished:
            raise ApiError(409, "run_finished", f"run {run.id} already {run.status.value}")
        run = self.deps.orchestrator.kill(
            run.id, reason=f"{req.reason} (cancelled by {ctx.caller().subject})"
        )
        self.deps.enqueue_events(run.id, run.version)
        return Reply(200, run_view(self.deps.store.get_run(run.id)))

    # -- approvals ------------------------------------------------------------------------

    def list_approvals(self, ctx: RequestContext) -> Reply:
        q: ApprovalListQuery = ctx.query
        tenant = self._tenant_filter(ctx, q.tenant)
        found: list[ApprovalView] = []
        cursor: str | None = None
        for _ in range(20):  # bounded: a page of waiting runs at a time
            page = self.deps.store.list_runs(
                status=RunStatus.AWAITING_APPROVAL,
                tenant=tenant,
                limit=min(q.limit, 50),
                cursor=cursor,
            )
            for head in page.runs:
                if not head.pending_approvals:
                    continue
                run = self.deps.store.get_run(head.id)
                found.extend(approval_view(run, a) for a in run.pending_approvals)
            cursor = page.cursor
            if cursor is None or len(found) >= q.limit:
                break
        found.sort(key=lambda a: a.created_at, reverse=True)
        return Reply(200, ApprovalList(approvals=found[: q.limit]))

    def decide(self, ctx: RequestContext) -> Reply:
        from core.guardrails.approvals import ApprovalError

        req: DecisionRequest = ctx.body
        run = self._visible_run(ctx, with_steps=False)
        approval_id = ctx.params["approval_id"]
        approval = next((a for a in run.approvals if a.id == approval_id), None)
        if approval is None:
            raise not_found(f"run {run.id} has no approval {approval_id}")
        if req.args_hash is not None and req.args_hash != approval.args_hash:
            raise ApiError(
                409,
                "approval_conflict",
                f"approval {approval_id} is bound to other arguments than the "
                "ones you saw; reload and decide again",
            )
        caller = ctx.caller()
        if run.tenant != caller.tenant:  # an operator may see it, only the tenant decides
            raise forbidden("approvals are decided by approvers of the run's own tenant")
        try:
            run = self.deps.orchestrator.decide(
                run.id,
                approval_id,
                approver=caller.subject,
                approve=req.decision == "approve",
                comment=req.comment,
                roles=tuple(sorted(caller.roles)),
            )
        except ApprovalError as exc:
            raise ApiError(409, "approval_conflict", exc.message) from exc
        if not run.status.finished and run.status is not RunStatus.AWAITING_APPROVAL:
            self.deps.enqueue(run.id, run.version, traceparent=run.traceparent, resume=True)
        else:  # no worker slice follows to publish approval.decided (and run.failed...)
            self.deps.enqueue_events(run.id, run.version)
        return Reply(200, run_view(self.deps.store.get_run(run.id)))

    # -- operations -----------------------------------------------------------------------

    def kill_switch(self, ctx: RequestContext) -> Reply:
        req: KillSwitchRequest = ctx.body
        caller = ctx.caller()
        if req.scope == "global":
            if req.tenant is not None:
                raise ApiError(422, "invalid_request", "'tenant' is only for scope 'tenant'")
            if not caller.is_operator:
                raise forbidden("only a platform operator may raise or lower the global flag")
            scope = KILL_GLOBAL
        else:
            tenant = req.tenant or caller.tenant
            if tenant != caller.tenant and not caller.is_operator:
                raise forbidden(f"you may not raise or lower tenant {tenant!r}'s flag")
            scope = kill_scope_tenant(tenant)
        if req.active:
            self.deps.store.set_kill(scope, f"{req.reason} (by {caller.subject})")
        else:
            self.deps.store.clear_kill(scope)
        return Reply(200, KillSwitchState(scope=scope, active=req.active, reason=req.reason))

    def list_tools(self, ctx: RequestContext) -> Reply:
        q: ToolListQuery = ctx.query
        workflows = self.deps.workflows
        names = workflows.names()
        if q.scenario is not None:
            if q.scenario not in names:
                raise not_found(f"no scenario {q.scenario!r}: {', '.join(names)}")
            names = [q.scenario]
        tools: list[ToolView] = []
        for name in names:
            scenario = workflows[name]
            probe = Run(
                id="catalog",
                goal="",
                scenario=name,
                workflow_version=scenario.version or None,
                catalog=scenario.sources,
                base_urls=dict(scenario.base_urls),
            )
            for tool in self.deps.catalogs(probe).tools:
                http = tool.binding if isinstance(tool.binding, HttpBinding) else None
                tools.append(
                    ToolView(
                        name=tool.name,
                        scenario=name,
                        description=tool.description,
                        binding=tool.binding.kind,
                        method=http.method if http else None,
                        path=http.path if http else None,
                        location=tool.location.value,
                        side_effect=tool.side_effect.value,
                        trust=tool.trust.value,
                        deprecated=tool.deprecated,
                        args_schema=tool.args_schema,
                    )
                )
        return Reply(200, ToolList(tools=tools))

    def list_workflows(self, ctx: RequestContext) -> Reply:
        views = [
            WorkflowView(
                name=w.name,
                title=w.title,
                description=w.description,
                version=w.version,
                goal=w.goal,
                inputs_schema=dict(w.inputs_schema) if w.inputs_schema is not None else None,
                agent=w.agent,
                side_effects=list(w.grant.side_effects),
            )
            for w in (self.deps.workflows[n] for n in self.deps.workflows.names())
        ]
        return Reply(200, WorkflowList(workflows=views))

    def health(self, ctx: RequestContext) -> Reply:
        return Reply(200, Health(status="ok", cloud=self.deps.settings.cloud, version=VERSION))

    def openapi(self, ctx: RequestContext) -> Reply:
        from core.api.openapi import document_for

        return Reply(200, document_for(self.deps.workflows.names()))

    # -- helpers --------------------------------------------------------------------------

    def _visible_run(self, ctx: RequestContext, *, with_steps: bool = True) -> Run:
        run_id = ctx.params["run_id"]
        try:
            run = self.deps.store.get_run(run_id, with_steps=with_steps)
        except NotFoundError:
            raise not_found(f"no run {run_id}") from None
        ctx.caller().require_tenant(run.tenant)
        return run

    def _tenant_filter(self, ctx: RequestContext, tenant: str | None) -> str | None:
        caller = ctx.caller()
        if tenant is None:
            return None if caller.is_operator else caller.tenant
        if tenant != caller.tenant and not caller.is_operator:
            raise forbidden(f"you may not list tenant {tenant!r}")
        return tenant


def _fingerprint(tenant: str, req: StartRunRequest) -> str:
    data: dict[str, Any] = {"tenant": tenant, "request": req.model_dump(mode="json")}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
