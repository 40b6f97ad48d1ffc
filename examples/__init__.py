"""Example workflows with their own specs, local services, policies and rule scripts.

They are not part of the cloud engine: ``core`` knows no example by name. The CLI and the local
dev server load them from here (``paddock demo NAME``, ``scripts/dev``).
"""

from examples.registry import (
    Example,
    example_names,
    example_workflows,
    get_example,
    rule_scripts,
)

__all__ = ["Example", "example_names", "example_workflows", "get_example", "rule_scripts"]
