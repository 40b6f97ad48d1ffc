"""The Python-tool example bundle (examples/python_tools/bundle)."""

from __future__ import annotations

from pathlib import Path

BUNDLE = Path(__file__).resolve().parents[2] / "examples" / "python_tools" / "bundle"
