"""Tools: a wire-neutral definition plus a binding (how a call reaches the operation).

``ToolDefinition`` is what the model, the guard and the audit see; ``Tool`` adds the binding
(``core.domain.bindings``). Code that only describes or judges a call reads the definition's
fields; only executors and wire-specific views look inside the binding.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.domain.bindings import Binding


class SideEffect(StrEnum):
    """What calling a tool can do to the world."""

    READ = "read"
    WRITE = "write"
    DESTRUCTIVE = "destructive"


class Location(StrEnum):
    """Where a tool lives, and so which cloud's worker executes it."""

    AWS = "aws"
    AZURE = "azure"
    EXTERNAL = "external"


class Trust(StrEnum):
    """Whether the text a tool returns may steer the agent."""

    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"


class AuthRequirement(BaseModel):
    """How a call to the tool authenticates (filled by the identity layer at execution)."""

    model_config = ConfigDict(frozen=True)

    scheme: str = "none"
    """One of ``none``, ``aws_sigv4``, ``entra``, ``api_key``, ``bearer``,
    ``oauth2_client_credentials`` (or the raw scheme type when it is none of these)."""
    name: str | None = None
    """The security scheme's name in the spec."""
    location: str | None = None
    """For ``api_key``: ``header`` or ``query``."""
    param_name: str | None = None
    """For ``api_key``: the header or query parameter name."""
    scopes: tuple[str, ...] = ()
    audience: str | None = None
    service: str | None = None
    """For ``aws_sigv4``: the signing service (``execute-api`` by default)."""
    region: str | None = None


class SpecRef(BaseModel):
    """Which version of which spec a tool came from."""

    model_config = ConfigDict(frozen=True)

    title: str
    version: str
    source: str
    sha256: str
    format: str
    """``swagger-2.0``, ``openapi-3.0`` or ``openapi-3.1``."""


class ToolDefinition(BaseModel):
    """A tool as the model, the guard and the audit see it, whatever the wire.

    Everything here means the same for every binding: the name and argument schema the model
    is shown, what a call can do (side effect, trust), whose worker runs it, how it
    authenticates, where it came from and how drift is handled. How to *reach* the operation
    (an HTTP method and URL, an MCP server) is the binding's; see ``core.domain.bindings``.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    """The name the model calls it by (unique in a catalog; the catalog may rename it)."""
    description: str
    args_schema: dict[str, Any]
    """JSON Schema of the arguments object: what the model is shown and the guard checks."""
    location: Location = Location.EXTERNAL
    side_effect: SideEffect = SideEffect.READ
    side_effect_hint: SideEffect | None = None
    """The class the tool's source claims when Paddock does not simply take it (an MCP
    server's annotations): kept so a refresh reports a relabelled tool."""
    trust: Trust = Trust.TRUSTED
    auth: AuthRequirement = Field(default_factory=AuthRequirement)
    """The credential a call needs, as its source declares it: the capability token scopes
    the call by it and ``explain`` shows it, whatever the wire."""
    responses: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """JSON response schema by status code (``"200"``, ``"2XX"``, ``"default"``). Executors
    report a finished call with a status (an MCP tool's success reads as 200), so one keying
    serves every binding that has output schemas; drift compares them across versions."""
    deprecated: bool = False
    spec: SpecRef | None = None
    warnings: tuple[str, ...] = ()
    drift_mode: str = "pause"
    """What to do when a response drifts from its schema: ``pause``, ``fail`` or ``warn``."""
    third_party_text: bool = False
    """Its descriptions come from a spec the operator did not write (a vendor's file or URL):
    the model is shown them as third-party text and the provenance check counts them as
    untrusted content, so an instruction planted in a description cannot pass as the
    operator's."""

    def response_schema(self, status: int) -> dict[str, Any] | None:
        """The schema that a response with this status code must match, if any."""
        exact = self.responses.get(str(status))
        if exact is not None:
            return exact
        wildcard = self.responses.get(f"{status // 100}XX")
        if wildcard is not None:
            return wildcard
        return self.responses.get("default")


class Tool(ToolDefinition):
    """A callable tool: its definition plus the binding that says how a call reaches it.

    The executor router dispatches on ``binding.kind``; read wire details through the
    binding (``tool.binding.method`` once narrowed to an ``HttpBinding``).
    """

    binding: Binding
