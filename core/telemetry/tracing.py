"""OpenTelemetry spans for the loop: run -> advance -> step -> plan | guard | tool | checkpoint.

The run's root span is created with the run; its W3C ``traceparent`` is stored on the run and
travels in queue envelopes and outgoing HTTP headers, so every worker on either cloud adds
its spans to the same trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from core.catalog.models import Tool
from core.orchestrator.models import CallRecord, Decision, Run, Step
from core.planner.base import Plan
from core.telemetry.redact import DEFAULT_REDACTOR, Redactor

_PROPAGATOR = TraceContextTextMapPropagator()


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_from(traceparent: str | None) -> otel_context.Context | None:
    if not traceparent:
        return None
    return _PROPAGATOR.extract({"traceparent": traceparent})


@dataclass
class RunTracer:
    """Opens the loop's spans with redacted attributes. A no-op tracer costs almost nothing."""

    tracer: Tracer = field(default_factory=lambda: trace.get_tracer("paddock"))
    redactor: Redactor = DEFAULT_REDACTOR
    record_reasoning: bool = True
    cloud: str = "local"

    def start_run(self, run: Run) -> str | None:
        """Emit the run's root span; return its traceparent for the run record."""
        with self.tracer.start_as_current_span(
                "run", context=otel_context.Context(), kind=SpanKind.INTERNAL) as span:
            span.set_attributes({"paddock.run.id": run.id, "paddock.tenant": run.tenant,
                                 "paddock.goal": self.redactor.text(run.goal),
                                 "paddock.planner": run.planner,
                                 "paddock.cloud": self.cloud})
            return current_traceparent()

    @contextmanager
    def advance(self, run: Run) -> Iterator[Span]:
        with self.tracer.start_as_current_span(
                "advance", context=context_from(run.traceparent)) as span:
            span.set_attributes({"paddock.run.id": run.id, "paddock.cloud": self.cloud,
                                 "paddock.run.version": run.version})
            yield span

    @contextmanager
    def step(self, run: Run, index: int, *, resumed: bool = False) -> Iterator[Span]:
        with self.tracer.start_as_current_span("step") as span:
            span.set_attributes({"paddock.run.id": run.id, "paddock.step.index": index,
                                 "paddock.step.resumed": resumed,
                                 "paddock.cloud": self.cloud})
            yield span

    @contextmanager
    def plan(self, run: Run, planner_label: str) -> Iterator[Span]:
        with self.tracer.start_as_current_span("plan", kind=SpanKind.CLIENT) as span:
            span.set_attributes({"gen_ai.operation.name": "chat",
                                 "gen_ai.system": _system(run.planner),
                                 "paddock.planner": planner_label})
            yield span

    def planned(self, span: Span, plan: Plan) -> None:
        """Attach the model, token usage and reasoning to the plan span."""
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
        if self.record_reasoning and plan.reasoning:
            span.add_event("gen_ai.reasoning",
                           {"gen_ai.reasoning.text": self.redactor.text(plan.reasoning)})
        if plan.final_answer is not None and self.record_reasoning:
            span.add_event("gen_ai.final_answer",
                           {"text": self.redactor.text(plan.final_answer)})

    @contextmanager
    def guard(self, tool_name: str) -> Iterator[Span]:
        with self.tracer.start_as_current_span("guard") as span:
            span.set_attribute("paddock.tool.name", tool_name)
            yield span

    def decided(self, span: Span, decision: Decision) -> None:
        span.set_attributes({"paddock.decision": decision.verdict.value,
                             "paddock.decision.id": decision.id,
                             "paddock.rule_ids": list(decision.rule_ids),
                             "paddock.reasons": [self.redactor.text(r)
                                                 for r in decision.reasons]})

    @contextmanager
    def tool(self, tool: Tool, call: CallRecord) -> Iterator[Span]:
        parts = urlsplit(tool.base_url)
        with self.tracer.start_as_current_span(f"{tool.method} {tool.name}",
                                               kind=SpanKind.CLIENT) as span:
            span.set_attributes({
                "http.request.method": tool.method,
                "url.template": tool.path,
                "server.address": parts.hostname or "",
                "server.port": parts.port or (443 if parts.scheme == "https" else 80),
                "paddock.tool.name": tool.name,
                "paddock.tool.location": tool.location.value,
                "paddock.tool.side_effect": tool.side_effect.value,
                "paddock.tool.trust": tool.trust.value,
                "paddock.cloud": self.cloud,
                "paddock.call.args": _json(self.redactor.value(call.args)),
            })
            yield span
            if call.status_code is not None:
                span.set_attribute("http.response.status_code", call.status_code)
            if call.error:
                span.set_status(Status(StatusCode.ERROR, self.redactor.text(call.error)))
            if call.drift:
                span.add_event("paddock.schema_drift",
                               {"findings": _json(self.redactor.value(call.drift))})

    @contextmanager
    def checkpoint(self, run: Run) -> Iterator[Span]:
        with self.tracer.start_as_current_span("checkpoint") as span:
            span.set_attribute("paddock.run.version", run.version)
            yield span

    def finished(self, span: Span, run: Run) -> None:
        span.set_attributes({"paddock.run.status": run.status.value,
                             "paddock.usage.prompt_tokens": run.usage.prompt_tokens,
                             "paddock.usage.completion_tokens": run.usage.completion_tokens,
                             "paddock.usage.cost_usd": run.usage.cost_usd})
        if run.reason:
            span.set_attribute("paddock.run.reason", self.redactor.text(run.reason))


def step_attrs(step: Step) -> dict[str, Any]:
    return {"paddock.step.index": step.index,
            "gen_ai.usage.input_tokens": step.usage.prompt_tokens,
            "gen_ai.usage.output_tokens": step.usage.completion_tokens}


def _system(planner: str) -> str:
    return {"openai": "openai", "azure-openai": "az.ai.openai"}.get(planner, "paddock.rules")


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, default=str)[:4000]
