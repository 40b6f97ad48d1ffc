"""Run data as the console shows it: every text through the telemetry redactor first.

The API's views (runs, steps, calls, guard decisions, approvals) are redacted as a whole before
a template sees them, so a field added to a view later is covered without anyone remembering
a template filter. Only identifiers the system mints are left as they are (links and forms
need them exact). Who asked and who decided keep their e-mail addresses: secrets are masked
there, personal data is not, because an approver must see who they are deciding for.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from core.telemetry.redact import Redactor

M = TypeVar("M", bound=BaseModel)

MINTED = frozenset({"id", "run_id", "call_id", "approval_id", "args_hash"})
"""Fields the system generates (never model or user text): shown exactly."""
IDENTITIES = frozenset({"requested_by", "decided_by", "owner", "tenant"})
"""Fields naming principals: secrets masked, e-mail addresses kept."""


def redact_view(view: M) -> M:
    """A copy of ``view`` with every text and JSON value redacted (``view`` if none changed)."""
    updates: dict[str, Any] = {}
    for name in type(view).model_fields:
        value = getattr(view, name)
        changed = _field(name, value)
        if changed is not value:
            updates[name] = changed
    return view.model_copy(update=updates) if updates else view


def redact_text(text: str | None) -> str:
    """One free text (a kill flag's reason, an error message) as the console may show it."""
    return _redactors()[0].text(text) if text else ""


def redact_identity(name: str | None) -> str | None:
    """A principal's name (who asked, who decided): secrets masked, e-mail kept."""
    return _redactors()[1].text(name) if name else name


def _field(name: str, value: Any) -> Any:
    if name in MINTED or value is None:
        return value
    if isinstance(value, BaseModel):
        return redact_view(value)
    if isinstance(value, str):
        text, identity = _redactors()
        out = (identity if name in IDENTITIES else text).text(value)
        return value if out == value else out  # unchanged: a status keeps its enum type
    if isinstance(value, list):
        items = [_field(name, item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        # JSON data (arguments, results, drift): keys that name secrets hide their values.
        return _redactors()[0].value(value)
    return value


@functools.cache
def _redactors() -> tuple[Redactor, Redactor]:
    """The telemetry redactor, and the same without personal-data masking (identities)."""
    from core.telemetry.redact import DEFAULT_REDACTOR, Redactor  # not cheap to import

    return DEFAULT_REDACTOR, Redactor(personal_data=False)
