"""OpenTelemetry spans for the loop: run -> advance -> step -> plan | guard | tool | checkpoint.

The run's root span is created with the run; its W3C ``traceparent`` is stored on the run and
travels in queue envelopes and outgoing HTTP headers, so every worker on either cloud adds
its spans to the same trace. A worker that takes an envelope opens a ``process`` consumer span
under the sender's span; the ``advance`` span nests under it.

Every attribute, event and exception message passes the ``Redactor`` first. Exceptions are
recorded by hand (type and redacted message, no stack locals), never by the SDK's default.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from core.domain import (
    Approval,
    CallRecord,
    Decision,
    HttpBinding,
    McpBinding,
    Plan,
    Run,
    Tool,
    step_number,
)
from core.telemetry.redact import DEFAULT_REDACTOR, Redactor

_PROPAGATOR = TraceContextTextMapPropagator()


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the active span, if any."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_from(traceparent: str | None) -> otel_context.Context | None:
    """A context whose parent is ``traceparent`` (``None`` when absent or malformed)."""
    if not traceparent:
        return None
    ctx = _PROPAGATOR.extract({"traceparent": traceparent})
    return ctx if trace.get_current_span(ctx).get_span_context().is_valid else None


@contextmanager
def attached(traceparent: str | None) -> Iterator[None]:
    """Make ``traceparent`` the current parent for the block (e.g. an incoming header)."""
    ctx = context_from(traceparent)
    if ctx is None:
        yield
        return
    token = otel_context.attach(ctx)
    try:
        yield
    finally:
        otel_context.detach(token)


def _active() -> bool:
    return trace.get_current_span().get_span_context().is_valid


@dataclass
class RunTracer:
    """Opens the loop's spans with redacted attributes. A no-op tracer costs almost nothing.

    Args:
        tracer: where spans go (the global provider's tracer by default).
        redactor: applied to every text that reaches a span.
        record_reasoning: put the model's reasoning and final answer on the ``plan`` span.
        cloud: ``aws``, ``azure`` or ``local``: the ``paddock.cloud`` of every span.
    """

    tracer: Tracer = field(default_factory=lambda: trace.get_tracer("paddock"))
    redactor: Redactor = DEFAULT_REDACTOR
    record_reasoning: bool = True
    cloud: str = "local"

    @classmethod
    def disabled(cls) -> RunTracer:
        """A tracer that records nothing and costs (almost) nothing."""
        return cls(tracer=trace.NoOpTracer())

    @contextmanager
    def _span(
        self,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        context: otel_context.Context | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Iterator[Span]:
        if isinstance(self.tracer, trace.NoOpTracer):
            yield trace.INVALID_SPAN
            return
        span = self.tracer.start_span(
            name,
            context=context,
            kind=kind,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        )
        with trace.use_span(
            span, end_on_exit=True, record_exception=False, set_status_on_exception=False
        ):
            try:
                yield span
            except BaseException as exc:
                message = self.redactor.text(str(exc))
                span.add_event(
                    "exception",
                    {"exception.type": type(exc).__name__, "exception.message": message},
                )
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {message}"))
                raise

    def start_run(self, run: Run) -> str | None:
        """Emit the run's root span; return its traceparent for the run record.

        The root continues the caller's trace when a span is active (an API request that
        carried a ``traceparent``), else it starts a new trace.
        """
        parent = None if _active() else otel_context.Context()
        with self._span(
            "run",
            context=parent,
            attributes={
                "paddock.run.id": run.id,
                "paddock.tenant": run.tenant,
                "paddock.goal": self.redactor.text(run.goal),
                "paddock.planner": run.planner,
                "paddock.cloud": self.cloud,
            },
        ):
            return current_traceparent()

    @contextmanager
    def receive(self, envelope: Any) -> Iterator[Span]:
        """The consumer span of a queue message, child of the span that sent it."""
        parent = context_from(envelope.traceparent)
        with self._span(
            f"process {envelope.kind}",
            kind=SpanKind.CONSUMER,
            context=parent or otel_context.Context(),
            attributes={
                "messaging.operation.type": "process",
                "messaging.system": _messaging_system(self.cloud),
                "messaging.message.id": envelope.id,
                "paddock.run.id": envelope.run_id,
                "paddock.envelope.sender": envelope.sender or "",
                "paddock.envelope.target": envelope.target,
                "paddock.envelope.attempt": envelope.attempt,
                "paddock.envelope.expected_version": envelope.expected_version,
                "paddock.cloud": self.cloud,
            },
        ) as span:
            yield span

    @contextmanager
    def advance(self, run: Run) -> Iterator[Span]:
        """One ``advance`` call; under the active span (a queue message), else the run root."""
        parent = None if _active() else context_from(run.traceparent)
        with self._span(
            "advance",
            context=parent,
            attributes={
                "paddock.run.id": run.id,
                "paddock.tenant": run.tenant,
                "paddock.cloud": self.cloud,
                "paddock.run.version": run.version,
            },
        ) as span:
            yield span

    @contextmanager
    def step(self, run: Run, index: int, *, resumed: bool = False) -> Iterator[Span]:
        with self._span(
            "step",
            attributes={
                "paddock.run.id": run.id,
                "paddock.step.index": index,
                "paddock.step.number": step_number(index),
                "paddock.step.resumed": resumed,
                "paddock.cloud": self.cloud,
            },
        ) as span:
            yield span

    @contextmanager
    def plan(self, run: Run, planner_label: str) -> Iterator[Span]:
        system = _system(run.planner)
        with self._span(
            "plan",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.system": system,
                "gen_ai.provider.name": system,
                "paddock.planner": planner_label,
                "paddock.tenant": run.tenant,
                "paddock.cloud": self.cloud,
            },
        ) as span:
            yield span

    def planned(self, span: Span, plan: Plan) -> None:
        """Attach the model, token usage, cost and reasoning to the plan span."""
        attrs: dict[str, Any] = {
            "gen_ai.usage.input_tokens": plan.usage.prompt_tokens,
            "gen_ai.usage.output_tokens": plan.usage.completion_tokens,
            "paddock.cost_usd": plan.usage.cost_usd,
            "paddock.plan.calls": len(plan.calls),
        }
        if plan.model:
            attrs["gen_ai.request.model"] = plan.model
            attrs["gen_ai.response.model"] = plan.model
        if plan.confidence is not None:
            attrs["paddock.confidence"] = plan.confidence
        span.set_attributes(attrs)
        if not self.record_reasoning:
            return
        if plan.reasoning:
            span.add_event(
                "gen_ai.reasoning", {"gen_ai.reasoning.text": self.redactor.text(plan.reasoning)}
            )
        if plan.final_answer is not None:
            span.add_event("gen_ai.final_answer", {"text": self.redactor.text(plan.final_answer)})

    @contextmanager
    def guard(self, tool_name: str) -> Iterator[Span]:
        with self._span(
            "guard", attributes={"paddock.tool.name": tool_name, "paddock.cloud": self.cloud}
        ) as span:
            yield span

    def decided(self, span: Span, decision: Decision) -> None:
        span.set_attributes(
            {
                "paddock.decision": decision.verdict.value,
                "paddock.decision.id": decision.id,
                "paddock.rule_ids": list(decision.rule_ids),
                "paddock.reasons": [self.redactor.text(r) for r in decision.reasons],
            }
        )

    @contextmanager
    def tool(self, tool: Tool, call: CallRecord) -> Iterator[Span]:
        """The client span of one tool call (the standard attributes of its wire, no
        headers)."""
        name, wire = _wire_attributes(tool)
        with self._span(
            name,
            kind=SpanKind.CLIENT,
            attributes={
                **wire,
                "paddock.tool.name": tool.name,
                "paddock.tool.location": tool.location.value,
                "paddock.tool.side_effect": tool.side_effect.value,
                "paddock.tool.trust": tool.trust.value,
                "paddock.call.id": call.call_id,
                "paddock.cloud": self.cloud,
                "paddock.call.args": _json(self.redactor.value(call.args)),
            },
        ) as span:
            yield span
            if call.status_code is not None and isinstance(tool.binding, HttpBinding):
                span.set_attribute("http.response.status_code", call.status_code)
            if call.error:
                span.set_status(Status(StatusCode.ERROR, self.redactor.text(call.error)))
            if call.drift:
                span.add_event(
                    "paddock.schema_drift", {"findings": _json(self.redactor.value(call.drift))}
                )

    @contextmanager
    def approval(self, run: Run, approval: Approval) -> Iterator[Span]:
        """A human's decision on a pending call, under the run's root span."""
        parent = None if _active() else context_from(run.traceparent)
        with self._span(
            "approval",
            context=parent,
            attributes={
                "paddock.run.id": run.id,
                "paddock.approval.id": approval.id,
                "paddock.tool.name": approval.tool,
                "paddock.step.index": approval.step_index,
                "paddock.step.number": step_number(approval.step_index),
                "paddock.approval.status": approval.status.value,
                "paddock.approval.by": self.redactor.text(approval.decided_by or ""),
                "paddock.rule_ids": list(approval.rule_ids),
                "paddock.cloud": self.cloud,
            },
        ) as span:
            yield span

    @contextmanager
    def checkpoint(self, run: Run) -> Iterator[Span]:
        """A checkpoint; outside any span (a kill) it hangs under the run's root span."""
        parent = None if _active() else context_from(run.traceparent)
        with self._span(
            "checkpoint",
            context=parent,
            attributes={
                "paddock.run.version": run.version,
                "paddock.run.status": run.status.value,
                "paddock.cloud": self.cloud,
            },
        ) as span:
            yield span

    def finished(self, span: Span, run: Run, *, outcome: str | None = None) -> None:
        """The end of an ``advance``: the run's status and usage, and why the engine stopped
        (``outcome``: ``finished``, ``throttled``, ``handed_off``...)."""
        if outcome is not None:
            span.set_attribute("paddock.advance.outcome", outcome)
        span.set_attributes(
            {
                "paddock.run.status": run.status.value,
                "paddock.usage.prompt_tokens": run.usage.prompt_tokens,
                "paddock.usage.completion_tokens": run.usage.completion_tokens,
                "paddock.usage.cost_usd": run.usage.cost_usd,
            }
        )
        if run.reason:
            span.set_attribute("paddock.run.reason", self.redactor.text(run.reason))


