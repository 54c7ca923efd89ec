"""Dimension tables and foreign keys written at publish time, so Datasette shows names next to codes.

- `dim_period`: every period code the tables use, with its grain (P1Y, P3M, P1M, P3Y, ...), the
  year it ends in, first and last day and a label. Rebuilt on every publish.
- `dim_place`: one row per place code (land, fylke, kommune, bydel) with its newest name, from the
  Klass dimension tables (`dim_fylke`, `dim_kommune`, `dim_bydel`) when a Klass crawl has written
  them, and from the geography snapshot bundled with the package for every other code.
- Foreign keys from each table's place code columns to `dim_kommune` / `dim_fylke` / `dim_bydel`
  (a column of one declared level, when that table has a unique code) or `dim_place` (mixed
  levels), and from text period columns to `dim_period`. Adding a foreign key rewrites the table's
  CREATE TABLE in the schema (no rows are copied; sqlite-utils `transform` only for a table with
  constraints that cannot be rewritten so), and a table that already has the right keys is left
  alone, so publishing twice changes nothing.
- The indexes the pages read (`wanted_indexes`): one on the period and today's code, and one on
  the code valid then where the table's key cannot find it; an index an earlier publish made
  and no page reads is dropped.
"""

from __future__ import annotations

import logging
import sqlite3

import sqlite_utils

from atlas_crawl.items import is_dimension_table
from atlas_crawl.publish.periods import parse_period
from atlas_crawl.publish.profile import TableProfile, quote
from atlas_crawl.store.lock import transaction
from atlas_crawl.store.schema import set_foreign_keys

log = logging.getLogger(__name__)

LEVEL_DIMS = {"fylke": "dim_fylke", "kommune": "dim_kommune", "bydel": "dim_bydel"}
CODE_NAMES = ("code", "kode", "kommunenummer", "fylkesnummer", "bydelsnummer", "nummer")
NAME_NAMES = ("name", "navn", "label")
DIM_PERIOD = "dim_period"
DIM_PLACE = "dim_place"




# -- dim_period ---------------------------------------------------------------------------------

def build_dim_period(conn: sqlite3.Connection, profiles: list[TableProfile]) -> int:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {DIM_PERIOD} (period TEXT PRIMARY KEY, label TEXT NOT NULL, "
        "period_grain TEXT NOT NULL, year INTEGER NOT NULL, start_date TEXT NOT NULL, "
        "end_date TEXT NOT NULL)")
    rows: dict[str, tuple] = {}
    for prof in profiles:
        if not prof.period or not prof.period_is_text:
            continue
        hint = prof.manifest.period_hint if prof.manifest else None
        for (value,) in conn.execute(f"SELECT DISTINCT {quote(prof.period)} "
                                     f"FROM {quote(prof.table)}"):
            p = parse_period(value, hint)
            if p is not None and p.period not in rows:
                rows[p.period] = (p.period, p.label, p.grain, p.year, p.start, p.end)
    with transaction(conn):
        conn.execute(f"DELETE FROM {DIM_PERIOD}")
        conn.executemany(f"INSERT INTO {DIM_PERIOD} VALUES (?, ?, ?, ?, ?, ?)",
                         sorted(rows.values()))
    return len(rows)


# -- dim_place ----------------------------------------------------------------------------------

def dim_code_column(conn: sqlite3.Connection, table: str) -> tuple[str, str, bool] | None:
    """(code column, name column, code is unique) of a Klass dimension table, if it has both."""
    info = conn.execute(f"PRAGMA table_info({quote(table)})").fetchall()
    if not info:
        return None
    cols = {r[1].lower(): r[1] for r in info}
    pk = [r[1] for r in info if r[5]]
    code = next((cols[n] for n in CODE_NAMES if n in cols), pk[0] if len(pk) == 1 else None)
    name = next((cols[n] for n in NAME_NAMES if n in cols), None)
    if not code or not name:
        return None
    unique = pk == [code] or any(
        idx[2] and [c[2] for c in conn.execute(f"PRAGMA index_info({quote(idx[1])})")] == [code]
        for idx in conn.execute(f"PRAGMA index_list({quote(table)})"))
    return code, name, unique


