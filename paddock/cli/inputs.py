"""``--input KEY=VALUE`` as the workflow's inputs schema types them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from core.errors import ConfigError
from core.workflows import Workflow


def cli_inputs(workflow: Workflow, pairs: Mapping[str, str]) -> dict[str, Any]:
    """Each value parsed as JSON where the schema wants something other than a string
    (``quantity=12500`` is the integer 12500); the schema check itself comes later."""
    props = (workflow.inputs_schema or {}).get("properties") or {}
    values: dict[str, Any] = {}
    for key, raw in pairs.items():
        wanted = (props.get(key) or {}).get("type")
        if wanted in (None, "string") or (isinstance(wanted, list) and "string" in wanted):
            values[key] = raw
            continue
        try:
            values[key] = json.loads(raw)
        except ValueError:
            raise ConfigError(
                f"--input {key}={raw}: workflow {workflow.name} wants {wanted}, not text"
            ) from None
    return values
