"""Reading a model's reply into a ``Plan``, the same for every wire protocol.

Each planner turns its SDK's answer into a ``WireReply`` (text, tool calls, why it stopped,
token usage) and this module decides: a plan, or feedback for another attempt. What happens to
invalid tool calls is described in ``core.planner.openai_planner``.

A model that answers in text although tools were offered and the run has called none yet has
most likely not seen the tools (a server that drops them, a model without tool calling): its
answer is made up. It is asked once more to use the tools; if it still does not, the planner
raises ``NoToolCalled`` instead of passing the answer off as a result. A model that wrote a
tool call earlier in the same ``plan()`` (even an invalid one) does see the tools: the planners
stop requiring one then.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.domain import Plan, ProposedCall, Tool
from core.errors import NoToolCalled, PlannerError
from core.planner._replies import CheckedCall, check_calls
from core.planner.messages import HELP_TOOL_NAME, retry_messages, split_confidence

__all__ = ["WireCall", "WireFunction", "WireReply", "calls_plan", "read_reply", "wire_call"]

log = logging.getLogger(__name__)

_EXCERPT = 160


@dataclass(frozen=True)
class WireFunction:
    name: str
    arguments: str
    """The arguments as JSON text (what ``check_calls`` parses)."""


@dataclass(frozen=True)
class WireCall:
    """One tool call of a reply, whatever the wire (shaped like a chat.completions call)."""

    id: str
    function: WireFunction


def wire_call(call_id: Any, name: Any, arguments: Any) -> WireCall:
    """A call from a wire's tool-use block: ``arguments`` an object (or text, or anything a
    broken model sent, which the checks then report)."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments, default=str)
    return WireCall(str(call_id or ""), WireFunction(str(name or ""), raw))


@dataclass(frozen=True)
class WireReply:
    """A model's answer in wire-neutral form."""

    text: str | None
    calls: Sequence[WireCall] = ()
    cut_off: bool = False
    """The answer stopped at the token limit."""
    refusal: str | None = None
    """Why the model (or a content filter) refused, when it did."""
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


def read_reply(
    reply: WireReply,
    tools: Mapping[str, Tool],
    *,
    model: str,
    last: bool,
    require_tool: bool,
) -> tuple[Plan | None, list[dict[str, Any]]]:
    """A plan, or (when the reply is unusable and ``last`` is false) the feedback messages.

    ``require_tool``: the run has called no tool yet although tools are offered, so a text
    answer is not accepted as final. Raises ``PlannerError`` (``NoToolCalled`` for that case)
    when the last attempt is still unusable.
    """
    reasoning, confidence = split_confidence(reply.text)
    if reply.refusal:
        return Plan(
            reasoning=reasoning,
            confidence=confidence,
            help_request=f"The model refused to continue: {reply.refusal}",
        ), []
    if not reply.calls:
        return _read_text(reply, reasoning, confidence, model, last=last, require=require_tool)
    checked = check_calls(reply.calls, tools)
    problems = {c.id: c.problem for c in checked if c.problem is not None}
    if problems and not last:
        log.info("model %s gave invalid tool calls: %s", model, "; ".join(problems.values()))
        return None, retry_messages(reply.text, [(c.id, c.name, c.raw) for c in checked], problems)
    return calls_plan(checked, reasoning, confidence), []


def _read_text(
    reply: WireReply,
    reasoning: str,
    confidence: float | None,
    model: str,
    *,
    last: bool,
    require: bool,
) -> tuple[Plan | None, list[dict[str, Any]]]:
    if reasoning and not reply.cut_off and not require:
        return Plan(reasoning=reasoning, confidence=confidence, final_answer=reasoning), []
    echo = [{"role": "assistant", "content": reply.text}] if reply.text else []
    if reasoning and not reply.cut_off:
        if last:
            excerpt = " ".join(reasoning.split())[:_EXCERPT]
            raise NoToolCalled(
                f"the model {model!r} answered without calling any tool although tools were "
                "offered (a model or server without tool calling?); its answer is not a "
                f"result: {excerpt!r}"
            )
        return None, [
            *echo,
            {
                "role": "user",
                "content": "You have not called any tool yet, so that answer is not based on "
                "anything. Call the tools you need for the goal, or call "
                f"{HELP_TOOL_NAME} if you cannot.",
            },
        ]
    why = "was cut off" if reply.cut_off else "was empty"
    if last:
        raise PlannerError(f"the model {model!r} gave no usable reply: its answer {why}")
    return None, [
        *echo,
        {
            "role": "user",
            "content": f"Your last reply {why}. Call a tool, ask for help, or give a "
            "short final answer.",
        },
    ]


def calls_plan(checked: list[CheckedCall], reasoning: str, confidence: float | None) -> Plan:
    """The plan of a reply with tool calls (a help request wins over the other calls)."""
    broken = [c for c in checked if c.unparseable]
    if broken:
        raise PlannerError(f"the model kept writing invalid tool calls: {broken[0].problem}")
    help_calls = [c for c in checked if c.name == HELP_TOOL_NAME]
    if help_calls:
        # Asking a human wins over any call made alongside: the run pauses first.
        args = help_calls[0].args or {}
        question = args.get("question")
        return Plan(
            reasoning=reasoning,
            confidence=confidence,
            help_request=question
            if isinstance(question, str) and question.strip()
            else reasoning or "The agent asked for human help.",
        )
    for call in checked:
        if call.problem is not None:
            log.warning("passing an invalid call to the guardrails: %s", call.problem)
    return Plan(
        reasoning=reasoning,
        confidence=confidence,
        calls=[ProposedCall(id=c.id, tool=c.name, args=c.args or {}) for c in checked],
    )
