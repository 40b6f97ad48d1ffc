"""How a tool is called: the binding half of a tool, one kind per wire.

A :class:`~core.domain.Tool` is a wire-neutral definition (what the model, the guard and the
audit see) plus one binding, a discriminated union on ``kind``:

* :class:`HttpBinding` (``http``): an operation of an HTTP API, with everything the HTTP
  executor needs to build the request (method, path template, base URL, where each argument
  goes, the body's media type).
* :class:`McpBinding` (``mcp``): a tool of an MCP server, called by the server's own name.
* :class:`PythonBinding` (``python``): a decorated Python function, by import path
  (``package.module:function``); ``core.domain.pytool`` describes it.
* :class:`HostedBinding` (``hosted``): a tool another agent framework runs (LangGraph, the
  OpenAI Agents SDK); Paddock guards and records its calls (``paddock.fence``), never runs it.
* :class:`EngineBinding` (``engine``): a tool the engine answers itself (``spawn_subtasks``,
  ``search_tools``, ``ask_<agent>``); no executor ever runs it.

Every binding names its operation at its source (:attr:`BindingBase.operation`), a short
stable label (:attr:`BindingBase.label`, the key drift holds operations by) and, when the call
leaves the process, the endpoint it reaches (:attr:`BindingBase.endpoint`). A new kind (a
Python function by import path) is one more class here and one more member of
:data:`Binding`; the definition does not change.
"""

from __future__ import annotations

from abc import abstractmethod
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ParamLocation(StrEnum):
    """Where an argument of an HTTP tool goes in the request."""

    PATH = "path"
    QUERY = "query"
    HEADER = "header"
    COOKIE = "cookie"
    BODY = "body"


class Param(BaseModel):
    """One argument of an HTTP tool and where it goes in the request.

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
    content_type: str | None = None
    """Set when the spec serialises the parameter with a media type (``content``) instead of
    a style: the value goes on the wire encoded as that type (JSON)."""
    allow_reserved: bool = False
    """Query values keep RFC 3986 reserved characters unescaped (``allowReserved``)."""


class BodyPart(BaseModel):
    """How one property of a form or multipart request body is encoded (the Encoding Object).

    Only properties that need more than the media type's default carry one: a style, a
    content type of their own, or file content.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    style: str | None = None
    """``form`` (default), ``spaceDelimited``, ``pipeDelimited`` or ``deepObject``."""
    explode: bool | None = None
    allow_reserved: bool = False
    content_type: str | None = None
    """The part's media type (multipart) or the type its value is encoded as (a form field
    with ``application/json``)."""
    file: bool = False
    """The property is file content (``format: binary``/``byte``): the argument carries it
    base64-encoded and the part is sent as the decoded bytes. Never read from a path."""


class BindingBase(BaseModel):
    """What every binding offers. Each kind adds a ``kind`` literal and its own fields."""

    model_config = ConfigDict(frozen=True)

    @property
    @abstractmethod
    def operation(self) -> str:
        """The operation's name at its source (an operationId, an MCP server's tool name);
        unlike the tool's name, the catalog never renames it."""

    @property
    @abstractmethod
    def label(self) -> str:
        """A short, stable line saying what the call is (``GET /orders/{id}``)."""

    @property
    def endpoint(self) -> str | None:
        """Where calls go over the network (a URL or an MCP source), ``None`` when they do
        not leave the process: its host joins the guard's allowed hosts and keys host limits."""
        return None


class HttpBinding(BindingBase):
    """An operation of an HTTP API.

    Everything here is about the request: where each argument goes (``params``), the body's
    media type, and the base URL, which is also the fence every request of the tool must stay
    under. The guard's path-parameter check and drift's parameter diff read ``params`` too,
    because what they judge is what goes on the wire.
    """

    kind: Literal["http"] = "http"
    method: str
    """Upper case (``GET``, ``POST``...)."""
    path: str
    """The path template under ``base_url`` (``/orders/{id}``)."""
    base_url: str
    operation_id: str
    """The spec's ``operationId`` (or the one Paddock derived when it had none)."""
    params: tuple[Param, ...] = ()
    body_content_type: str | None = None
    """The request body's media type (``None``: JSON)."""
    body_parts: tuple[BodyPart, ...] = ()
    """The encoding of the body's properties that need one (form and multipart bodies)."""
    body_file: bool = False
    """The whole body is file content (``application/octet-stream`` and the like): the
    argument carries it base64-encoded, the request sends the decoded bytes."""

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @property
    def operation(self) -> str:
        return self.operation_id

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def endpoint(self) -> str:
        return self.base_url


class McpBinding(BindingBase):
    """A tool of an MCP server.

    ``server`` is the catalog source without the operator's ``#`` options: those decide the
    tool's side effect at import (a definition matter), not how to reach the server.
    """

    kind: Literal["mcp"] = "mcp"
    server: str
    """``mcp+stdio:COMMAND ARG...`` or ``mcp+http(s)://HOST/PATH``."""
    tool: str
    """The tool's name as the server lists it (the catalog may call it otherwise)."""

    @property
    def operation(self) -> str:
        return self.tool

    @property
    def label(self) -> str:
        return f"MCP {self.tool}"

    @property
    def endpoint(self) -> str:
        return self.server


class PythonBinding(BindingBase):
    """A Python function decorated with ``@tool`` (``core.domain.pytool``), by import path.

    The executor imports ``target`` and calls the function only if it still carries the
    decorator's mark, so a binding can never reach an arbitrary callable.
    """

    kind: Literal["python"] = "python"
    target: str
    """``package.module:function`` (the function's module and qualified name)."""

    @property
    def operation(self) -> str:
        return self.target.rpartition(":")[2]

    @property
    def label(self) -> str:
        return f"python {self.target}"


class HostedBinding(BindingBase):
    """A tool that a host framework runs itself; no executor ever runs it (the router refuses
    it). Paddock decides, records and tracks the provenance of its calls."""

    kind: Literal["hosted"] = "hosted"
    host: str
    """The framework that runs it (``langgraph``, ``openai-agents``)."""
    name: str
    """The tool's name in that framework."""

    @property
    def operation(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return f"{self.host} {self.name}"


class EngineBinding(BindingBase):
    """A tool the engine answers itself; the executor is never asked (the router refuses it)."""

    kind: Literal["engine"] = "engine"
    handler: str
    """Which part of the engine answers: ``children``, ``catalog`` or ``agents``."""
    name: str
    """The operation within the handler (``spawn_subtasks``, ``ask_<agent>``...)."""

    @property
    def operation(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return f"engine {self.handler}/{self.name}"


Binding = Annotated[
    HttpBinding | McpBinding | PythonBinding | HostedBinding | EngineBinding,
    Field(discriminator="kind"),
]
"""Any binding; JSON picks the class by ``kind``."""
