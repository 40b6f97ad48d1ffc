"""A vendor's ``x-paddock-*`` labels are the vendor's word: they may tighten a tool, never
loosen it.

A spec the operator did not write (a vendor's file, a URL) could otherwise label its ``POST
/payouts`` a harmless read, or its untrusted inbox a trusted source. So the labels are taken out
of a vendor document before the operator's overlays are applied; the catalog then derives each
tool from the operator's labels and the HTTP method alone, and the vendor's labels are applied
afterwards only where they make the tool stricter (:func:`tighten`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from core.domain import SideEffect, Tool, Trust
from core.domain.bindings import HttpBinding

PREFIX = "x-paddock-"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_SEVERITY = {SideEffect.READ: 0, SideEffect.WRITE: 1, SideEffect.DESTRUCTIVE: 2}
_DRIFT = {"warn": 0, "pause": 1, "fail": 2}

Labels = dict[str, dict[str, Any]]
"""Labels by operation (``"POST /orders"``) or security scheme (``"securitySchemes/key"``)."""


def strip_labels(document: Mapping[str, Any]) -> tuple[dict[str, Any], Labels]:
    """The document without its ``x-paddock-*`` labels, and the labels each operation had
    (inherited from the document, ``info`` and the path item)."""
    doc = copy.deepcopy(dict(document))
    labels = effective_labels(doc)
    for holder in _holders(doc):
        for key in [k for k in holder if isinstance(k, str) and k.startswith(PREFIX)]:
            del holder[key]
    return doc, labels


def effective_labels(document: Mapping[str, Any]) -> Labels:
    """The ``x-paddock-*`` labels that apply to each operation and security scheme."""
    top = _own(document) | _own(document.get("info"))
    found: Labels = {}
    paths = document.get("paths")
    for path, item in (paths or {}).items() if isinstance(paths, Mapping) else ():
        if not isinstance(item, Mapping):
            continue
        inherited = top | _own(item)
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, Mapping):
                merged = inherited | _own(op)
                if merged:
                    found[f"{method.upper()} {path}"] = merged
    for name, scheme in _schemes(document).items():
        own = _own(scheme)
        if own:
            found[f"securitySchemes/{name}"] = own
    return found


def unconfirmed(vendor: Labels, operator: Labels) -> list[tuple[str, str, Any]]:
    """Each vendor label the operator's overlays did not set for the same place:
    ``(operation, label, vendor's value)``."""
    return [
        (where, key, value)
        for where, labels in sorted(vendor.items())
        for key, value in sorted(labels.items())
        if key not in operator.get(where, {})
    ]


def tighten(tool: Tool, vendor: Mapping[str, Any]) -> Tool:
    """``tool`` made stricter where the vendor's labels ask for it; never looser.

    A higher side-effect class, ``untrusted`` and a stricter drift mode are taken; everything
    else the vendor says (cloud, auth, a lower class, ``trusted``) is ignored.
    """
    update: dict[str, Any] = {}
    side = _enum(SideEffect, vendor.get("x-paddock-side-effect"))
    if side is not None and _SEVERITY[side] > _SEVERITY[tool.side_effect]:
        update["side_effect"] = side
    trust = vendor.get("x-paddock-trust")
    if trust is not None and str(trust).strip().lower() != Trust.TRUSTED.value:
        update["trust"] = Trust.UNTRUSTED  # anything but a clear "trusted" is untrusted
    drift = str(vendor.get("x-paddock-drift", "")).strip().lower()
    if _DRIFT.get(drift, -1) > _DRIFT.get(tool.drift_mode, 1):
        update["drift_mode"] = drift
    return tool.model_copy(update=update) if update else tool


def as_vendors(tool: Tool, labels: Labels) -> Tool:
    """``tool`` from a vendor's spec: tightened by the vendor's labels for its operation, its
    descriptions marked as third-party text."""
    key = operation_key(tool)
    own = labels.get(key, {}) if key is not None else {}
    return tighten(tool, own).model_copy(update={"third_party_text": True})


def operation_key(tool: Tool) -> str | None:
    binding = tool.binding
    return f"{binding.method} {binding.path}" if isinstance(binding, HttpBinding) else None


def _enum(kind: type[SideEffect], value: Any) -> SideEffect | None:
    try:
        return kind(str(value).strip().lower()) if value is not None else None
    except ValueError:
        return SideEffect.DESTRUCTIVE  # an unreadable vendor class is taken as the strictest


def _own(holder: Any) -> dict[str, Any]:
    if not isinstance(holder, Mapping):
        return {}
    return {k: v for k, v in holder.items() if isinstance(k, str) and k.startswith(PREFIX)}


def _schemes(document: Mapping[str, Any]) -> dict[str, Any]:
    components = document.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, Mapping) else None
    if not isinstance(schemes, Mapping):
        schemes = document.get("securityDefinitions")  # Swagger 2
    return dict(schemes) if isinstance(schemes, Mapping) else {}


def _holders(document: dict[str, Any]) -> list[dict[str, Any]]:
    holders: list[dict[str, Any]] = [document]
    if isinstance(document.get("info"), dict):
        holders.append(document["info"])
    paths = document.get("paths")
    for item in (paths or {}).values() if isinstance(paths, dict) else ():
        if isinstance(item, dict):
            holders.append(item)
            holders.extend(op for m, op in item.items() if m in METHODS and isinstance(op, dict))
    holders.extend(s for s in _schemes(document).values() if isinstance(s, dict))
    return holders
