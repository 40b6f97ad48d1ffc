"""OpenAPI / Swagger schema objects to JSON Schema Draft 2020-12.

``$ref``s are inlined, except refs that can reach themselves: those become
``{"$ref": "#/$defs/<Name>"}`` and their definitions go into the ``$defs`` of the root
schema that uses them, so a recursive structure still validates to any depth.

Converted sub-schemas are cached and shared between roots: treat results as read-only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from core.catalog._discriminator import discriminate
from core.catalog._refs import Documents, RefError, RefKey

REQUEST = "request"
RESPONSE = "response"

_SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = (
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
    "contentSchema",
)
KEPT_EXTENSIONS = frozenset({"x-paddock-risk", "x-paddock-confidentiality"})
_DROPPED = frozenset(
    {
        "xml",
        "externalDocs",
        "$id",
        "$schema",
        "$anchor",
        "$dynamicAnchor",
        "$defs",
        "definitions",
        "nullable",
        "x-nullable",
        "example",
        "discriminator",
        "collectionFormat",
        "$comment",
        "dependencies",
    }
)
_NUMBERS = (
    "minimum",
    "maximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
)
_ANNOTATIONS = frozenset(
    {"description", "title", "default", "examples", "deprecated", "readOnly", "writeOnly", "format"}
)
_STRINGS = frozenset(
    {"title", "description", "format", "contentMediaType", "contentEncoding", "$ref"}
)
_BOOLEANS = frozenset({"uniqueItems", "readOnly", "writeOnly", "deprecated"})
_JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})


@dataclass
class Collector:
    """What converting one root schema needed: ``$defs`` names used, and warnings."""

    uses: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)


@dataclass(frozen=True)
class _Entry:
    schema: Any
    uses: frozenset[str]
    notes: tuple[str, ...]


class SchemaConverter:
    """Converts schemas of one document (and the files it references)."""

    def __init__(self, docs: Documents, *, dialect: str) -> None:
        self.docs = docs
        self.legacy = dialect != "openapi-3.1"
        self._cache: dict[tuple[RefKey, str], _Entry] = {}
        self._names: dict[RefKey, str] = {}
        self._taken: set[str] = set()
        self._defs: dict[tuple[str, str], _Entry | None] = {}

    # -- public -------------------------------------------------------------------------------

    def convert(
        self, node: Any, *, base: str, context: str, col: Collector, where: str = ""
    ) -> Any:
        """Convert one schema; ``col`` gathers the ``$defs`` names and warnings it needs."""
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            col.note(
                f"{where or 'schema'}: not a schema object ({type(node).__name__}); "
                "accepts any value"
            )
            return {}
        if isinstance(node.get("$ref"), str):
            return self._ref(node, base, context, col, where)
        return self._object(node, base, context, col, where)

    def definitions(self, col: Collector, context: str) -> dict[str, Any]:
        """The ``$defs`` a root needs: every name in ``col.uses``, transitively."""
        found: dict[str, Any] = {}
        pending = sorted(col.uses)
        while pending:
            name = pending.pop()
            if name in found:
                continue
            entry = self._defs.get((context, name))
            if entry is None:  # pragma: no cover - defined before first use
                continue
            found[name] = entry.schema
            for note in entry.notes:
                col.note(note)
            pending.extend(n for n in entry.uses if n not in found)
        return dict(sorted(found.items()))

    def raw_flag(self, node: Any, base: str, key: str) -> bool:
        """Whether ``node`` (following ``$ref``s) sets ``key: true`` (readOnly, writeOnly)."""
        if isinstance(node, dict) and node.get(key) is True:
            return True
        try:
            target, _ = self.docs.follow(node, base)
        except RefError:
            return False
        return isinstance(target, dict) and target.get(key) is True

    # -- refs ---------------------------------------------------------------------------------

    def _ref(
        self, node: dict[str, Any], base: str, context: str, col: Collector, where: str
    ) -> Any:
        ref = node["$ref"]
        try:
            key, target = self.docs.resolve(ref, base)
        except RefError as exc:
            col.note(f"{where or 'schema'}: {exc}; accepts any value there")
            return {}
        label = key[1].rsplit("/", 1)[-1] or key[0].rsplit("/", 1)[-1]
        if self.docs.is_recursive(key):
            name = self._define(key, target, context)
            col.uses.add(name)
            result: Any = {"$ref": f"#/$defs/{name}"}
        else:
            entry = self._cache.get((key, context))
            if entry is None:
                sub = Collector()
                schema = self.convert(target, base=key[0], context=context, col=sub, where=label)
                entry = _Entry(schema, frozenset(sub.uses), tuple(sub.notes))
                self._cache[(key, context)] = entry
            col.uses.update(entry.uses)
            for note in entry.notes:
                col.note(note)
            result = entry.schema
        return self._siblings(node, result, base, context, col, where)

    def _define(self, key: RefKey, target: Any, context: str) -> str:
        name = self._name(key)
        if (context, name) not in self._defs:
            self._defs[(context, name)] = None  # in progress: inner refs to it stop here
            sub = Collector()
            schema = self.convert(target, base=key[0], context=context, col=sub, where=name)
            self._defs[(context, name)] = _Entry(schema, frozenset(sub.uses), tuple(sub.notes))
        return name

    def _name(self, key: RefKey) -> str:
        name = self._names.get(key)
        if name is None:
            stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", key[1].rsplit("/", 1)[-1]) or "schema"
            name, n = stem, 1
            while name in self._taken:
                n += 1
                name = f"{stem}_{n}"
            self._taken.add(name)
            self._names[key] = name
        return name

    def _siblings(
        self, node: dict[str, Any], result: Any, base: str, context: str, col: Collector, where: str
    ) -> Any:
        extra = {k: v for k, v in node.items() if k != "$ref" and not k.startswith("x-")}
        nullable = extra.pop("nullable", None) is True
        if extra:
            sib = self._object(extra, base, context, col, where)
            if set(sib) <= _ANNOTATIONS and isinstance(result, dict):
                result = {**result, **sib}
            elif sib:
                result = {**sib, "allOf": [result, *sib.get("allOf", [])]}
        if nullable:
            result = _or_null(result)
        return result

    # -- objects ------------------------------------------------------------------------------

    def _object(
        self, node: dict[str, Any], base: str, context: str, col: Collector, where: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in node.items():
            if not isinstance(key, str) or key in _DROPPED:
                continue
            if key.startswith("x-"):
                if key in KEPT_EXTENSIONS:  # labels the guard reads (docs/guardrails.md)
                    out[key] = value
                continue
            out_value = self._keyword(key, value, node, base, context, col, where)
            if isinstance(out_value, _PrefixItems):
                out["prefixItems"] = list(out_value)
            elif out_value is not _SKIP:
                out[key] = out_value
        if "example" in node and "examples" not in out:
            out["examples"] = [node["example"]]
        self._exclusive_bounds(node, out)
        _tuple_tail(out)
        if isinstance(node.get("dependencies"), dict):
            self._dependencies(node["dependencies"], out, base, context, col, where)
        self._drop_hidden(node, out, base, context)
        if isinstance(node.get("discriminator"), dict):
            discriminate(self.docs, node, out, base, col.note, where)
        elif isinstance(node.get("discriminator"), str):  # Swagger 2.0: just the property
            out["discriminator"] = {"propertyName": node["discriminator"]}
        if node.get("nullable") is True or node.get("x-nullable") is True:
            out = _nullable(out)
        return out

    def _keyword(
        self,
        key: str,
        value: Any,
        node: dict[str, Any],
        base: str,
        context: str,
        col: Collector,
        where: str,
    ) -> Any:
        def sub(item: Any, part: str) -> Any:
            return self.convert(
                item,
                base=base,
                context=context,
                col=col,
                where=f"{where}.{part}" if where else part,
            )

        if key in _SCHEMA_MAPS:
            if not isinstance(value, dict):
                col.note(f"{where}: '{key}' is not a mapping; dropped")
                return _SKIP
            return {str(k): sub(v, str(k)) for k, v in value.items()}
        if key in _SCHEMA_LISTS:
            if not isinstance(value, list):
                col.note(f"{where}: '{key}' is not a list; dropped")
                return _SKIP
            return [sub(v, key) for v in value]
        if key in _SCHEMA_ONE:
            return sub(value, key)
        if key == "items":
            if isinstance(value, list):  # draft-4 tuple form
                return _SKIP if "prefixItems" in node else _tuple_items(value, sub)
            return sub(value, "[]")
        return self._scalar_keyword(key, value, where, col)

    def _scalar_keyword(self, key: str, value: Any, where: str, col: Collector) -> Any:
        if key == "type":
            return self._type(value, where, col)
        if key == "required":
            if isinstance(value, list):
                return [str(v) for v in value]
            col.note(f"{where}: 'required: {value!r}' is not a list of names; dropped")
            return _SKIP
        if key == "pattern":
            return self._pattern(value, where, col)
        if key in _NUMBERS:
            return _number(key, value, where, col)
        if key in ("exclusiveMinimum", "exclusiveMaximum"):
            return _SKIP  # handled with minimum / maximum
        if key == "examples" and not isinstance(value, list):
            return [value]
        if (key in _STRINGS and not isinstance(value, str)) or (
            key in _BOOLEANS and not isinstance(value, bool)
        ):
            col.note(f"{where or 'schema'}: '{key}: {value!r:.40}' has the wrong type; dropped")
            return _SKIP
        if key == "enum" and not isinstance(value, list):
            col.note(f"{where}: 'enum' is not a list; dropped")
            return _SKIP
        return value

    def _type(self, value: Any, where: str, col: Collector) -> Any:
        kinds = value if isinstance(value, list) else [value]
        if "file" in kinds:
            col.note(
                f"{where or 'schema'}: 'type: file' (binary content) is not JSON; accepts any value"
            )
        kept = [k for k in kinds if k in _JSON_TYPES]
        dropped = [k for k in kinds if k not in _JSON_TYPES and k != "file"]
        if dropped:
            col.note(f"{where or 'schema'}: unknown type {dropped!r} dropped")
        if not kept:
            return _SKIP
        return kept if isinstance(value, list) else kept[0]

    def _pattern(self, value: Any, where: str, col: Collector) -> Any:
        try:
            re.compile(str(value))
        except re.error as exc:
            col.note(
                f"{where or 'schema'}: pattern {value!r} is not a valid regular "
                f"expression ({exc}); dropped"
            )
            return _SKIP
        return str(value)

    def _dependencies(
        self,
        value: dict[str, Any],
        out: dict[str, Any],
        base: str,
        context: str,
        col: Collector,
        where: str,
    ) -> None:
        """Draft-4 ``dependencies``: lists become dependentRequired, schemas dependentSchemas."""
        for name, dep in value.items():
            if isinstance(dep, list):
                out.setdefault("dependentRequired", {})[str(name)] = [str(d) for d in dep]
            else:
                out.setdefault("dependentSchemas", {})[str(name)] = self.convert(
                    dep, base=base, context=context, col=col, where=f"{where}.{name}"
                )

    def _exclusive_bounds(self, node: dict[str, Any], out: dict[str, Any]) -> None:
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            flag = node.get(exclusive)
            if isinstance(flag, bool):  # OpenAPI 3.0 / Swagger: a flag on minimum/maximum
                if flag and bound in out:
                    out[exclusive] = out.pop(bound)
            elif isinstance(flag, int | float):
                out[exclusive] = flag

    def _drop_hidden(
        self, node: dict[str, Any], out: dict[str, Any], base: str, context: str
    ) -> None:
        """readOnly properties are not sent; writeOnly ones are not required in responses."""
        props = node.get("properties")
        if not isinstance(props, dict) or "properties" not in out:
            return
        flag = "readOnly" if context == REQUEST else "writeOnly"
        hidden = {str(k) for k, v in props.items() if self.raw_flag(v, base, flag)}
        if not hidden:
            return
        if context == REQUEST:
            out["properties"] = {k: v for k, v in out["properties"].items() if k not in hidden}
        if isinstance(out.get("required"), list):
            out["required"] = [r for r in out["required"] if r not in hidden]


def _tuple_tail(out: dict[str, Any]) -> None:
    """Draft-4 ``additionalItems`` after tuple ``items`` is 2020-12 ``items``."""
    tail = out.pop("additionalItems", None)
    if tail is not None and "prefixItems" in out and "items" not in out:
        out["items"] = tail


class _Skip:
    pass


_SKIP: Any = _Skip()


def _tuple_items(value: list[Any], sub: Any) -> Any:
    return _SKIP if not value else _PrefixItems([sub(v, "[]") for v in value])


class _PrefixItems(list[Any]):
    """Marker: draft-4 tuple ``items`` that ``_object`` renames to ``prefixItems``."""


def _number(key: str, value: Any, where: str, col: Collector) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        col.note(f"{where or 'schema'}: '{key}: {value!r}' is not a number; dropped")
        return _SKIP
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            col.note(f"{where or 'schema'}: '{key}: {value!r}' is not a number; dropped")
            return _SKIP
        return int(number) if number.is_integer() else number
    return value


def _nullable(out: dict[str, Any]) -> dict[str, Any]:
    kind = out.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if "null" not in kinds:
            out["type"] = [*kinds, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    if isinstance(out.get("enum"), list):
        if None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    if any(k in out for k in ("allOf", "anyOf", "oneOf", "$ref", "not", "const")):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _or_null(schema: Any) -> Any:
    if schema is True or schema == {}:
        return schema
    return {"anyOf": [schema, {"type": "null"}]}
