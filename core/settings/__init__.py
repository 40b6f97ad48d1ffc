"""Typed settings: the one place in ``core`` that reads the environment.

A process reads its settings once, at start-up (``Settings.from_env()``), and hands each part
to what needs it: the store factories get ``settings.storage``, the identity layer
``settings.identity``, telemetry ``settings.telemetry``, the planners ``settings.model``, the
rate limits ``settings.limits``. Every field names its environment variable and is documented;
a bad value raises ``ConfigError`` with one line naming the variable::

    settings = Settings.from_env()               # os.environ
    settings = Settings.from_env({"PADDOCK_STORE": "dynamodb"})
    settings = Settings(storage=StorageSettings(store="dynamodb"))

:func:`runtime_variables` lists every variable the runtime reads (and
:func:`runtime_prefixes` the families read by prefix), so a deployment can be checked against
them. Variables that SDKs read for themselves (the AWS credential chain, ``AWS_ENDPOINT_URL_*``,
``OTEL_EXPORTER_OTLP_HEADERS``) are not here: Paddock never reads them by name.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from core.settings._base import EnvGroup, Lowered, prefixes, variables
from core.settings.access import AuthSettings, LocalSettings, parse_ports
from core.settings.identity import IdentitySettings
from core.settings.limits import LimitSettings, WorkerSettings, parse_rates
from core.settings.model import LLM_CHOICES, ModelSettings
from core.settings.storage import StorageSettings
from core.settings.telemetry import TelemetrySettings
from core.settings.workflows import WorkflowSettings

__all__ = [
    "LLM_CHOICES",
    "AuthSettings",
    "Cloud",
    "EnvGroup",
    "IdentitySettings",
    "LimitSettings",
    "LocalSettings",
    "ModelSettings",
    "Settings",
    "StorageSettings",
    "TelemetrySettings",
    "WorkerSettings",
    "WorkflowSettings",
    "parse_ports",
    "parse_rates",
    "runtime_prefixes",
    "runtime_variables",
]

Cloud = Literal["aws", "azure", "local"]


class Settings(EnvGroup):
    """Everything a Paddock process is configured with, by concern."""

    cloud: Annotated[Cloud, Lowered] = Field(default="local", validation_alias="PADDOCK_CLOUD")
    """PADDOCK_CLOUD: which worker this process is: ``aws``, ``azure`` or ``local``."""
    storage: StorageSettings = Field(default_factory=StorageSettings)
    """The run store, payloads and work queues."""
    auth: AuthSettings = Field(default_factory=AuthSettings)
    """The token issuer the API trusts."""
    local: LocalSettings = Field(default_factory=LocalSettings)
    """Local mode (dev sign-in, loopback base URLs)."""
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    """Capability keys, cloud identities for tools, tool secrets."""
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    """Spans, metrics, redaction."""
    model: ModelSettings = Field(default_factory=ModelSettings)
    """The planner and its model."""
    limits: LimitSettings = Field(default_factory=LimitSettings)
    """Shared model, tool and host rate limits."""
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    """The queue worker."""
    workflows: WorkflowSettings = Field(default_factory=WorkflowSettings)
    """The operator's workflow bundles."""


def runtime_variables() -> frozenset[str]:
    """Every environment variable the runtime reads by exact name."""
    return frozenset(variables(Settings))


def runtime_prefixes() -> frozenset[str]:
    """Prefixes of variable families the runtime reads (``PADDOCK_SECRET_<NAME>``)."""
    return frozenset(prefixes(Settings))
