"""How much a catalog source may cost to load (``core.catalog.limits``): bytes downloaded and
decompressed, document depth, ``$ref`` count, and what an unresolvable ``$ref`` means."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from core.settings._base import EnvGroup, Lowered

UnresolvedRefs = Literal["error", "warn"]


class CatalogSettings(EnvGroup):
    """Caps on every spec the loader reads, whoever named it (a workflow, a request, the CLI)."""

    max_download_bytes: int = Field(
        default=20 * 2**20, gt=0, validation_alias="PADDOCK_CATALOG_MAX_DOWNLOAD_BYTES"
    )
    """PADDOCK_CATALOG_MAX_DOWNLOAD_BYTES: the most bytes read from one spec file or URL
    (default 20 MiB)."""
    max_decompressed_bytes: int = Field(
        default=50 * 2**20, gt=0, validation_alias="PADDOCK_CATALOG_MAX_DECOMPRESSED_BYTES"
    )
    """PADDOCK_CATALOG_MAX_DECOMPRESSED_BYTES: the most bytes a gzipped spec may expand to
    (default 50 MiB)."""
    max_depth: int = Field(default=128, gt=0, validation_alias="PADDOCK_CATALOG_MAX_DEPTH")
    """PADDOCK_CATALOG_MAX_DEPTH: the deepest nesting of mappings and lists a spec may have."""
    max_refs: int = Field(default=20_000, gt=0, validation_alias="PADDOCK_CATALOG_MAX_REFS")
    """PADDOCK_CATALOG_MAX_REFS: the most ``$ref``s (and YAML aliases) one spec may hold."""
    unresolved_refs: Annotated[UnresolvedRefs, Lowered] = Field(
        default="error", validation_alias="PADDOCK_CATALOG_UNRESOLVED_REFS"
    )
    """PADDOCK_CATALOG_UNRESOLVED_REFS: ``error`` (a ``$ref`` that cannot be resolved fails
    the import, naming it) or ``warn`` (the import warns and the schema there accepts any
    value)."""
