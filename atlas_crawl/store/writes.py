"""The SQLite store: schema with sqlite-utils, bulk upserts with prepared statements.

One transaction per run: `begin()` when the run starts writing, `commit()` when it finished
cleanly, `rollback()` otherwise, so a run that fails half-way leaves the previous data exactly as
it was. The `_runs` ledger is written outside that transaction, so failed runs are recorded too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import repeat
from operator import add, itemgetter
from pathlib import Path

import sqlite_utils

from atlas_crawl.items import DIMENSION_KEY, Batch, Forward, Quarantined, utc_now
from atlas_crawl.store import lock as dblock
from atlas_crawl.store.schema import (
    FETCH_COLUMN,
    FETCH_COLUMNS,
    LEDGER_SQL,
    RUN_COLUMN,
    SQL_TYPES,
    check_layout,
    create_table_sql,
    primary_key,
    rekey_table,
    rows_are_large,
)

logger = logging.getLogger(__name__)

# WAL lets Datasette read while a crawl writes; NORMAL is durable at each commit in WAL mode.
CONNECTION_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


def new_run_id(spider: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{spider}-{uuid.uuid4().hex[:6]}"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def forward_order(forward: Forward, row: str) -> str:
    """SQL row value ordering a row of `row` (a table name or `excluded`) by finality, then time:
    rows compare as (rank of the status, when); an unknown status ranks lowest."""
    return order_of(forward, f"{row}.{quote(forward.status)}",
                    f"{row}.{quote(forward.when)}" if forward.when else "NULL")


def order_of(forward: Forward, status: str, when: str) -> str:
    ranks = " ".join(f"WHEN {sql_text(s)} THEN {n}" for n, s in enumerate(forward.ranks, 1))
    return f"(CASE {status} {ranks} ELSE 0 END, coalesce({when}, ''))"


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Store:
    def __init__(self, path: str | Path, *, wait: float = dblock.DEFAULT_WAIT):
        self.path = str(path)
        self.run_id: str | None = None
        self.wait = wait  # how long a write waits for another crawl's lock (ATLAS_DB_WAIT)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: this class issues BEGIN/COMMIT itself. Waiting for another
        # crawl's lock is done (and logged) by dblock.with_write_wait, not by SQLite alone.
        self.conn = sqlite3.connect(self.path, isolation_level=None,
                                    timeout=dblock.ATTEMPT_TIMEOUT)
        check_is_sqlite(self.conn, self.path)
        for pragma in CONNECTION_PRAGMAS:
            self._waiting(lambda pragma=pragma: self.conn.execute(pragma))
        self.db = sqlite_utils.Database(self.conn)
        self._upsert_sql: dict[tuple, str] = {}
        self._replace_seen: dict[str, str] = {}
        self._replace_keys: dict[str, tuple[str, ...]] = {}
        self._replace_by: dict[str, tuple[str, ...]] = {}
        self._run_keys: dict[str, int] = {}
        # Replace mode may remove at most this share of a delivered partition (None: no limit).
        self.max_shrink_share: float | None = None
        self.abandoned = self._waiting(
            lambda: dblock.prepare_ledger(self.conn, self.path, self.ensure_ledger,
                                          migrate=ensure_quarantine_key))

    def _waiting(self, action):
        """Run a write, waiting (logged, bounded) while another crawl holds the lock."""
        return dblock.with_write_wait(self.conn, action, path=self.path, wait=self.wait,
                                      own_run=self.run_id)

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

    def start_run(self, spider: str, arguments: dict, run_id: str | None = None, *,
                  mode: str | None = None, data_origin: str | None = None,
                  capture_date: str | None = None) -> str:
        """Record a run as `running`; `mode`, `data_origin` and `capture_date` say how and from
        what it gets its data (atlas_crawl/fetch/origin.py)."""
        run_id = run_id or new_run_id(spider)
        self.run_id = run_id
        self._waiting(lambda: self.conn.execute(
            "INSERT INTO _runs (run_id, spider, arguments, started, status, pid, host, mode, "
            "data_origin, capture_date) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)",
            (run_id, spider, json.dumps(arguments, sort_keys=True, ensure_ascii=False), utc_now(),
             os.getpid(), dblock.HOST, mode, data_origin, capture_date),
        ))
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
        self._waiting(lambda: self.conn.execute(
            "UPDATE _runs SET finished=?, status=?, source_ids=?, rows_received=?, "
            "rows_written=?, rows_quarantined=?, error=? WHERE run_id=?",
            (utc_now(), status, ",".join(sorted(source_ids)), received, written, quarantined,
             error, run_id),
        ))
        self._waiting(lambda: dblock.settle_refusals(self.conn, self.path))

    # -- transaction --------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def begin(self) -> None:
        if not self.conn.in_transaction:
            # IMMEDIATE: the write lock is taken (or waited for) here, once, not at some write
            # half-way through the run.
            self._waiting(lambda: self.conn.execute("BEGIN IMMEDIATE"))

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
                     key: Sequence[str], references: dict[str, str] | None = None,
                     rows: Sequence[tuple] = ()) -> None:
        """Create the table (or add new columns) so that a batch of `columns` fits. A new
        table's layout follows the size of its first `rows` (schema.rows_are_large)."""
        wanted = {c: types.get(c, str) for c in columns}
        t = self.db[table]
        if not t.exists():
            self.conn.execute(create_table_sql(
                table, {c: SQL_TYPES[kind] for c, kind in wanted.items()}, key,
                references={c: (other, DIMENSION_KEY) for c, other in (references or {}).items()},
                large_rows=rows_are_large(rows)))
            self._upsert_sql = {k: v for k, v in self._upsert_sql.items() if k[0] != table}
            return
        wanted[RUN_COLUMN] = int
        wanted[FETCH_COLUMN] = int
        existing = set(t.columns_dict)
        for column, kind in wanted.items():
            if column not in existing:
                t.add_column(column, kind)
                self._upsert_sql = {k: v for k, v in self._upsert_sql.items() if k[0] != table}
        stored_key = primary_key(self.conn, table)
        if key and stored_key and set(stored_key) != set(key):
            # The source is keyed otherwise now (by code, not by name): the stored rows are
            # kept under the new key, in this run's transaction.
            logger.info("%s: primary key (%s) becomes (%s)", table, ", ".join(stored_key),
                        ", ".join(key))
            rekey_table(self.conn, table, key)
            self._upsert_sql = {k: v for k, v in self._upsert_sql.items() if k[0] != table}

    def _upsert_statement(self, table: str, columns: tuple[str, ...], key: tuple[str, ...],
                          forward: Forward | None = None) -> str:
        cache_key = (table, columns, key, forward)
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
            if forward is not None:
                # A count only moves forward: an older or less final answer changes nothing.
                changed = (f"({changed}) AND {forward_order(forward, 'excluded')} >= "
                           f"{forward_order(forward, quote(table))}")
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
        self.ensure_table(batch.table, batch.columns, batch.types, batch.key, batch.references,
                          batch.rows)
        tail = (self.run_key(run_id), self.fetch_key(batch, run_id))
        before = self.conn.total_changes
        if batch.forward is not None and batch.rows:
            self._log_held_back(batch)
        if batch.rows:
            sql = self._upsert_statement(batch.table, tuple(batch.columns), tuple(batch.key),
                                         batch.forward)
            # row + tail made lazily in C: no second list of the batch, no Python loop per row.
            self.conn.executemany(sql, map(add, batch.rows, repeat(tail)))
        written = self.conn.total_changes - before
        if replace:
            self._remember_keys(batch, tuple(replace_by))
        if batch.complete_for is not None:
            written += self._remove_missing_within(batch)
        if batch.quarantine:
            self.write_quarantine(batch, run_id, batch.quarantine)
        return written

    def _log_held_back(self, batch: Batch) -> int:
        """Say which delivered rows the stored rows outrank (they will change nothing)."""
        forward = batch.forward
        positions = [batch.columns.index(c) for c in (*batch.key, forward.status)]
        when = batch.columns.index(forward.when) if forward.when else None
        delivered = json.dumps([[row[i] for i in positions]
                                + [row[when] if when is not None else None]
                                for row in batch.rows], default=str)
        n = len(batch.key)
        same = " AND ".join(f"t.{quote(k)} = json_extract(j.value, '$[{i}]')"
                            for i, k in enumerate(batch.key))
        got, got_when = f"json_extract(j.value, '$[{n}]')", f"json_extract(j.value, '$[{n + 1}]')"
        stored_when = f"t.{quote(forward.when)}" if forward.when else "NULL"
        held = self.conn.execute(
            f"SELECT {', '.join('t.' + quote(k) for k in batch.key)}, t.{quote(forward.status)}, "
            f"{stored_when}, {got}, {got_when} "
            f"FROM {quote(batch.table)} t JOIN json_each(?) j ON {same} "
            f"WHERE {forward_order(forward, 't')} > {order_of(forward, got, got_when)}",
            (delivered,)).fetchall()
        if held:
            *key, stored, stored_at, status, at = held[0]
            logger.warning(
                "%s: %s row(s) kept as stored, e.g. %s: the delivered answer (%s, %s) is older "
                "or less final than the stored one (%s, %s); kept as a fetch, nothing changed",
                batch.table, len(held), ", ".join(f"{k}={v}" for k, v in zip(batch.key, key)),
                status, at or "no time", stored, stored_at or "no time")
        return len(held)

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
        """Upsert on the quarantined row's natural key: crawling the same data again leaves
        the table unchanged; a row is rewritten only when its reason or source changed."""
        records = []
        for q in rows:
            row_json = json.dumps(q.row, ensure_ascii=False, sort_keys=True, default=str)
            records.append((run_id, batch.source_id, batch.table, q.column, q.raw_value,
                            q.reason, row_json, batch.provenance.url,
                            quarantine_key(batch.source_id, batch.table, q.column, row_json)))
        self.conn.executemany(
            f"INSERT INTO quarantine (run_id, source_id, table_name, column_name, raw_value, "
            f"reason, row_json, source_url, {QUARANTINE_KEY}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT ({QUARANTINE_KEY}) DO UPDATE SET run_id = excluded.run_id, "
            "raw_value = excluded.raw_value, reason = excluded.reason, "
            "source_url = excluded.source_url WHERE quarantine.reason IS NOT excluded.reason "
            "OR quarantine.source_url IS NOT excluded.source_url "
            "OR quarantine.raw_value IS NOT excluded.raw_value",
            records,
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
            if self.max_shrink_share is not None:
                refuse_large_shrink(self.conn, table, seen, key, self._replace_by.get(table, ()),
                                    self.max_shrink_share)
            cur = self.conn.execute(f"DELETE FROM {quote(table)} WHERE {where}")
            removed += cur.rowcount
            self.conn.execute(f"DROP TABLE temp.{quote(seen)}")
        self._replace_seen.clear()
        self._replace_by.clear()
        return removed

    def _remove_missing_within(self, batch: Batch) -> int:
        """Batch.complete_for: remove stored rows of the named key values that the batch lacks."""
        column, values = batch.complete_for
        if not values:
            return 0
        key = ", ".join(map(quote, batch.key))
        positions = [batch.columns.index(k) for k in batch.key]
        delivered = json.dumps([[row[i] for i in positions] for row in batch.rows])
        picked = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(positions)))
        cur = self.conn.execute(
            f"DELETE FROM {quote(batch.table)} WHERE {quote(column)} IN "
            f"(SELECT value FROM json_each(?)) AND ({key}) NOT IN "
            f"(SELECT {picked} FROM json_each(?))",
            (json.dumps(list(values)), delivered))
        return cur.rowcount