def _versions_from_db(conn: sqlite3.Connection, table: str) -> list[dict]:
    found = dim_code_column(conn, table)
    if found is None:
        return []
    code, name, _ = found
    cols = {r[1] for r in conn.execute(f"PRAGMA table_info({quote(table)})")}
    vf = "valid_from" if "valid_from" in cols else "NULL"
    vt = "valid_to" if "valid_to" in cols else "NULL"
    return [{"code": r[0], "name": r[1], "valid_from": r[2], "valid_to": r[3]}
            for r in conn.execute(f"SELECT {quote(code)}, {quote(name)}, {vf}, {vt} "
                                  f"FROM {quote(table)}")]


def _snapshot_table(name: str) -> list[dict]:
    try:
        from atlas_crawl.geo import snapshot
        return snapshot.read_table(name)
    except (ImportError, OSError, ValueError, KeyError) as exc:  # optional for the catalogue
        log.warning("no bundled %s snapshot for dim_place: %s", name, exc)
        return []


def _versions_from_snapshot(level: str) -> list[dict]:
    return _snapshot_table({"fylke": "fylker", "kommune": "kommuner", "bydel": "bydeler"}[level])


def _latest(versions: list[dict]) -> dict[str, dict]:
    """Per code: the newest name version, and the older names."""
    by_code: dict[str, list[dict]] = {}
    for v in versions:
        if v.get("code") is not None:
            by_code.setdefault(str(v["code"]), []).append(v)
    out = {}
    for code, vs in by_code.items():
        vs.sort(key=lambda v: (v.get("valid_to") is None, v.get("valid_to") or "",
                               v.get("valid_from") or ""))
        newest = vs[-1]
        older = [v["name"] for v in vs[:-1] if v.get("name") and v["name"] != newest["name"]]
        out[code] = {"name": newest.get("name"),
                     "valid_from": min(v.get("valid_from") or "" for v in vs) or None,
                     "valid_to": None if any(v.get("valid_to") is None for v in vs)
                     else max(v["valid_to"] for v in vs),
                     "former_names": " / ".join(dict.fromkeys(older)) or None}
    return out


def build_dim_place(conn: sqlite3.Connection) -> dict[str, int]:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {DIM_PLACE} (code TEXT PRIMARY KEY, level TEXT NOT NULL, "
        "name TEXT, former_names TEXT, valid_from TEXT, valid_to TEXT, reference TEXT NOT NULL)")
    rows = [("0", "land", "Hele landet", None, None, None, "atlas_crawl")]
    counts = {}
    for level, dim in LEVEL_DIMS.items():
        # Klass (as crawled) first; the bundled snapshot adds the codes the crawl's windows
        # do not cover (e.g. kommuner that ended before the captured years)
        crawled = _latest(_versions_from_db(conn, dim))
        bundled = _latest(_versions_from_snapshot(level))
        counts[level] = len(crawled.keys() | bundled.keys())
        for code in sorted(crawled.keys() | bundled.keys()):
            v, reference = ((crawled[code], dim) if code in crawled
                            else (bundled[code], f"atlas_crawl/geo/data ({level})"))
            # validity: the snapshot's curated lifetimes where it has the code (a crawl's rows
            # only span the windows it asked Klass about)
            life = bundled.get(code, v)
            rows.append((code, level, v["name"], v["former_names"], life["valid_from"],
                         life["valid_to"], reference))
    # Svalbard, Jan Mayen, abroad, ... (exact codes only; patterns such as 21xx are not rows)
    special = [r for r in _snapshot_table("special_codes")
               if r.get("code") and "x" not in r["code"] and r["code"] != "0"]
    rows += [(r["code"], r.get("level") or "special", r.get("name"), None, None, None,
              "atlas_crawl/geo/data (special codes)") for r in special]
    counts["special"] = len(special)
    with transaction(conn):
        conn.execute(f"DELETE FROM {DIM_PLACE}")
        conn.executemany(f"INSERT OR IGNORE INTO {DIM_PLACE} VALUES (?, ?, ?, ?, ?, ?, ?)",
                         rows)
    return counts


