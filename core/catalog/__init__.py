"""The tool catalog: OpenAPI / Swagger specs imported into wire-neutral ``Tool`` records."""

from __future__ import annotations

from core.catalog.catalog import Catalog
from core.catalog.export import short_description, to_openai_tools
from core.catalog.loader import detect_format, load_document
from core.catalog.openapi import ImportResult, import_document, import_spec, tools_from_document
from core.catalog.overlay import apply_overlay, with_overlays
from core.domain import (
    AuthRequirement,
    Location,
    Param,
    ParamLocation,
    SideEffect,
    SpecRef,
    Tool,
    Trust,
)

__all__ = [
    "AuthRequirement",
    "Catalog",
    "ImportResult",
    "Location",
    "Param",
    "ParamLocation",
    "SideEffect",
    "SpecRef",
    "Tool",
    "Trust",
    "apply_overlay",
    "detect_format",
    "import_document",
    "import_spec",
    "load_document",
    "short_description",
    "to_openai_tools",
    "tools_from_document",
    "with_overlays",
]