class ShrinkRefused(ValueError):
    """A replace-mode run would remove more of a partition than it may (a short read?)."""


def refuse_large_shrink(conn: sqlite3.Connection, table: str, seen: str, key: Sequence[str],
                        replace_by: Sequence[str], max_share: float) -> None:
    """Raise ShrinkRefused when replacing would remove more than `max_share` of the rows stored
    in any partition this run delivered (the whole table when there is no `replace_by`).

    A workbook read short (a stale dimension tag, a truncated delivery) looks exactly like a
    source that dropped rows; only a large drop is refused, so the ordinary churn of a register
    passes and a run that lost 36 of 40 kommuner does not replace them away.
    """
    cols = ", ".join(map(quote, key))
    gone = f"SUM(({cols}) NOT IN (SELECT {cols} FROM temp.{quote(seen)}))"
    if replace_by:
        parts = ", ".join(map(quote, replace_by))
        sql = (f"SELECT {parts}, COUNT(*), {gone} FROM {quote(table)} "
               f"WHERE ({parts}) IN (SELECT DISTINCT {parts} FROM temp.{quote(seen)}) "
               f"GROUP BY {parts}")
    else:
        sql = f"SELECT COUNT(*), {gone} FROM {quote(table)}"
    for *partition, stored, removed in conn.execute(sql):
        if removed and removed > max_share * stored:
            where = (", ".join(f"{c}={v}" for c, v in zip(replace_by, partition))
                     or "the whole table")
            raise ShrinkRefused(
                f"{table}: partition {where}: stored {stored:,}, delivered {stored - removed:,}, "
                f"would remove {removed:,} ({removed / stored:.0%}, more than "
                f"{max_share:.0%}); nothing was replaced. If the source really dropped them, "
                f"run again with -a allow_shrink=1 (or -s ATLAS_MAX_SHRINK_SHARE=1)")