def note_handoff(target: str, run_id: str) -> None:
    """Mark the active span: the run was handed to ``target``'s queue here."""
    trace.get_current_span().add_event(
        "paddock.handoff", {"paddock.run.id": run_id, "paddock.handoff.target": target}
    )


def _system(planner: str) -> str:
    systems = {
        "openai": "openai",
        "azure-openai": "azure.ai.openai",
        "bedrock": "aws.bedrock",
        "anthropic": "anthropic",
    }
    return systems.get(planner, "paddock.rules")


def _messaging_system(cloud: str) -> str:
    return {"aws": "aws_sqs", "azure": "azure_storage_queue"}.get(cloud, "paddock.memory")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:4000]


def _wire_attributes(tool: Tool) -> tuple[str, dict[str, Any]]:
    """A tool span's name and its wire's attributes: OpenTelemetry's HTTP conventions for an
    HTTP tool, its MCP conventions for an MCP tool, the server wherever there is one."""
    binding = tool.binding
    attributes: dict[str, Any] = {"paddock.tool.binding": binding.kind}
    if isinstance(binding, HttpBinding):
        name = f"{binding.method} {tool.name}"
        attributes |= {"http.request.method": binding.method, "url.template": binding.path}
    elif isinstance(binding, McpBinding):
        name = f"tools/call {binding.tool}"
        attributes |= {"mcp.method.name": "tools/call", "gen_ai.tool.name": binding.tool}
    else:
        name = f"{binding.kind} {tool.name}"
    parts = urlsplit(binding.endpoint or "")
    if parts.hostname:
        attributes["server.address"] = parts.hostname
        attributes["server.port"] = parts.port or (443 if parts.scheme.endswith("https") else 80)
    return name, attributes
