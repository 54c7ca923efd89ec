"""`python -m atlas_crawl migrate --db atlas.db`: convert a database of the old wide layout to the
narrow one (see atlas_crawl/store/schema.py), in place, in one transaction.

- `_runs` and `_fetches` gain integer keys (`id`, their old rowid, so the order is kept).
- Every data table's `_run_id` / `_source_sha256` become `_run` / `_fetch`, integers pointing at
  them. A hash or run id with no ledger row (never the case for the store's own rows) gets one
  made for it, marked `(not recorded)`, so nothing is lost.
- JSON-stat tables (every key column `k` next to a `k_label`, plus `value` and `status`) move
  their labels to `<table>__<k>` (code, label; the metric dimension, the one followed by `unit`,
  also unit, decimals and updated), taken from each code's most recent row.
- Tables become `WITHOUT ROWID` on their primary key; their other indexes and foreign keys are
  kept where their columns still exist.

Views that read moved columns stop working (they are named in the log): run `publish` again.
The file is VACUUMed at the end so the space is given back.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from atlas_crawl.items import DIMENSION_KEY as KEY
from atlas_crawl.items import dimension_table
from atlas_crawl.store.schema import (
    FETCH_COLUMN,
    LEDGER_SQL,
    OLD_RUN_COLUMN,
    OLD_SOURCE_COLUMN,
    RUN_COLUMN,
    create_table_sql,
    is_old_layout,
    quote,
)

log = logging.getLogger(__name__)

RUN_FIELDS = ("run_id, spider, source_ids, arguments, started, finished, status, rows_received, "
              "rows_written, rows_quarantined, error")
FETCH_FIELDS = "run_id, source_id, table_name, url, sha256, fetched_at, rows"
NOT_RECORDED = "(not recorded)"
METRIC_FACTS = ("unit", "decimals", "updated")


@dataclass
class MigrationReport:
    database: str
    migrated: bool = False
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows
    dimension_tables: list[str] = field(default_factory=list)
    broken_views: list[str] = field(default_factory=list)
    bytes_before: int = 0
    bytes_after: int = 0


@dataclass
class TableShape:
    name: str
    types: dict[str, str]  # column -> declared type, in order
    key: list[str]
    foreign_keys: dict[str, tuple[str, str]]
    indexes: list[str]  # CREATE INDEX statements
    dims: dict[str, list[str]] = field(default_factory=dict)  # key column -> its moved columns

    @property
    def fact_columns(self) -> list[str]:
        moved = {c for cols in self.dims.values() for c in cols}
        return [c for c in self.types if c not in moved
                and c not in (OLD_RUN_COLUMN, OLD_SOURCE_COLUMN)]


def read_shape(conn: sqlite3.Connection, table: str) -> TableShape:
    info = conn.execute(f"PRAGMA table_info({quote(table)})").fetchall()
    types = {r[1]: r[2] for r in info}
    key = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]
    fks = {r[3]: (r[2], r[4]) for r in conn.execute(f"PRAGMA foreign_key_list({quote(table)})")}
    indexes = [r[0] for r in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table,))]
    shape = TableShape(table, types, key, fks, indexes)
    columns = list(types)
    if key and {"value", "status"} <= set(types) and all(f"{k}_label" in types for k in key):
        for k in key:
            moved = [f"{k}_label"]
            after = columns.index(f"{k}_label") + 1
            if columns[after:after + 2] == ["unit", "decimals"]:
                moved += [c for c in METRIC_FACTS if c in types]
            shape.dims[k] = moved
    return shape


def migrate(path: str | Path, *, vacuum: bool = True) -> MigrationReport:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such database")
    report = MigrationReport(str(path), bytes_before=path.stat().st_size)
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        if not is_old_layout(conn):
            log.info("%s already has the narrow layout; nothing to do", path)
            report.bytes_after = report.bytes_before
            return report
        # Renaming must not try to rewrite (and fail on) views that read the moved columns.
        conn.execute("PRAGMA legacy_alter_table=ON")
        conn.execute("BEGIN")
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        data = [t for t in tables
                if {OLD_RUN_COLUMN, OLD_SOURCE_COLUMN} <= set(read_shape(conn, t).types)]
        _migrate_ledger(conn, data)
        for table in data:
            started = time.monotonic()
            shape = read_shape(conn, table)
            report.tables[table] = _migrate_table(conn, shape, report)
            log.info("%s: %s rows in the narrow layout (%s) in %.1f s", table,
                     f"{report.tables[table]:,}",
                     ", ".join(dimension_table(table, k) for k in shape.dims) or "no labels moved",
                     time.monotonic() - started)
        conn.execute("COMMIT")
        report.migrated = True
        for (view,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'"
                                    ).fetchall():
            try:
                conn.execute(f"SELECT * FROM {quote(view)} LIMIT 0")
            except sqlite3.OperationalError as exc:
                report.broken_views.append(view)
                log.warning("view %s no longer works (%s): run publish again", view, exc)
        if vacuum:
            conn.execute("VACUUM")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
    report.bytes_after = path.stat().st_size
    return report


def _migrate_ledger(conn: sqlite3.Connection, data_tables: list[str]) -> None:
    conn.execute("ALTER TABLE _runs RENAME TO _runs_wide")
    has_fetches = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_fetches'").fetchone()
    if has_fetches:
        conn.execute("ALTER TABLE _fetches RENAME TO _fetches_wide")
    for statement in filter(str.strip, LEDGER_SQL.split(";")):
        conn.execute(statement)  # not executescript: it would commit the transaction
    conn.execute(f"INSERT INTO _runs (id, {RUN_FIELDS}) "
                 f"SELECT rowid, {RUN_FIELDS} FROM _runs_wide ORDER BY rowid")
    if has_fetches:
        conn.execute(f"INSERT INTO _fetches (id, {FETCH_FIELDS}) "
                     f"SELECT rowid, {FETCH_FIELDS} FROM _fetches_wide ORDER BY rowid")
        conn.execute("DROP TABLE _fetches_wide")
    conn.execute("DROP TABLE _runs_wide")
    # Rows naming a run or a response the ledger does not know keep them, in a marked ledger row.
    for table in data_tables:
        t = quote(table)
        conn.execute(
            f"INSERT INTO _runs (run_id, spider, started, status) "
            f"SELECT DISTINCT {OLD_RUN_COLUMN}, ?, '', 'unknown' FROM {t} "
            f"WHERE {OLD_RUN_COLUMN} IS NOT NULL "
            f"AND {OLD_RUN_COLUMN} NOT IN (SELECT run_id FROM _runs)", (NOT_RECORDED,))
        conn.execute(
            f"INSERT INTO _fetches ({FETCH_FIELDS}) "
            f"SELECT {OLD_RUN_COLUMN}, ?, ?, ?, {OLD_SOURCE_COLUMN}, '', count(*) FROM {t} AS w "
            f"WHERE {OLD_RUN_COLUMN} IS NOT NULL AND {OLD_SOURCE_COLUMN} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM _fetches AS f WHERE f.run_id = w.{OLD_RUN_COLUMN} "
            f"AND f.table_name = ? AND f.sha256 = w.{OLD_SOURCE_COLUMN}) "
            f"GROUP BY {OLD_RUN_COLUMN}, {OLD_SOURCE_COLUMN}",
            (table, table, NOT_RECORDED, table))


def _migrate_table(conn: sqlite3.Connection, shape: TableShape, report: MigrationReport) -> int:
    table, t = shape.name, quote(shape.name)
    # (run id, sha256) -> (_run, _fetch) for this table: the first fetch of that response.
    conn.execute("DROP TABLE IF EXISTS temp._keys")
    conn.execute(
        "CREATE TEMP TABLE _keys AS SELECT f.run_id AS run_id, f.sha256 AS sha256, "
        "r.id AS run, min(f.id) AS fetch FROM _fetches AS f JOIN _runs AS r USING (run_id) "
        "WHERE f.table_name = ? GROUP BY f.run_id, f.sha256", (table,))
    conn.execute("CREATE UNIQUE INDEX temp._keys_by ON _keys (run_id, sha256)")
    join = (f"LEFT JOIN temp._keys AS k ON k.run_id = w.{OLD_RUN_COLUMN} "
            f"AND k.sha256 = w.{OLD_SOURCE_COLUMN} "
            f"LEFT JOIN _runs AS r ON r.run_id = w.{OLD_RUN_COLUMN}")

    references = dict(shape.foreign_keys)
    for k, moved in shape.dims.items():
        dim = dimension_table(table, k)
        kinds = {KEY: "TEXT", "label": shape.types[f"{k}_label"] or "TEXT"}
        kinds.update({c: shape.types[c] for c in moved[1:]})
        conn.execute(f"DROP TABLE IF EXISTS {quote(dim)}")
        conn.execute(create_table_sql(dim, kinds, [KEY]))
        # Each code's labels from its most recent row (run ids start with their UTC time).
        picked = ", ".join(f"w.{quote(c)}" for c in moved)
        conn.execute(
            f"INSERT INTO {quote(dim)} ({', '.join(map(quote, kinds))}, {RUN_COLUMN}, "
            f"{FETCH_COLUMN}) SELECT code, {', '.join(quote(c) for c in moved)}, r.id, k.fetch "
            f"FROM (SELECT w.{quote(k)} AS code, {picked}, max(w.{OLD_RUN_COLUMN}) AS "
            f"{OLD_RUN_COLUMN}, w.{OLD_SOURCE_COLUMN} FROM {t} AS w GROUP BY w.{quote(k)}) AS w "
            f"{join} ORDER BY code")
        references.setdefault(k, (dim, KEY))
        report.dimension_tables.append(dim)

    narrow = f"{table}__narrow"
    columns = shape.fact_columns
    conn.execute(f"DROP TABLE IF EXISTS {quote(narrow)}")
    conn.execute(create_table_sql(
        narrow, {c: shape.types[c] for c in columns}, shape.key,
        references={c: v for c, v in references.items() if c in columns}))
    selected = ", ".join(f"w.{quote(c)}" for c in columns)
    order = f" ORDER BY {', '.join(f'w.{quote(c)}' for c in shape.key)}" if shape.key else ""
    conn.execute(
        f"INSERT INTO {quote(narrow)} ({', '.join(map(quote, columns))}, {RUN_COLUMN}, "
        f"{FETCH_COLUMN}) SELECT {selected}, r.id, k.fetch FROM {t} AS w {join}{order}")
    rows = conn.execute(f"SELECT count(*) FROM {quote(narrow)}").fetchone()[0]
    before = conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
    if rows != before:
        raise RuntimeError(f"{table}: {before} rows before, {rows} after; nothing was changed")
    conn.execute(f"DROP TABLE {t}")
    conn.execute(f"ALTER TABLE {quote(narrow)} RENAME TO {t}")
    for sql in shape.indexes:
        try:
            conn.execute(sql)
        except sqlite3.OperationalError as exc:  # an index on a column that moved
            log.info("%s: index not kept (%s): %s", table, exc, sql)
    conn.execute("DROP TABLE temp._keys")
    return rows
