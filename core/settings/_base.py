"""The machinery under every settings group: fields named by environment variables, read from a
mapping, and bad values turned into one ``ConfigError`` line that names the variable.

A field names its variable with ``validation_alias`` (an ``AliasChoices`` when a second name is
a fallback, first wins); code builds a group by field name, the environment by variable name.
A field whose annotation is another group is that group, read from the same environment. A
field marked ``EnvPrefix`` holds every variable that starts with the prefix.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Self

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from core.errors import ConfigError

_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


@dataclass(frozen=True)
class EnvPrefix:
    """Marks a ``dict[str, str]`` field that holds every variable starting with ``prefix``,
    by its full name, values as given."""

    prefix: str


class EnvGroup(BaseModel):
    """A group of settings. Fields are built by name in code and by variable from the
    environment (:meth:`from_env`); a bad value raises ``ConfigError`` either way."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        use_attribute_docstrings=True,
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """The group from ``env`` (default: the process environment). Blank values count as
        unset; values are stripped. Raises ``ConfigError`` (one line) for a bad value."""
        return cls.model_validate(read(cls, os.environ if env is None else env))

    @model_validator(mode="wrap")
    @classmethod
    def _one_line(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as exc:
            raise _config_error(cls, exc) from None


def read(group: type[EnvGroup], env: Mapping[str, str]) -> dict[str, Any]:
    """The raw values of ``group`` found in ``env``: by variable name, nested groups by field
    name. Nothing is validated here."""
    values: dict[str, Any] = {}
    for name, field in group.model_fields.items():
        inner = group_of(field)
        prefix = prefix_of(field)
        if inner is not None:
            values[name] = read(inner, env)
        elif prefix is not None:
            found = {k: v for k, v in env.items() if k.startswith(prefix) and v}
            if found:
                values[name] = found
        else:
            for variable in field_variables(field):
                raw = env.get(variable)
                if raw is not None and raw.strip():
                    values[variable] = raw.strip()
                    break
    return values


def variables(group: type[EnvGroup]) -> Iterator[str]:
    """Every variable ``group`` reads by exact name, nested groups included."""
    for field in group.model_fields.values():
        inner = group_of(field)
        if inner is not None:
            yield from variables(inner)
        else:
            yield from field_variables(field)


def prefixes(group: type[EnvGroup]) -> Iterator[str]:
    """Every variable prefix ``group`` reads (``EnvPrefix`` fields), nested groups included."""
    for field in group.model_fields.values():
        inner = group_of(field)
        prefix = prefix_of(field)
        if inner is not None:
            yield from prefixes(inner)
        elif prefix is not None:
            yield prefix


def field_variables(field: FieldInfo) -> list[str]:
    """The variable names of one field, the preferred first."""
    alias = field.validation_alias
    if isinstance(alias, str):
        return [alias]
    if isinstance(alias, AliasChoices):
        return [choice for choice in alias.choices if isinstance(choice, str)]
    return []


def group_of(field: FieldInfo) -> type[EnvGroup] | None:
    """The group a field holds, if it is one."""
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, EnvGroup):
        return annotation
    return None


def prefix_of(field: FieldInfo) -> str | None:
    """The prefix of an ``EnvPrefix`` field."""
    found = [m.prefix for m in field.metadata if isinstance(m, EnvPrefix)]
    return found[0] if found else None


# -- one line per bad value -------------------------------------------------------------------


def _config_error(group: type[EnvGroup], exc: ValidationError) -> ConfigError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    reason = _reason(first)
    where = _where(group, tuple(str(part) for part in first["loc"]))
    if where is None:  # a rule across fields: its message names the variables
        return ConfigError(reason + more)
    variable, shown = where
    if not shown or "input" not in first:
        return ConfigError(f"{variable}: {reason}{more}")
    return ConfigError(f"{variable}={first['input']!r}: {reason}{more}")


def _where(group: type[EnvGroup], loc: tuple[str, ...]) -> tuple[str, bool] | None:
    """The variable an error location stands for, and whether its value may be shown (not
    for secrets, groups, nor part of a value); ``None`` for the group itself."""
    if not loc:
        return None
    for name, field in group.model_fields.items():
        names = field_variables(field)
        if loc[0] not in (name, *names):
            continue
        inner = group_of(field)
        if inner is not None:
            return _where(inner, loc[1:]) if len(loc) > 1 else (name, False)
        variable = loc[0] if loc[0] in names else (names[0] if names else name)
        return variable, field.repr and len(loc) == 1
    return loc[0], len(loc) == 1


def _reason(error: ErrorDetails) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "literal_error":
        return "choose " + str((error.get("ctx") or {}).get("expected", "")).replace("'", "")
    if error["type"] == "extra_forbidden":
        return "not a setting"
    return message[:1].lower() + message[1:]


# -- value types shared by the groups -----------------------------------------------------------


def _flag(value: object) -> object:
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _ON:
            return True
        if text in _OFF:
            return False
        raise ValueError("use on or off")
    return value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


Flag = Annotated[bool, BeforeValidator(_flag)]
"""On or off: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``."""
OptionalFlag = Annotated[bool | None, BeforeValidator(_flag)]
"""On, off or unset (``None``: the default of where it is used)."""
Lowered = BeforeValidator(_lower)
"""Compare choices without case or surrounding blanks (``AWS `` is ``aws``)."""
