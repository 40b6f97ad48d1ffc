"""Wire-neutral tool records built from API specifications."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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


class ParamLocation(StrEnum):
    PATH = "path"
    QUERY = "query"
    HEADER = "header"
    BODY = "body"


class Param(BaseModel):
    """One argument of a tool and where it goes in the HTTP request.

    ``arg`` is the property name in the tool's argument schema; ``name`` is the name on the
    wire (they differ only when two locations use the same name). The JSON request body is a
    single param named ``body`` located in ``body``.
    """

    model_config = ConfigDict(frozen=True)

    arg: str
    name: str
    location: ParamLocation
    required: bool = False
    style: str | None = None
    explode: bool | None = None


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


class Tool(BaseModel):
    """One operation of an API, hardened into a callable tool."""

    model_config = ConfigDict(frozen=True)

    name: str
    operation_id: str
    description: str
    args_schema: dict[str, Any]
    params: tuple[Param, ...]
    method: str
    path: str
    base_url: str
    location: Location = Location.EXTERNAL
    side_effect: SideEffect = SideEffect.READ
    side_effect_hint: SideEffect | None = None
    """The class the tool's source claims when Paddock does not simply take it (an MCP
    server's annotations): kept so a refresh reports a relabelled tool."""
    trust: Trust = Trust.TRUSTED
    auth: AuthRequirement = Field(default_factory=AuthRequirement)
    responses: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """JSON response schema by status code (``"200"``, ``"2XX"``, ``"default"``)."""
    body_content_type: str | None = None
    deprecated: bool = False
    spec: SpecRef | None = None
    warnings: tuple[str, ...] = ()
    drift_mode: str = "pause"
    """What to do when a response drifts from its schema: ``pause``, ``fail`` or ``warn``."""

    def response_schema(self, status: int) -> dict[str, Any] | None:
        """The schema that a response with this status code must match, if any."""
        exact = self.responses.get(str(status))
        if exact is not None:
            return exact
        wildcard = self.responses.get(f"{status // 100}XX")
        if wildcard is not None:
            return wildcard
        return self.responses.get("default")
