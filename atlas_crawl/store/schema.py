"""The narrow storage layout: the ledger with integer keys, and fact tables clustered on their key.

Every stored row carries two small integers instead of a 33-character run id and a 64-character
hash: `_run` (-> `_runs.id`) and `_fetch` (-> `_fetches.id`: URL, sha256, fetched-at of the
response the row came from). Data tables are `WITHOUT ROWID`, stored in their natural key's
order, so the key is not kept twice (table plus index): about half the bytes per row.

Tables whose rows are large keep their rowid (and a unique index on the key) instead: in a
`WITHOUT ROWID` table every row lives in the key's b-tree, whose cells hold at most ~1,000 bytes
of a 4 KB page before spilling to overflow pages, so rows of a few kilobytes (Brreg's records
with the JSON they came as, ~2 KB) take twice the pages and three times the insert time there
(30,000 Brreg rows: 4.7 KB per row and 2.8 s as `WITHOUT ROWID`, 2.2 KB and 1.1 s with a rowid).
SQLite's own advice is `WITHOUT ROWID` for rows under about a twentieth of a page.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence

RUN_COLUMN = "_run"
FETCH_COLUMN = "_fetch"
SQL_TYPES = {int: "INTEGER", float: "REAL", str: "TEXT", bytes: "BLOB"}

LEDGER_SQL = """
CREATE TABLE IF NOT EXISTS _runs (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    spider TEXT NOT NULL,
    source_ids TEXT,
    arguments TEXT,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL,
    rows_received INTEGER NOT NULL DEFAULT 0,
    rows_written INTEGER NOT NULL DEFAULT 0,
    rows_quarantined INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    mode TEXT,
    data_origin TEXT,
    capture_date TEXT
);
CREATE TABLE IF NOT EXISTS _fetches (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES _runs (run_id),
    source_id TEXT NOT NULL,
    table_name TEXT NOT NULL,
    url TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    rows INTEGER NOT NULL,
    UNIQUE (run_id, table_name, url, sha256)
);
"""
FETCH_COLUMNS = "run_id, source_id, table_name, url, sha256, fetched_at, rows"
# How each run got its data and what that data is (atlas_crawl/fetch/origin.py); a ledger from
# before these columns gets them, empty, from ensure_run_origin_columns.
RUN_ORIGIN_COLUMNS = (("mode", "TEXT"), ("data_origin", "TEXT"), ("capture_date", "TEXT"))

OLD_RUN_COLUMN = "_run_id"
OLD_SOURCE_COLUMN = "_source_sha256"


class OldLayoutError(RuntimeError):
    pass


def ensure_run_origin_columns(conn: sqlite3.Connection) -> None:
    """`_runs.mode`, `_runs.data_origin` and `_runs.capture_date` in a ledger made before them."""
    have = set(columns_of(conn, "_runs"))
    if not have:
        return
    for column, kind in RUN_ORIGIN_COLUMNS:
        if column not in have:
            conn.execute(f"ALTER TABLE _runs ADD COLUMN {column} {kind}")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def columns_of(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({quote(table)})")]


def is_old_layout(conn: sqlite3.Connection) -> bool:
    """The wide layout: `_runs` keyed by its text run id, rows carrying `_run_id`."""
    runs = columns_of(conn, "_runs")
    return bool(runs) and "id" not in runs


def check_layout(conn: sqlite3.Connection, path: str) -> None:
    if is_old_layout(conn):
        raise OldLayoutError(
            f"{path}: the database has the old wide layout (labels, run id and sha256 on every "
            f"row); convert it once with: python -m atlas_crawl migrate --db {path}")


def column_sql(name: str, kind: str, *, not_null: bool = False, default=None,
               reference: tuple[str, str] | None = None) -> str:
    """One column of a CREATE TABLE: name, type, NOT NULL, DEFAULT and REFERENCES."""
    part = f"{quote(name)} {kind}".rstrip()
    if not_null:
        part += " NOT NULL"
    if default is not None:
        part += f" DEFAULT {default}"
    if reference is not None:
        other, other_column = reference
        part += f" REFERENCES {quote(other)} ({quote(other_column)})"
    return part


#: Rows larger than this (bytes, on average over the first rows written) keep a rowid table.
LARGE_ROW_BYTES = 400
_SAMPLE_ROWS = 200


def rows_are_large(rows: Sequence[tuple]) -> bool:
    """Whether the rows (a sample of the first ones) average more than LARGE_ROW_BYTES: text by
    its length, anything else as 8 bytes."""
    sample = rows[:_SAMPLE_ROWS]
    if not sample:
        return False
    size = sum(len(v) if isinstance(v, str | bytes) else 8 for row in sample for v in row)
    return size > LARGE_ROW_BYTES * len(sample)


def create_table_sql(table: str, columns: Mapping[str, str], key: Sequence[str], *,
                     references: Mapping[str, tuple[str, str]] | None = None,
                     bookkeeping: bool = True, large_rows: bool = False) -> str:
    """CREATE TABLE for a data table: `columns` maps name -> SQL type; key columns NOT NULL;
    `references` maps a column to (table, column); `_run` and `_fetch` last. Clustered on the
    key (`WITHOUT ROWID`) unless `large_rows` (see the module's docstring)."""
    references = dict(references or {})
    if bookkeeping:
        columns = {**columns, RUN_COLUMN: "INTEGER", FETCH_COLUMN: "INTEGER"}
        references.setdefault(RUN_COLUMN, ("_runs", "id"))
        references.setdefault(FETCH_COLUMN, ("_fetches", "id"))
    parts = [column_sql(name, kind, not_null=name in key, reference=references.get(name))
             for name, kind in columns.items()]
    if key:
        parts.append(f"PRIMARY KEY ({', '.join(map(quote, key))})")
    body = ",\n    ".join(parts)
    # Clustered on the key; a table without one, or with large rows, keeps its rowid.
    clustered = key and not large_rows
    return f"CREATE TABLE {quote(table)} (\n    {body}\n){' WITHOUT ROWID' if clustered else ''}"


def primary_key(conn: sqlite3.Connection, table: str) -> list[str]:
    info = conn.execute(f"PRAGMA table_info({quote(table)})").fetchall()
    return [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]


def rekey_table(conn: sqlite3.Connection, table: str, key: Sequence[str]) -> None:
    """Give a data table another primary key (its columns already in the table), keeping every
    row, column, foreign key and index: a source now keyed by code rather than by name. Runs
    inside the caller's transaction; rows the new key cannot tell apart raise IntegrityError
    and the transaction is rolled back by the caller, so nothing is lost."""
    info = conn.execute(f"PRAGMA table_info({quote(table)})").fetchall()
    references = {r[3]: (r[2], r[4]) for r in
                  conn.execute(f"PRAGMA foreign_key_list({quote(table)})")}
    indexes = [sql for (sql,) in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table,))]
    parts = [column_sql(name, kind, not_null=bool(notnull) or name in key, default=default,
                        reference=references.get(name))
             for _, name, kind, notnull, default, _pk in info]
    parts.append(f"PRIMARY KEY ({', '.join(map(quote, key))})")
    new = f"_rekey_{table}"
    columns = ", ".join(quote(r[1]) for r in info)
    conn.execute(f"DROP TABLE IF EXISTS {quote(new)}")
    conn.execute(f"CREATE TABLE {quote(new)} (\n    " + ",\n    ".join(parts)
                 + "\n) WITHOUT ROWID")
    conn.execute(f"INSERT INTO {quote(new)} ({columns}) SELECT {columns} FROM {quote(table)}")
    conn.execute(f"DROP TABLE {quote(table)}")
    # Views that read the table are left as they are (they name it, not its key).
    conn.execute("PRAGMA legacy_alter_table = ON")
    try:
        conn.execute(f"ALTER TABLE {quote(new)} RENAME TO {quote(table)}")
    finally:
        conn.execute("PRAGMA legacy_alter_table = OFF")
    for sql in indexes:
        conn.execute(sql)


