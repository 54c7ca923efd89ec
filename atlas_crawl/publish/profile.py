"""What each column of a stored table is for: places, period, value, unit, status, indicators.

Read from the manifest (`places`, `dimensions`, `periodicity`, and an optional `catalogue:` block)
and from the table's schema and values, so a new source is catalogued without code changes. The
`catalogue:` block of a manifest may name what the conventions cannot guess:

    catalogue:
      period: year            # the column holding the period
      value: value            # the column holding the number
      facets: [metric, level]
      sort_desc: year
      label_column: name
      indicators: [metric]    # what a number is "of", for the canned queries
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from atlas_crawl.geo.columns import CANONICAL, CURRENT, LEVEL, SUFFIXES
from atlas_crawl.manifests import Manifest
from atlas_crawl.publish.periods import dominant_grain, parse_period

PERIOD_NAMES = ("period", "periode", "tid", "year", "aar", "år", "ar", "month", "maaned",
                "måned", "quarter", "kvartal", "school_year", "skoleaar", "skoleår", "date",
                "dato")
VALUE_NAMES = ("value", "verdi", "antall", "amount", "belop", "beløp")
PLACE_SUFFIXES = (*SUFFIXES, "_name", "_code")
BOOKKEEPING = ("_run", "_fetch")
SAMPLE = 500  # distinct values looked at when deciding what a column holds
MAX_FACET_VALUES = 60
# From this size on a table's default facets are key columns only (covered by the primary key
# and its indexes, so a filtered page counts them without reading rows) and their unfiltered
# counts are precomputed at publish (publish/fast.py).
LARGE_TABLE_ROWS = 200_000


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class PlaceColumns:
    raw: str
    code: str  # the column holding the canonical code (the raw one if no canonical exists)
    current: str | None
    level_column: str | None
    level: str  # the manifest's declared level (any, kommune, ...)
    raw_holds_codes: bool = False  # the raw column is codes ("0301", "K-0301"), not names
    # The column that finds a place's rows by the code valid then: `code`, or the raw column
    # when it holds the same code on every row and leads the primary key (SSB's codes are
    # canonical as published), so the key finds them and `code` needs no index of its own.
    seek: str = ""

    def __post_init__(self) -> None:
        self.seek = self.seek or self.code


@dataclass
class TableProfile:
    table: str
    manifest: Manifest | None
    columns: dict[str, str]  # name -> declared type
    pk: list[str]
    rows: int
    places: list[PlaceColumns] = field(default_factory=list)
    period: str | None = None
    period_grain: str | None = None
    period_is_text: bool = True
    first_period: str | None = None
    last_period: str | None = None
    value: str | None = None
    unit: str | None = None
    status: str | None = None
    indicators: list[str] = field(default_factory=list)
    facets: list[str] = field(default_factory=list)
    labelled: set[str] = field(default_factory=set)  # columns with a foreign key (shown labelled)
    # column -> (table, key column, label column): lookups among a source's own tables, e.g. an
    # indicator code and the table describing the indicators
    lookups: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    # (table, column) holding the unit per code, when units live in a dimension table
    unit_lookup: tuple[str, str, str] | None = None

    @property
    def options(self) -> dict:
        if self.manifest is None:
            return {}
        block = self.manifest.extra.get("catalogue") or {}
        return block if isinstance(block, dict) else {}

    @property
    def place(self) -> PlaceColumns | None:
        return self.places[0] if self.places else None

    def place_columns(self) -> set[str]:
        out: set[str] = set()
        for p in self.places:
            out |= {p.raw, p.code, *(c for c in (p.current, p.level_column) if c)}
            out |= {p.raw + s for s in PLACE_SUFFIXES if p.raw + s in self.columns}
            if self.manifest:
                out |= {pl.within for pl in self.manifest.places if pl.within}
        return out


def table_names(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]


def view_names(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='view' ORDER BY name")]


def _distinct(conn: sqlite3.Connection, table: str, column: str, limit: int = SAMPLE) -> list:
    return [r[0] for r in conn.execute(
        f"SELECT DISTINCT {quote(column)} FROM {quote(table)} "
        f"WHERE {quote(column)} IS NOT NULL LIMIT {limit}")]


def _mostly_digits(values: list) -> bool:
    return bool(values) and sum(any(ch.isdigit() for ch in str(v)) for v in values) \
        >= 0.9 * len(values)


def _count_distinct_upto(conn, table: str, column: str, limit: int) -> int:
    return conn.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT {quote(column)} FROM {quote(table)} "
        f"LIMIT {limit + 1})").fetchone()[0]


def profile_table(conn: sqlite3.Connection, table: str,
                  manifest: Manifest | None) -> TableProfile:
    info = conn.execute(f"PRAGMA table_info({quote(table)})").fetchall()
    columns = {r[1]: (r[2] or "").upper() for r in info}
    pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]
    rows = conn.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0]
    prof = TableProfile(table, manifest, columns, pk, rows)
    opts = prof.options
    lower = {c.lower(): c for c in columns}

    # places: declared by the manifest (only for the table named after the source, or any table
    # that has the declared column)
    for place in (manifest.places if manifest else ()):
        if place.column not in columns:
            continue
        code = next((place.column + s for s in (CANONICAL, "_code")
                     if place.column + s in columns), place.column)
        prof.places.append(PlaceColumns(
            raw=place.column, code=code,
            current=place.column + CURRENT if place.column + CURRENT in columns else None,
            level_column=place.column + LEVEL if place.column + LEVEL in columns else None,
            level=place.level,
            raw_holds_codes=_mostly_digits(_distinct(conn, table, place.column, 50))))
        found = prof.places[-1]
        if found.code != found.raw and pk[:1] == [found.raw] \
                and _same_values(conn, table, found.raw, found.code):
            found.seek = found.raw

    hint = manifest.period_hint if manifest else None
    # period
    candidates = [opts["period"]] if opts.get("period") in columns else [
        lower[n] for n in PERIOD_NAMES if n in lower]
    for column in candidates:
        values = _distinct(conn, table, column)
        parsed = [parse_period(v, hint) for v in values]
        if values and sum(p is not None for p in parsed) >= 0.9 * len(values):
            prof.period = column
            prof.period_grain = dominant_grain(parsed)
            prof.period_is_text = columns[column] not in ("INTEGER", "INT", "REAL", "NUMERIC")
            ends = sorted((p.end, p.period) for p in parsed if p is not None)
            prof.first_period, prof.last_period = ends[0][1], ends[-1][1]
            break

    # value, unit, status
    if opts.get("value") in columns:
        prof.value = opts["value"]
    else:
        prof.value = next((lower[n] for n in VALUE_NAMES if n in lower), None) or next(
            (c for c, kind in columns.items() if kind == "REAL" and c not in pk
             and not c.startswith("_")), None)
    prof.unit = next((lower[n] for n in ("unit", "enhet", "unit_label") if n in lower), None)
    prof.status = next((lower[n] for n in ("status",) if n in lower), None)

    # indicators: key columns that are not place or period, shown by their label when they have one
    taken = prof.place_columns() | {prof.period, prof.value, prof.status, prof.unit}
    if isinstance(opts.get("indicators"), list):
        prof.indicators = [c for c in opts["indicators"] if c in columns]
    elif prof.value:  # only tables of numbers have indicators
        keys = pk or [c for c in columns if not c.startswith("_")]
        for column in keys:
            if column in taken or column == "level" or column.endswith("_level"):
                continue
            if any(_same_as(conn, table, column, p.raw) for p in prof.places):
                continue  # another spelling of the place (a raw label next to the place column)
            prof.indicators.append(column + "_label" if column + "_label" in columns else column)

    prof.facets = choose_facets(conn, prof)
    return prof


#: `_same_as` looks at this many rows first: a column that does not determine the other there
#: does not in the whole table either, and the whole table (millions of rows) is not read.
SAME_AS_SAMPLE = 100_000


def _same_as(conn: sqlite3.Connection, table: str, a: str, b: str) -> bool:
    """True if one of the columns determines the other (a label of the place next to it)."""
    counts = (f"SELECT count(DISTINCT {quote(a)}), count(DISTINCT {quote(b)}), "
              f"count(DISTINCT coalesce({quote(a)}, '') || char(31) || coalesce({quote(b)}, '')) "
              "FROM {}")
    n_a, n_b, n_ab = conn.execute(counts.format(
        f"(SELECT {quote(a)}, {quote(b)} FROM {quote(table)} LIMIT {SAME_AS_SAMPLE})")).fetchone()
    if n_a > 1 and n_b > 1 and n_ab not in (n_a, n_b):
        return False  # neither determines the other in these rows, so not in all of them
    n_a, n_b, n_ab = conn.execute(counts.format(quote(table))).fetchone()
    return n_a > 1 and n_b > 1 and n_ab in (n_a, n_b)


def _same_values(conn: sqlite3.Connection, table: str, a: str, b: str) -> bool:
    """True if the two columns hold the same value on every row: the first SAME_AS_SAMPLE rows
    are read first, so a table where they differ is not read to the end."""
    differ = f"SELECT 1 FROM {{}} WHERE {quote(a)} IS NOT {quote(b)} LIMIT 1"
    sample = f"(SELECT {quote(a)}, {quote(b)} FROM {quote(table)} LIMIT {SAME_AS_SAMPLE})"
    return not (conn.execute(differ.format(sample)).fetchone()
                or conn.execute(differ.format(quote(table))).fetchone())


def choose_facets(conn: sqlite3.Connection, prof: TableProfile) -> list[str]:
    opts = prof.options
    if isinstance(opts.get("facets"), list):
        return [c for c in opts["facets"] if c in prof.columns]
    wanted: list[str] = []
    if prof.period:
        wanted.append(prof.period)
    for p in prof.places:
        if p.level_column:
            wanted.append(p.level_column)
    wanted += prof.indicators
    if prof.unit:
        wanted.append(prof.unit)
    if prof.status:
        wanted.append(prof.status)
    if prof.rows >= LARGE_TABLE_ROWS:
        wanted = [c for c in wanted if c in prof.pk]
    facets = []
    for column in dict.fromkeys(wanted):
        if prof.rows and _count_distinct_upto(conn, prof.table, column,
                                              MAX_FACET_VALUES) <= MAX_FACET_VALUES or column == prof.period:
            facets.append(column)
    return facets[:5]
