"""``paddock.yaml``: what a workflow bundle declares about itself."""

from __future__ import annotations

import re
import string
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.domain import Budget, Grant

MANIFEST = "paddock.yaml"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SIDE_EFFECTS = ("read", "write", "destructive")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CatalogEntry(_Strict):
    """One catalog source of the bundle."""

    source: str
    """A file under the bundle (``specs/erp.yaml``), a URL, or ``mcp+stdio:`` / ``mcp+http:``."""
    author: Literal["vendor", "operator"] = "vendor"
    """``operator``: a spec the operator wrote, whose ``x-paddock-*`` labels are the
    operator's word. ``vendor`` (the default): its labels may only tighten a tool."""


SideEffectName = Literal["read", "write", "destructive"]


def _read_write() -> list[SideEffectName]:
    return ["read", "write"]


class BundleGrant(_Strict):
    """What the workflow's runs may use; ``destructive`` only when listed."""

    tools: list[str] | None = None
    side_effects: list[SideEffectName] = Field(default_factory=_read_write)
    max_children: int = Field(default=0, ge=0)

    def grant(self) -> Grant:
        return Grant(
            tools=self.tools, side_effects=list(self.side_effects), max_children=self.max_children
        )


class BundleBudget(_Strict):
    max_steps: int | None = Field(default=None, ge=1)
    max_tool_calls: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_cost_usd: float | None = Field(default=None, gt=0)
    max_wall_seconds: float | None = Field(default=None, gt=0)
    max_repeats: int | None = Field(default=None, ge=1)
    max_idle_steps: int | None = Field(default=None, ge=1)
    max_running_children: int | None = Field(default=None, ge=1)

    def budget(self) -> Budget:
        return Budget(**self.model_dump(exclude_none=True))


class BundleApprovals(_Strict):
    """Approval settings of the workflow's runs."""


class Manifest(_Strict):
    """The reference of ``paddock.yaml`` (docs/bundles.md)."""

    name: str
    """The workflow's name: lower-case letters, digits and ``-``; ``POST /runs`` names it."""
    title: str = ""
    description: str = ""
    goal: str
    """The default goal; ``{name}`` placeholders are filled from the run's inputs."""
    inputs: dict[str, Any] | None = None
    """JSON Schema (an object schema) of a run's inputs; ``default`` values apply."""
    grant: BundleGrant = Field(default_factory=BundleGrant)
    budget: BundleBudget | None = None
    agent: str | None = None
    """The agent profile (``agents/``) a run starts as, when the workflow is a mesh."""
    approvals: BundleApprovals = Field(default_factory=BundleApprovals)
    catalog: list[str | CatalogEntry] | None = None
    """Catalog sources; default: every ``.yaml``/``.yml``/``.json`` file under ``specs/``."""
    overlays: list[str] | None = None
    """Overlay files in the order applied; default: every file under ``overlays/``, by name."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("must be lower-case letters, digits and '-' (at most 63)")
        return value

    @field_validator("goal")
    @classmethod
    def _goal(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        placeholders(value)  # raises ValueError on a malformed template
        return value

    def entries(self) -> list[CatalogEntry] | None:
        if self.catalog is None:
            return None
        return [e if isinstance(e, CatalogEntry) else CatalogEntry(source=e) for e in self.catalog]


def placeholders(template: str) -> list[str]:
    """The ``{name}`` fields of a goal template (``{{`` / ``}}`` are literal braces)."""
    names: list[str] = []
    for _, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{field}}} must be a plain input name")
        names.append(field)
    return names


def validation_messages(exc: ValidationError) -> list[tuple[tuple[str | int, ...], str]]:
    """(path, message) of each pydantic error, in words a YAML author reads."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        key = ".".join(str(p) for p in loc) or "paddock.yaml"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required"
        found.append((loc, f"{key}: {message}"))
    return found