# -- foreign keys and indexes ------------------------------------------------------------------

def wanted_foreign_keys(conn: sqlite3.Connection, prof: TableProfile) -> dict[str, tuple[str, str]]:
    """column -> (other table, other column) for this table's place codes and period."""
    fks: dict[str, tuple[str, str]] = {}
    for place in prof.places:
        target = (DIM_PLACE, "code")
        dim = LEVEL_DIMS.get(place.level)
        found = dim_code_column(conn, dim) if dim else None
        if found and found[2]:
            target = (dim, found[0])
        for column in (place.code, place.current):
            if not column or prof.columns.get(column, "TEXT") not in ("TEXT", ""):
                continue
            if column == place.code != place.seek:
                # The raw column holds the same codes and leads the key: the link goes there
                # (unless the source labels it already), so the place's page counts its rows
                # through the key, not by reading this unindexed copy of the column.
                column = place.raw
                if _labelled_by_source(conn, prof.table, column):
                    continue
            if column == place.raw and not _mostly_codes(conn, prof.table, column):
                continue
            fks[column] = target
    if prof.period and prof.period_is_text:
        fks[prof.period] = (DIM_PERIOD, "period")
    for column, (table, key, _) in prof.lookups.items():
        fks.setdefault(column, (table, key))
    return fks


LABEL_NAMES = ("title", "name", "navn", "label", "tittel")


def source_lookups(prof: TableProfile, profiles: dict[str, TableProfile]
                   ) -> dict[str, tuple[str, str, str | None]]:
    """Columns of `prof` that name a row of another table of the same source (that table's
    single-column primary key, same type): e.g. bufdir's `indicator` and its `*_indikatorer`."""
    if prof.manifest is None:
        return {}
    out = {}
    taken = prof.place_columns() | {prof.period}
    for other in prof.manifest.table_names:
        target = profiles.get(other)
        if other == prof.table or target is None or len(target.pk) != 1:
            continue
        key = target.pk[0]
        if key in taken or prof.columns.get(key) != target.columns.get(key):
            continue
        label = next((c for c in LABEL_NAMES if c in target.columns), None)
        out[key] = (other, key, label)
    return out


def dimension_lookups(conn: sqlite3.Connection, prof: TableProfile
                      ) -> dict[str, tuple[str, str, str | None]]:
    """Columns linked by the store to their `<table>__<column>` dimension table (code -> label),
    other than places and periods: shown by their label in canned queries."""
    out = {}
    taken = prof.place_columns() | {prof.period}
    for _, _, other, column, other_column, *_ in conn.execute(
            f"PRAGMA foreign_key_list({quote(prof.table)})").fetchall():
        if column in taken or not is_dimension_table(other):
            continue
        columns = {r[1] for r in conn.execute(f"PRAGMA table_info({quote(other)})")}
        out[column] = (other, other_column, "label" if "label" in columns else None)
        if "unit" in columns and prof.unit is None:
            prof.unit_lookup = (other, other_column, column)
    return out


def _labelled_by_source(conn: sqlite3.Connection, table: str, column: str) -> bool:
    """Whether the column has a foreign key to a table other than the place dimensions (its
    source's own labels, e.g. `ssb_07459__region`)."""
    places = {DIM_PLACE, *LEVEL_DIMS.values()}
    return any(fk[3] == column and fk[2] not in places
               for fk in conn.execute(f"PRAGMA foreign_key_list({quote(table)})"))


