"""Python functions as Paddock tools: the ``@tool`` decorator and the registry it writes.

The author of a function declares what the model may not guess: the side effect, whether its
results may steer the agent (trust) and which cloud's worker runs it. The argument schema
comes from the signature (pydantic), the description from the docstring::

    @tool(side_effect="write")
    def create_order(part: str, quantity: Annotated[int, Field(ge=1)]) -> Order:
        \"\"\"Order ``quantity`` units of ``part``.\"\"\"

The decorator returns the function unchanged (it stays callable as before) and marks it. A
parameter named ``idempotency_key`` is not shown to the model: the executor fills it with the
call's key, so a replayed step can tell it already ran. Sync and ``async def`` functions both
work. This module needs nothing but pydantic, so tool modules stay cheap to import.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from pydantic import BaseModel, ConfigDict, TypeAdapter, create_model

from core.domain.bindings import PythonBinding
from core.domain.tool import Location, SideEffect, SpecRef, Tool, Trust
from core.errors import SpecError

MARK = "__paddock_tool__"
"""The attribute the decorator sets on a function: its :class:`PythonTool`."""
KEY_PARAM = "idempotency_key"
PYTHON_FORMAT = "python"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class PythonTool:
    """What the decorator recorded about one function."""

    function: Callable[..., Any]
    name: str
    description: str
    side_effect: SideEffect
    trust: Trust
    location: Location
    args_model: type[BaseModel]
    """Validates (and coerces) the model's arguments before the call."""
    result_schema: dict[str, Any] | None
    takes_key: bool
    is_async: bool
    target: str = field(default="")

    @property
    def args_schema(self) -> dict[str, Any]:
        """JSON Schema of the arguments object, as the model is shown it."""
        return self.args_model.model_json_schema()

    def as_tool(self, spec: SpecRef | None = None) -> Tool:
        """The catalog tool calling this function through a :class:`PythonBinding`."""
        return Tool(
            name=self.name,
            description=self.description,
            args_schema=self.args_schema,
            binding=PythonBinding(target=self.target),
            side_effect=self.side_effect,
            trust=self.trust,
            location=self.location,
            responses={"200": self.result_schema} if self.result_schema is not None else {},
            spec=spec,
        )


@overload
def tool(function: F, /) -> F: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    side_effect: str | SideEffect = SideEffect.READ,
    trust: str | Trust = Trust.TRUSTED,
    location: str | Location = Location.EXTERNAL,
) -> Callable[[F], F]: ...


def tool(
    function: F | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    side_effect: str | SideEffect = SideEffect.READ,
    trust: str | Trust = Trust.TRUSTED,
    location: str | Location = Location.EXTERNAL,
) -> F | Callable[[F], F]:
    """Mark a typed function as a Paddock tool (``@tool`` or ``@tool(side_effect="write")``).

    Args:
        name: the name the model calls it by (default: the function's name).
        description: what the model is told (default: the docstring).
        side_effect: ``read``, ``write`` or ``destructive``: what a call can do.
        trust: ``untrusted`` when the result carries text from outside (e-mails, web pages):
            provenance then keeps that text from steering later calls.
        location: ``aws``, ``azure`` or ``external`` (which worker runs it).

    Raises:
        SpecError: a parameter without a type pydantic can build a schema for, or a bad label.
    """

    def mark(fn: F) -> F:
        setattr(fn, MARK, describe(fn, name, description, side_effect, trust, location))
        return fn

    return mark(function) if function is not None else mark


def describe(
    fn: Callable[..., Any],
    name: str | None = None,
    description: str | None = None,
    side_effect: str | SideEffect = SideEffect.READ,
    trust: str | Trust = Trust.TRUSTED,
    location: str | Location = Location.EXTERNAL,
) -> PythonTool:
    """The :class:`PythonTool` of ``fn`` (what :func:`tool` records), without marking it."""
    where = f"{fn.__module__}:{fn.__qualname__}"
    try:
        labels = (SideEffect(side_effect), Trust(trust), Location(location))
    except ValueError as exc:
        raise SpecError(f"{where}: {exc}") from None
    signature = inspect.signature(fn)
    takes_key = KEY_PARAM in signature.parameters
    hints = _hints(fn)
    args_model = _args_model(signature, hints, fn.__name__, where)
    doc = inspect.getdoc(fn) or ""
    return PythonTool(
        function=fn,
        name=name or fn.__name__,
        description=description or doc.split("\n\n", 1)[0].strip() or fn.__name__,
        side_effect=labels[0],
        trust=labels[1],
        location=labels[2],
        args_model=args_model,
        result_schema=_result_schema(hints.get("return", inspect.Signature.empty)),
        takes_key=takes_key,
        is_async=inspect.iscoroutinefunction(fn),
        target=where,
    )


def _args_model(
    signature: inspect.Signature, hints: dict[str, Any], name: str, where: str
) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.name == KEY_PARAM:
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise SpecError(f"{where}: *args and **kwargs cannot be described to a model")
        if param.name not in hints:
            raise SpecError(f"{where}: parameter {param.name!r} has no type annotation")
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hints[param.name], default)
    try:
        model: type[BaseModel] = create_model(
            name,
            __config__=ConfigDict(extra="forbid"),
            __doc__=None,
            **fields,
        )
        model.model_json_schema()
    except Exception as exc:  # pydantic raises several kinds for unschemable types
        raise SpecError(f"{where}: no JSON schema for its arguments: {exc}") from None
    return model


def _result_schema(annotation: Any) -> dict[str, Any] | None:
    if annotation in (inspect.Signature.empty, Any, None, type(None)):
        return None
    try:
        return TypeAdapter(annotation).json_schema(mode="serialization")
    except Exception:  # a return type with no schema: results are simply not validated
        return None


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    from typing import get_type_hints

    try:
        return get_type_hints(fn, include_extras=True)
    except Exception as exc:
        raise SpecError(
            f"{fn.__module__}:{fn.__qualname__}: unresolvable annotation: {exc}"
        ) from None


def marked(obj: object) -> PythonTool | None:
    """The :class:`PythonTool` an object carries, if it was decorated."""
    found = getattr(obj, MARK, None)
    return found if isinstance(found, PythonTool) else None


def resolve(target: str) -> PythonTool:
    """The decorated function at ``package.module:function``.

    Raises:
        SpecError: the module cannot be imported, has no such attribute, or the attribute is
            not a function decorated with ``@tool``: only decorated functions are reachable.
    """
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise SpecError(f"python:{target}: expected package.module:function")
    module = _import(module_name)
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part, None)
    found = marked(obj)
    if found is None:
        raise SpecError(f"python:{target}: not a function decorated with @paddock.tool")
    return found


def module_tools(module_name: str) -> list[PythonTool]:
    """Every decorated function a module holds, in definition order."""
    module = _import(module_name)
    found = [t for value in vars(module).values() if (t := marked(value)) is not None]
    unique = list({id(t): t for t in found}.values())
    if not unique:
        raise SpecError(f"python:{module_name}: has no functions decorated with @paddock.tool")
    return unique


def _import(module_name: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise SpecError(f"python:{module_name}: cannot import: {exc}") from None


def spec_ref(source: str, tools: list[PythonTool]) -> SpecRef:
    """A version for a set of Python tools: the hash of what the model and guard see."""
    shown = [
        [t.name, t.description, t.args_schema, t.result_schema, t.side_effect, t.trust]
        for t in tools
    ]
    digest = hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()
    return SpecRef(
        title=source.removeprefix("python:"),
        version=digest[:12],
        source=source,
        sha256=digest,
        format=PYTHON_FORMAT,
    )