class NotADatabase(ValueError):
    """ATLAS_DB names a file that is not an SQLite database."""


def check_is_sqlite(conn: sqlite3.Connection, path: str) -> None:
    """Fail with one line when ATLAS_DB is some other file (SQLite only notices at first use)."""
    try:
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and dblock.is_busy(exc):
            return
        conn.close()
        raise NotADatabase(f"ATLAS_DB={path} is not an SQLite database ({exc}); "
                           "point ATLAS_DB at an atlas_crawl database or a new file") from None


QUARANTINE_KEY = "_quarantine_key"


def quarantine_key(source_id: str, table: str, column: str, row_json: str) -> str:
    """The natural key of a quarantined row: which source, table and column, and the row."""
    return hashlib.sha256(f"{source_id}\x1f{table}\x1f{column}\x1f{row_json}".encode()).hexdigest()


def ensure_quarantine_key(conn: sqlite3.Connection) -> None:
    """Give `quarantine` its natural key (once): the key column, duplicates from earlier
    re-crawls removed (the latest kept), and a unique index the upsert relies on."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(quarantine)")}
    if QUARANTINE_KEY in have:
        return
    conn.execute(f"ALTER TABLE quarantine ADD COLUMN {QUARANTINE_KEY} TEXT")
    conn.create_function("atlas_quarantine_key", 4, quarantine_key, deterministic=True)
    conn.execute(f"UPDATE quarantine SET {QUARANTINE_KEY} = "
                 "atlas_quarantine_key(source_id, table_name, column_name, row_json)")
    conn.execute(f"DELETE FROM quarantine WHERE rowid NOT IN "
                 f"(SELECT max(rowid) FROM quarantine GROUP BY {QUARANTINE_KEY})")
    conn.execute(f"CREATE UNIQUE INDEX quarantine_natural_key ON quarantine ({QUARANTINE_KEY})")
