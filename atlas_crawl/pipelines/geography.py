"""Place every value of a manifest's place columns with atlas_crawl.geo.resolve().

For each declared place column `<col>` the batch gains `<col>_canonical` (the code valid on the
row's date), `<col>_current` (today's code, when the history maps it to exactly one),
`<col>_level` and `<col>_geo_status` (exact, renamed, merged, split, aggregate, unknown,
special). A row whose place cannot be put on the map (unresolvable, or a name shared by several
places) leaves the batch for its quarantine list, with the column, the raw value and the reason;
the store pipeline writes it to the `quarantine` table and counts it in `_runs`.

A place declared `optional` (a register's organisation may have no Norwegian address) keeps a
row whose value is empty, with the four columns NULL except `<col>_geo_status` = "absent".
Eight-digit codes are grunnkretser unless the place says `eight_digits: delbydel` (Bufdir's
03010109 Bispevika is a delbydel of 030101 Gamle Oslo; the two numberings look alike).
A place declared `unplaced: keep` (registers, where the row is an organisation, not a number
about a place) keeps a row it cannot place, with `<col>_geo_status` "unresolvable" or
"ambiguous", instead of quarantining the whole record.

The manifest's place entry may name an `on` column (the row's date or year, for names and codes
that changed), a `within` column (a parent fylke, for names that exist twice) and a `row_level`
column (the row's own level, for a name shared between levels: "Oslo" in IMDi's fylke table is
fylke 03, in its kommune table kommune 0301). With `within_if_it_helps` the parent only chooses:
a name none of whose places lies in it (or a parent that is no place) is placed on its own.
This step is the one place where what a source published, a code or a name, becomes a code: the
spiders hand over the label as written, with the heading and the level it was published under.
A batch has few distinct places, so each distinct (value, on, within, row level) is resolved once
per batch.
"""

from __future__ import annotations

import dataclasses
from operator import add, itemgetter
from typing import NamedTuple

from atlas_crawl.geo import resolve
from atlas_crawl.geo.columns import SUFFIXES
from atlas_crawl.items import Batch, Quarantined
from atlas_crawl.manifests import get_manifest

ABSENT = (None, None, None, "absent")


class Unplaced(NamedTuple):
    reason: str
    status: str  # unresolvable or ambiguous


def _level_hint(declared: str) -> str | None:
    return declared if declared in ("fylke", "kommune", "bydel") else None


class GeographyPipeline:
    def process_item(self, item):
        if not isinstance(item, Batch) or item.table != item.source_id:
            return item
        for place in get_manifest(item.source_id).places:
            place_column(item, place.column, level=place.level, on=place.on,
                         within=place.within, within_if_it_helps=place.within_if_it_helps,
                         row_level=place.row_level, optional=place.optional,
                         keep_unplaced=place.unplaced == "keep",
                         eight_digits=place.eight_digits)
        return item


def place_column(batch: Batch, column: str, *, level: str = "any", on: str | None = None,
                 within: str | None = None, within_if_it_helps: bool = False,
                 row_level: str | None = None, optional: bool = False,
                 keep_unplaced: bool = False, eight_digits: str = "grunnkrets") -> None:
    """Add the four place columns for `column` to `batch` in place; quarantine what cannot be
    placed. `on` / `within` / `row_level` name columns of the batch."""
    columns = batch.columns
    position = columns.index(column)
    extra = [columns.index(c) if c else None for c in (on, within, row_level)]
    hint = _level_hint(level)

    def place(raw, when, parent, row_level_value) -> tuple | Unplaced:
        return _place(raw, when, parent, _level_hint(row_level_value) or hint, column,
                      eight_digits, within_if_it_helps)

    cache: dict[tuple, tuple | Unplaced] = {}
    if not optional:
        # Fast path: a batch has few distinct places. Resolve each once, and when all of them
        # are placed, extend the rows without a Python-level loop per row.
        positions = [position, *(p for p in extra if p is not None)]
        keys = list(map(itemgetter(*positions), batch.rows))
        unpack = _unpacker([p is not None for p in extra])
        for key in set(keys):
            cache[key] = place(*unpack(key))
        if not any(isinstance(found, Unplaced) for found in cache.values()):
            batch.rows = list(map(add, batch.rows, map(cache.__getitem__, keys)))
            batch.columns = [*columns, *(column + s for s in SUFFIXES)]
            return
        cache = {unpack(k): v for k, v in cache.items()}

    kept: list[tuple] = []
    for row in batch.rows:
        raw = row[position]
        if optional and (raw is None or isinstance(raw, str) and not raw.strip()):
            kept.append(row + ABSENT)
            continue
        key = (raw, *(None if p is None else row[p] for p in extra))
        found = cache.get(key)
        if found is None:
            found = cache[key] = place(*key)
        if isinstance(found, Unplaced):
            if keep_unplaced:
                kept.append(row + (None, None, None, found.status))
                continue
            batch.quarantine.append(Quarantined(
                column=column, raw_value=None if raw is None else str(raw), reason=found.reason,
                row=dict(zip(columns, row, strict=True))))
            continue
        kept.append(row + found)
    batch.columns = [*columns, *(column + s for s in SUFFIXES)]
    batch.rows = kept


def _unpacker(present: list[bool]):
    """(raw, when, parent, row level) from a key made of the place column and those of the
    on / within / row-level columns that are `present`."""
    if not any(present):
        return lambda key: (key, None, None, None)

    def unpack(key: tuple) -> tuple:
        parts = iter(key)
        return (next(parts), *(next(parts) if p else None for p in present))
    return unpack


def _place(raw, when, parent, hint: str | None, column: str,
           eight_digits: str = "grunnkrets", within_if_it_helps: bool = False
           ) -> tuple | Unplaced:
    """The four added values, or the reason the value cannot be placed."""
    try:
        p = resolve(raw, when, parent, level=hint)
        if not p.placed and within_if_it_helps and parent is not None:
            alone = resolve(raw, when, level=hint)
            p = alone if alone.placed else dataclasses.replace(
                alone, note="; ".join(n for n in (p.note, alone.note) if n))
    except ValueError as exc:  # an `on` value that is not a date or year
        return Unplaced(f"{column}: {exc}", "unresolvable")
    if not p.placed:
        return Unplaced(f"{column} {raw!r}: {p.note}", p.status)
    if p.level == "grunnkrets" and eight_digits == "delbydel":
        return p.code, p.current, "delbydel", p.status
    return p.code, p.current, p.level, p.status