def set_foreign_keys(conn: sqlite3.Connection, table: str,
                     foreign_keys: Sequence[tuple[str, str, str]]) -> bool:
    """Make `foreign_keys` [(column, other table, other column)] the table's foreign keys by
    rewriting its CREATE TABLE in the schema: a foreign key does not change how rows are
    stored, so nothing is copied (a copy of a table of millions of rows takes minutes and, with
    sqlite-utils' transform, would lose WITHOUT ROWID). Returns False, changing nothing, for a
    table whose definition holds more than columns, types, NOT NULL, defaults and a primary key.
    """
    row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                       (table,)).fetchone()
    if row is None:
        raise ValueError(f"no table {table!r}")
    old_sql = row[0]
    body = old_sql.upper()
    # Whole words only: a column named "checked_at" is no CHECK constraint.
    if re.search(r"\b(UNIQUE|CHECK|AUTOINCREMENT|GENERATED|COLLATE|AS)\b",
                 re.sub(r'"[^"]*"', '""', body)):
        return False
    info = conn.execute(f"PRAGMA table_info({quote(table)})").fetchall()
    key = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]
    references = {column: (other, other_column) for column, other, other_column in foreign_keys}
    parts = []
    for _, name, kind, notnull, default, _pk in info:
        parts.append(column_sql(name, kind, not_null=bool(notnull), default=default,
                                reference=references.get(name)))
    if key:
        parts.append(f"PRIMARY KEY ({', '.join(map(quote, key))})")
    tail = " WITHOUT ROWID" if body.rstrip().endswith("WITHOUT ROWID") else ""
    new_sql = f"CREATE TABLE {quote(table)} (\n    " + ",\n    ".join(parts) + f"\n){tail}"
    _write_table_sql(conn, table, new_sql)
    try:
        conn.execute(f"SELECT * FROM {quote(table)} LIMIT 1").fetchall()
    except sqlite3.DatabaseError:
        _write_table_sql(conn, table, old_sql)
        raise
    return True


def _write_table_sql(conn: sqlite3.Connection, table: str, sql: str) -> None:
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    try:
        conn.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                     (sql, table))
        conn.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        conn.execute("PRAGMA writable_schema = OFF")
