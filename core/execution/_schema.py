"""Response validation with precise JSON paths: what drift detection reads.

Each error reads ``<json path>: <what was expected>, got <what was seen>``, e.g.
``$.data.id: 'id' is a required property`` or ``$.items[0].qty: expected integer, got string
"7"`` (rendered by ``core.schema_errors``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

from core.schema_errors import MAX_PROBLEMS, render_errors


@lru_cache(maxsize=256)
def _validator(schema_text: str) -> Draft202012Validator:
    schema = json.loads(schema_text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_body(schema: dict[str, Any], body: Any) -> tuple[bool | None, list[str]]:
    """Validate ``body`` against a Draft 2020-12 schema.

    Returns ``(valid, errors)``; ``valid`` is ``None`` when the schema itself is unusable
    (the errors then say why).
    """
    try:
        validator = _validator(json.dumps(schema, sort_keys=True, default=str))
        raw = list(validator.iter_errors(body))
    except (SchemaError, Unresolvable) as exc:
        reason = exc.message if isinstance(exc, SchemaError) else str(exc)
        return None, [f"$: response schema cannot be used: {reason}"]
    return not raw, render_errors(raw, root="$", limit=MAX_PROBLEMS)
