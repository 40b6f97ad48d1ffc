"""Run data as the console shows it: every text through the telemetry redactor first.

The redactor is the one spans and logs use, configured by the same settings
(``PADDOCK_REDACT_*``). The API's views (runs, steps, calls, guard decisions, approvals) are
redacted as a whole before a template sees them, so a field added to a view later is covered
without anyone remembering a template filter. Only identifiers the system mints are left as
they are (links and forms need them exact). Who asked and who decided keep their e-mail
addresses: secrets are masked there, personal data is not, because an approver must see who
they decide for.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from core.settings import TelemetrySettings
    from core.telemetry.redact import Redactor

M = TypeVar("M", bound=BaseModel)

MINTED = frozenset({"id", "run_id", "call_id", "approval_id", "args_hash"})
"""Fields the system generates (never model or user text): shown exactly."""
IDENTITIES = frozenset({"requested_by", "decided_by", "owner", "tenant"})
"""Fields naming principals: secrets masked, e-mail addresses kept."""


class ConsoleRedactor:
    """Applies one telemetry ``Redactor`` to everything the console renders from run data."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.identities = dataclasses.replace(redactor, personal_data=False)

    @classmethod
    def from_settings(cls, settings: TelemetrySettings, *, cloud: str = "local") -> ConsoleRedactor:
        """The process's redaction settings, as telemetry uses them."""
        from core.telemetry.setup import TelemetryConfig  # the telemetry package is not cheap

        return cls(TelemetryConfig.from_settings(settings, cloud=cloud).redactor())

    def view(self, view: M) -> M:
        """A copy of ``view`` with every text and JSON value redacted (``view`` if none
        changed)."""
        updates: dict[str, Any] = {}
        for name in type(view).model_fields:
            value = getattr(view, name)
            changed = self._field(name, value)
            if changed is not value:
                updates[name] = changed
        return view.model_copy(update=updates) if updates else view

    def text(self, text: str | None) -> str:
        """One free text (a kill flag's reason, an error message)."""
        return self.redactor.text(text) if text else ""

    def identity(self, name: str | None) -> str | None:
        """A principal's name (who asked, who decided): secrets masked, e-mail kept."""
        return self.identities.text(name) if name else name

    def json(self, value: Any) -> Any:
        """JSON data (arguments, results): keys that name secrets hide their values."""
        return self.redactor.value(value)

    def _field(self, name: str, value: Any) -> Any:
        if name in MINTED or value is None:
            return value
        if isinstance(value, BaseModel):
            return self.view(value)
        if isinstance(value, str):
            out = (self.identities if name in IDENTITIES else self.redactor).text(value)
            return value if out == value else out  # unchanged: a status keeps its enum type
        if isinstance(value, list):
            items = [self._field(name, item) for item in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        if isinstance(value, dict):
            return self.json(value)
        return value
