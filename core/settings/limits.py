"""Shared limits: model requests and tokens per minute, tool and host requests per minute, and
how many runs of one tenant a worker fleet advances at once.

``PADDOCK_TOOL_RPM`` and ``PADDOCK_HOST_RPM`` hold comma-separated ``name=N`` pairs, ``N``
requests per minute::

    PADDOCK_TOOL_RPM="create_purchase_order=30,get_stock=600"
    PADDOCK_HOST_RPM="erp.example.com=1200,127.0.0.1:8001=60"

A value that is not a positive, finite number, a malformed pair or a name given twice raises
``ConfigError``: a typo never switches a limit off.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from core.errors import ConfigError
from core.settings._base import EnvGroup

_TOOL = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_HOST = re.compile(r"^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]{1,253})(?::[0-9]{1,5})?$")


def parse_rates(text: str, *, variable: str, hosts: bool = False) -> dict[str, float]:
    """``"a=30, b=1.5"`` -> ``{"a": 30.0, "b": 1.5}``; blank -> ``{}``.

    Raises ``ConfigError`` naming ``variable`` for anything else.
    """
    rates: dict[str, float] = {}
    if not text.strip():
        return rates
    pattern, kind = (_HOST, "host[:port]") if hosts else (_TOOL, "tool name")
    for item in text.split(","):
        name, sep, number = item.strip().rpartition("=")
        name = name.strip().lower() if hosts else name.strip()
        if not sep or not pattern.match(name):
            raise ConfigError(
                f"{variable}: {item.strip()!r} is not <{kind}>=<requests per "
                "minute> (pairs separated by commas)"
            )
        if name in rates:
            raise ConfigError(f"{variable}: {name!r} is given twice")
        value = _number(number)
        if value is None:  # "nan" or "inf" would disable it
            raise ConfigError(
                f"{variable}: the limit of {name!r} must be a positive number "
                f"of requests per minute, not {number.strip()!r}"
            )
        rates[name] = value
    return rates


def _number(text: str) -> float | None:
    """A positive, finite number, else ``None``."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 and math.isfinite(value) else None


def _positive(value: Any) -> Any:
    if isinstance(value, str):
        number = _number(value)
        if number is None:
            raise ValueError("must be a positive number")
        return number
    if isinstance(value, int | float) and not (value > 0 and math.isfinite(value)):
        raise ValueError("must be a positive number")
    return value


def _rates(variable: str, *, hosts: bool = False) -> BeforeValidator:
    def parse(value: Any) -> Any:
        return (
            parse_rates(value, variable=variable, hosts=hosts) if isinstance(value, str) else value
        )

    return BeforeValidator(parse)


def _count(value: Any) -> Any:
    if isinstance(value, str) and not (value.isascii() and value.isdigit() and int(value) > 0):
        raise ValueError("must be a positive integer")
    return value


PerMinute = Annotated[float | None, BeforeValidator(_positive)]


class LimitSettings(EnvGroup):
    """Rate limits every worker shares through the run store (``core.ratelimit``)."""

    llm_tpm: PerMinute = Field(default=None, validation_alias="PADDOCK_LLM_TPM")
    """PADDOCK_LLM_TPM: model tokens per minute of the deployment (alone: requests unlimited;
    neither this nor ``PADDOCK_LLM_RPM``: no model limit)."""
    llm_rpm: PerMinute = Field(default=None, validation_alias="PADDOCK_LLM_RPM")
    """PADDOCK_LLM_RPM: model requests per minute of the deployment (alone: tokens unlimited)."""
    llm_context_tokens: int | None = Field(
        default=None, ge=1, validation_alias="PADDOCK_LLM_CONTEXT_TOKENS"
    )
    """PADDOCK_LLM_CONTEXT_TOKENS: the model's context window; a request estimated larger fails
    at once, naming the sizes, instead of being sent (unset: not checked)."""
    llm_deployment: str = Field(default="default", validation_alias="PADDOCK_LLM_DEPLOYMENT")
    """PADDOCK_LLM_DEPLOYMENT: the name of the model limits' buckets (one per deployment)."""
    tool_rpm: Annotated[dict[str, float], _rates("PADDOCK_TOOL_RPM")] = Field(
        default_factory=dict, validation_alias="PADDOCK_TOOL_RPM"
    )
    """PADDOCK_TOOL_RPM: ``tool=N`` pairs, requests per minute per tool name."""
    host_rpm: Annotated[dict[str, float], _rates("PADDOCK_HOST_RPM", hosts=True)] = Field(
        default_factory=dict, validation_alias="PADDOCK_HOST_RPM"
    )
    """PADDOCK_HOST_RPM: ``host[:port]=N`` pairs, requests per minute per host (as written in
    the tools' base URLs)."""


class WorkerSettings(EnvGroup):
    """What one queue worker does with the messages it receives (``core.api.worker``)."""

    tenant_concurrency: Annotated[int | None, BeforeValidator(_count)] = Field(
        default=None, gt=0, validation_alias="PADDOCK_TENANT_CONCURRENCY"
    )
    """PADDOCK_TENANT_CONCURRENCY: at most this many runs of one tenant advance at once
    (unset: no cap)."""
