"""The columns the geography pipeline adds beside every place column `<col>` of a table: their
one definition, read by the pipeline that writes them and the catalogue that describes and
queries them."""

from __future__ import annotations

CANONICAL = "_canonical"  # the code as valid on the row's date, zero-padded, prefix removed
CURRENT = "_current"  # today's code, where the change history maps it unambiguously
LEVEL = "_level"  # land, fylke, kommune, bydel, ...
GEO_STATUS = "_geo_status"  # exact, renamed, merged, split, aggregate, absent, ...

#: in the order the pipeline appends them
SUFFIXES = (CANONICAL, CURRENT, LEVEL, GEO_STATUS)

MEANINGS = {
    CANONICAL: "canonical code (zero-padded, prefix removed)",
    CURRENT: "today's code, where the change history maps it unambiguously",
    LEVEL: "geographic level (land, fylke, kommune, bydel, ...)",
    GEO_STATUS: "how the place was resolved (exact, merged, split, aggregate, ...)",
}


def place_columns(column: str) -> tuple[str, ...]:
    """`<column>_canonical`, `_current`, `_level`, `_geo_status`."""
    return tuple(column + suffix for suffix in SUFFIXES)
