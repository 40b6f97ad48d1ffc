"""OpenAPI ``discriminator`` in JSON Schema terms.

The keyword itself is kept as an annotation, its mapping naming schemas instead of refs
(which no longer exist once inlined). Where the mapping is explicit, each ``oneOf`` /
``anyOf`` branch it names also requires its discriminator value: that is what OpenAPI means,
and without it structurally overlapping branches would make ``oneOf`` reject valid data.
Implicit mappings (value = schema name) are not enforced: real specs often get them wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.catalog._refs import Documents, RefError, RefKey

Note = Callable[[str], None]


def discriminate(
    docs: Documents, node: dict[str, Any], out: dict[str, Any], base: str, note: Note, where: str
) -> None:
    """Carry ``node``'s discriminator into the converted schema ``out``."""
    disc = node["discriminator"]
    prop = disc.get("propertyName")
    if not isinstance(prop, str):
        note(f"{where}: discriminator without propertyName; dropped")
        return
    values: dict[RefKey, list[str]] = {}
    mapping: dict[str, str] = {}
    raw_mapping = disc.get("mapping")
    for value, target in (raw_mapping if isinstance(raw_mapping, dict) else {}).items():
        ref = str(target)
        if "/" not in ref and "#" not in ref:
            ref = f"#/components/schemas/{ref}"
        try:
            key = docs.resolve(ref, base)[0]
        except RefError as exc:
            note(f"{where}: discriminator mapping {value!r}: {exc}")
            continue
        values.setdefault(key, []).append(str(value))
        mapping[str(value)] = key[1].rsplit("/", 1)[-1]
    out["discriminator"] = {"propertyName": prop, **({"mapping": mapping} if mapping else {})}
    for keyword in ("oneOf", "anyOf"):
        if isinstance(node.get(keyword), list) and keyword in out:
            out[keyword] = _tag_branches(docs, node[keyword], out[keyword], prop, values, base)


def _tag_branches(
    docs: Documents,
    raw: list[Any],
    converted: list[Any],
    prop: str,
    values: dict[RefKey, list[str]],
    base: str,
) -> list[Any]:
    tagged: list[Any] = []
    for raw_branch, branch in zip(raw, converted, strict=True):
        key = None
        if isinstance(raw_branch, dict) and isinstance(raw_branch.get("$ref"), str):
            try:
                key = docs.resolve(raw_branch["$ref"], base)[0]
            except RefError:
                key = None
        if key is not None and key in values:
            tag = {"properties": {prop: {"enum": values[key]}}, "required": [prop]}
            tagged.append({"allOf": [branch, tag]})
        else:
            tagged.append(branch)
    return tagged
