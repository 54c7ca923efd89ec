"""What to hand the geography pipeline for a region label that may or may not carry a code."""

from __future__ import annotations

from atlas_crawl.geo.reference import resolve


def place_of_label(code: str | None, name: str, level: str, on: str | int | None) -> str:
    """The code when the label has one; for a name-only fylke rollup ("I alt Telemark") the
    fylke's code when the name is a fylke on that date; otherwise the name ("Ukjent", which the
    geography knows as NAV's unknown bucket, or a name it cannot place, which the pipeline then
    quarantines with the reason)."""
    if code:
        return code
    if level == "fylke":
        found = resolve(name, on, level="fylke")
        if found.placed and found.level == "fylke" and found.code:
            return found.code
    return name
