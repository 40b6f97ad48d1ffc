"""Schema drift: spec diffs before runs, response drift during runs."""

from core.drift.changes import Change, Level
from core.drift.runtime import response_drift
from core.drift.spec_diff import diff_operation, diff_tools
from core.drift.specs import diff_documents, diff_specs

__all__ = [
    "Change",
    "Level",
    "diff_documents",
    "diff_operation",
    "diff_specs",
    "diff_tools",
    "response_drift",
]
