"""Workflows a deployment knows by name (``core.workflows.model``).

Core knows no workflow by name: the operator's workflows — and, on a developer's machine, the
example workflows — are handed to the API, the workers and the CLI as a :class:`WorkflowSet`.
"""

from __future__ import annotations

from core.workflows.model import SpecDocument, Workflow, WorkflowSet

__all__ = ["SpecDocument", "Workflow", "WorkflowSet"]