def _mostly_codes(conn: sqlite3.Connection, table: str, column: str) -> bool:
    values = [r[0] for r in conn.execute(
        f"SELECT DISTINCT {quote(column)} FROM {quote(table)} WHERE {quote(column)} IS NOT NULL "
        "LIMIT 200")]
    if not values:
        return False
    known = sum(1 for v in values if conn.execute(
        f"SELECT 1 FROM {DIM_PLACE} WHERE code = ?", (str(v),)).fetchone())
    return known >= 0.8 * len(values)


def apply_foreign_keys(db: sqlite_utils.Database, prof: TableProfile,
                       wanted: dict[str, tuple[str, str]]) -> bool:
    """Make the table's foreign keys on the managed columns exactly `wanted`; True if changed."""
    table = db[prof.table]
    managed = set(wanted) | {c for p in prof.places for c in (p.code, p.current) if c}
    if prof.period:
        managed.add(prof.period)
    current = {fk.column: (fk.other_table, fk.other_column) for fk in table.foreign_keys
               if fk.column in managed}
    if current == wanted:
        return False
    keep = [(fk.column, fk.other_table, fk.other_column) for fk in table.foreign_keys
            if fk.column not in managed]
    new = keep + [(c, t, o) for c, (t, o) in sorted(wanted.items())]
    # In the schema only where possible: no copy of the rows, WITHOUT ROWID kept.
    if not set_foreign_keys(db.conn, prof.table, new):
        table.transform(foreign_keys=new)
    return True


def wanted_indexes(prof: TableProfile) -> dict[str, tuple[str, ...]]:
    """name -> columns: the indexes the catalogue's pages read the table by.

    A table of a place and a period gets one index, on the period and today's code: it gives
    the table page its newest-first order and a facet click its period, the kommune report a
    few kommuner in a few periods (one seek each), and a page on today's code alone its rows
    period by period (a skip-scan: `ANALYZE` tells SQLite the periods are few). A place's code
    valid then is found through the primary key when the raw column holding the same codes
    leads it (`PlaceColumns.seek`), else through an index of its own. Every entry of an index
    of a `WITHOUT ROWID` table repeats the key, so each index costs about half the table's
    bytes: there is no second one on the period or on today's code."""
    place = prof.place
    composite = (prof.period, place.current) if place and place.current and prof.period \
        else None
    wanted: dict[str, tuple[str, ...]] = {}
    if composite:
        wanted[f"idx_{prof.table}_{composite[0]}_{composite[1]}"] = composite
    covered = {c for c in composite or ()}
    single = [c for p in prof.places for c in (p.seek, p.current) if c]
    if prof.period:
        single.append(prof.period)
    for column in dict.fromkeys(single):
        if column not in covered:
            wanted[f"idx_{prof.table}_{column}"] = (column,)
    return wanted


def ensure_indexes(conn: sqlite3.Connection, prof: TableProfile) -> list[str]:
    """Make the table's indexes (`idx_<table>_...`) the wanted ones: create what is missing,
    drop what an earlier publish made and the pages no longer read; returns the created."""
    have: dict[str, tuple[str, ...]] = {}
    for info in conn.execute(f"PRAGMA index_list({quote(prof.table)})").fetchall():
        have[info[1]] = tuple(r[2] for r in conn.execute(f"PRAGMA index_info({quote(info[1])})"))
    prefix = f"idx_{prof.table}_"
    # the key and indexes made by others (the store's) already lead with these columns
    others = [columns for name, columns in have.items() if not name.startswith(prefix)]
    others.append(tuple(prof.pk))
    wanted = {name: columns for name, columns in wanted_indexes(prof).items()
              if not any(columns == found[:len(columns)] for found in others)}
    for name in have:
        if name.startswith(prefix) and name not in wanted:
            conn.execute(f"DROP INDEX {quote(name)}")
    created = []
    for name, columns in wanted.items():
        if name in have and have[name] == columns:
            continue
        if name in have:
            conn.execute(f"DROP INDEX {quote(name)}")
        conn.execute(f"CREATE INDEX {quote(name)} ON {quote(prof.table)} "
                     f"({', '.join(map(quote, columns))})")
        created.append(name)
    return created
