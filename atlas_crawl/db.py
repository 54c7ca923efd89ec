"""The SQLite store: schema with sqlite-utils, bulk upserts with prepared statements.

One transaction per run: `begin()` when the run starts writing, `commit()` when it finished
cleanly, `rollback()` otherwise, so a run that fails half-way leaves the previous data exactly as
it was. The `_runs` ledger is written outside that transaction, so failed runs are recorded too.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import repeat
from operator import add, itemgetter
from pathlib import Path

import sqlite_utils

from atlas_crawl.dimensions import KEY as DIMENSION_KEY
from atlas_crawl.items import Batch, Quarantined, utc_now
from atlas_crawl.storage_schema import (
    FETCH_COLUMN,
    FETCH_COLUMNS,
    LEDGER_SQL,
    RUN_COLUMN,
    SQL_TYPES,
    check_layout,
    create_table_sql,
)

# WAL lets Datasette read while a crawl writes; NORMAL is durable at each commit in WAL mode.
CONNECTION_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


def new_run_id(spider: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{spider}-{uuid.uuid4().hex[:6]}"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Store:
    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: this class issues BEGIN/COMMIT itself.
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        for pragma in CONNECTION_PRAGMAS:
            self.conn.execute(pragma)
        self.db = sqlite_utils.Database(self.conn)
        self._upsert_sql: dict[tuple, str] = {}
        self._replace_seen: dict[str, str] = {}
        self._replace_keys: dict[str, tuple[str, ...]] = {}
        self._replace_by: dict[str, tuple[str, ...]] = {}
        self._run_keys: dict[str, int] = {}
        self.ensure_ledger()

    def close(self) -> None:
        self.conn.close()

    # -- ledger -------------------------------------------------------------------------------

    def ensure_ledger(self) -> None:
        check_layout(self.conn, self.path)
        self.conn.executescript(LEDGER_SQL)
        self.conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS quarantine (
                run_id TEXT NOT NULL,
                source_id TEXT NOT NULL,
                table_name TEXT NOT NULL,
                column_name TEXT NOT NULL,
                raw_value TEXT,
                reason TEXT NOT NULL,
                row_json TEXT NOT NULL,
                source_url TEXT
            );
            CREATE INDEX IF NOT EXISTS quarantine_by_source ON quarantine (source_id, run_id);
            """
        )

    def start_run(self, spider: str, arguments: dict) -> str:
        run_id = new_run_id(spider)
        self.conn.execute(
            "INSERT INTO _runs (run_id, spider, arguments, started, status) "
            "VALUES (?, ?, ?, ?, 'running')",
            (run_id, spider, json.dumps(arguments, sort_keys=True, ensure_ascii=False), utc_now()),
        )
        return run_id

    def run_key(self, run_id: str) -> int:
        """The small integer rows carry in `_run` for a run."""
        key = self._run_keys.get(run_id)
        if key is None:
            found = self.conn.execute("SELECT id FROM _runs WHERE run_id = ?", (run_id,)).fetchone()
            if found is None:
                raise ValueError(f"run {run_id!r} is not in _runs: start it with start_run()")
            key = self._run_keys[run_id] = found[0]
        return key

    def finish_run(self, run_id: str, *, status: str, source_ids: Iterable[str],
                   received: int, written: int, quarantined: int, error: str | None) -> None:
        self.conn.execute(
            "UPDATE _runs SET finished=?, status=?, source_ids=?, rows_received=?, "
            "rows_written=?, rows_quarantined=?, error=? WHERE run_id=?",
            (utc_now(), status, ",".join(sorted(source_ids)), received, written, quarantined,
             error, run_id),
        )

    # -- transaction --------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def begin(self) -> None:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN")

    def commit(self) -> int:
        """Commit the run; returns how many rows 'replace' mode removed (see finish_replacements)."""
        removed = self.finish_replacements()
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")
        return removed

    def rollback(self) -> None:
        self._replace_seen.clear()
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    # -- schema -------------------------------------------------------------------------------

    def ensure_table(self, table: str, columns: Sequence[str], types: dict[str, type],
                     key: Sequence[str], references: dict[str, str] | None = None) -> None:
        """Create the table (or add new columns) so that a batch of `columns` fits."""
        wanted = {c: types.get(c, str) for c in columns}
        t = self.db[table]
        if not t.exists():
            self.conn.execute(create_table_sql(
                table, {c: SQL_TYPES[kind] for c, kind in wanted.items()}, key,
                references={c: (other, DIMENSION_KEY) for c, other in (references or {}).items()}))
            self._upsert_sql = {k: v for k, v in self._upsert_sql.items() if k[0] != table}
            return
        wanted[RUN_COLUMN] = int
        wanted[FETCH_COLUMN] = int
        existing = set(t.columns_dict)
        for column, kind in wanted.items():
            if column not in existing:
                t.add_column(column, kind)
                self._upsert_sql = {k: v for k, v in self._upsert_sql.items() if k[0] != table}

    def _upsert_statement(self, table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
        cache_key = (table, columns, key)
        sql = self._upsert_sql.get(cache_key)
        if sql is None:
            all_columns = (*columns, RUN_COLUMN, FETCH_COLUMN)
            data = [c for c in columns if c not in key]
            update = ", ".join(f"{quote(c)}=excluded.{quote(c)}"
                               for c in (*data, RUN_COLUMN, FETCH_COLUMN))
            # Only rows whose values changed are rewritten: a re-run of the same data leaves the
            # table byte-identical, and _run names the run that last changed a row.
            changed = " OR ".join(f"{quote(table)}.{quote(c)} IS NOT excluded.{quote(c)}"
                                  for c in data) or "0"
            conflict = f"DO UPDATE SET {update} WHERE {changed}" if data else "DO NOTHING"
            sql = (
                f"INSERT INTO {quote(table)} ({', '.join(map(quote, all_columns))}) "
                f"VALUES ({', '.join('?' * len(all_columns))}) "
                f"ON CONFLICT ({', '.join(map(quote, key))}) {conflict}"
            )
            self._upsert_sql[cache_key] = sql
        return sql

    # -- writing ------------------------------------------------------------------------------

    def write_batch(self, batch: Batch, run_id: str, *, replace: bool = False,
                    replace_by: Sequence[str] = ()) -> int:
        """Upsert a batch on its natural key; returns how many rows were inserted or changed."""
        self.begin()
        self.ensure_table(batch.table, batch.columns, batch.types, batch.key, batch.references)
        tail = (self.run_key(run_id), self.fetch_key(batch, run_id))
        before = self.conn.total_changes
        if batch.rows:
            sql = self._upsert_statement(batch.table, tuple(batch.columns), tuple(batch.key))
            # row + tail made lazily in C: no second list of the batch, no Python loop per row.
            self.conn.executemany(sql, map(add, batch.rows, repeat(tail)))
        written = self.conn.total_changes - before
        if replace:
            self._remember_keys(batch, tuple(replace_by))
        if batch.quarantine:
            self.write_quarantine(batch, run_id, batch.quarantine)
        return written

    def fetch_key(self, batch: Batch, run_id: str) -> int:
        """The `_fetches` row of the batch's response (created or counted up): its id is what
        rows carry in `_fetch`."""
        return self.conn.execute(
            f"INSERT INTO _fetches ({FETCH_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id, table_name, url, sha256) DO UPDATE "
            "SET rows = rows + excluded.rows RETURNING id",
            (run_id, batch.source_id, batch.table, batch.provenance.url, batch.provenance.sha256,
             batch.provenance.fetched_at, len(batch.rows)),
        ).fetchone()[0]

    def write_quarantine(self, batch: Batch, run_id: str, rows: list[Quarantined]) -> None:
        self.conn.executemany(
            "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, batch.source_id, batch.table, q.column, q.raw_value, q.reason,
              json.dumps(q.row, ensure_ascii=False, sort_keys=True, default=str),
              batch.provenance.url) for q in rows],
        )

    def _remember_keys(self, batch: Batch, replace_by: tuple[str, ...] = ()) -> None:
        """For write_mode 'replace': note the keys this run delivered (and, with `replace_by`,
        the partitions it delivered: only those are replaced)."""
        outside = [c for c in replace_by if c not in batch.key]
        if outside:
            raise ValueError(f"{batch.table}: replace_by {outside} must be key columns "
                             f"({batch.key})")
        seen = self._replace_seen.get(batch.table)
        if seen is None:
            seen = f"_seen_{len(self._replace_seen)}"
            self._replace_seen[batch.table] = seen
            self.conn.execute(f"DROP TABLE IF EXISTS temp.{quote(seen)}")
            self.conn.execute(f"CREATE TEMP TABLE {quote(seen)} ({', '.join(map(quote, batch.key))})")
        positions = [batch.columns.index(k) for k in batch.key]
        keys = (map(itemgetter(*positions), batch.rows) if len(positions) > 1
                else zip(map(itemgetter(positions[0]), batch.rows)))
        self.conn.executemany(
            f"INSERT INTO temp.{quote(seen)} VALUES ({', '.join('?' * len(positions))})", keys
        )
        self._replace_keys[batch.table] = tuple(batch.key)
        self._replace_by[batch.table] = replace_by

    def finish_replacements(self) -> int:
        """Delete rows the run did not deliver from tables written in 'replace' mode."""
        removed = 0
        for table, seen in self._replace_seen.items():
            key = self._replace_keys[table]
            cols = ", ".join(map(quote, key))
            where = f"({cols}) NOT IN (SELECT {cols} FROM temp.{quote(seen)})"
            if self._replace_by.get(table):
                # Only the partitions (e.g. years) this run delivered are replaced; a run of one
                # year's file leaves the other years alone.
                parts = ", ".join(map(quote, self._replace_by[table]))
                where += f" AND ({parts}) IN (SELECT DISTINCT {parts} FROM temp.{quote(seen)})"
            cur = self.conn.execute(f"DELETE FROM {quote(table)} WHERE {where}")
            removed += cur.rowcount
            self.conn.execute(f"DROP TABLE temp.{quote(seen)}")
        self._replace_seen.clear()
        self._replace_by.clear()
        return removed
