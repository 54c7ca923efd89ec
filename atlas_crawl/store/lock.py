"""Two crawls on one database: waiting for the write lock, refused runs, abandoned runs.

A crawl holds SQLite's write lock from its first stored batch to its commit (one transaction per
run). A second crawl on the same file waits for it, explicitly: up to `ATLAS_DB_WAIT` seconds
(default 600), saying in the log which run it is waiting for. If it gives up, the refusal is
recorded in `_runs` (status `refused`) — through a small side file, `<db>.refused-runs`, because
the database is exactly what it could not write; the next run that can write (or the holder when
it finishes) moves the record into `_runs`.

A run killed with -9 leaves its `_runs` row at `running`. Every run records its pid and host;
the next run on the same host marks rows whose process is gone as `abandoned`, with the time it
noticed. A row whose process is alive (a concurrent crawl) is left alone, and so is one whose
pid was reused by another process meanwhile (the safe side); rows from another host cannot be
checked from here and are left alone too. Rows written before runs recorded pid and host are
taken for dead a day after they started.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from atlas_crawl.items import utc_now
from atlas_crawl.store.schema import ensure_run_origin_columns

logger = logging.getLogger(__name__)
T = TypeVar("T")

HOST = socket.gethostname()
DEFAULT_WAIT = 600.0
# SQLite's own busy timeout per attempt; between attempts the wait is logged and checked.
ATTEMPT_TIMEOUT = 1.0
LOG_EVERY = 30.0


class DatabaseBusy(RuntimeError):
    """Another crawl held the database for longer than this one may wait."""


def is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def holder(conn: sqlite3.Connection, own_run: str | None = None) -> str:
    """The run that is most likely writing: the latest other `running` row, for messages."""
    try:
        row = conn.execute(
            "SELECT run_id, pid, host FROM _runs WHERE status = 'running' AND run_id IS NOT ? "
            "ORDER BY started DESC LIMIT 1", (own_run,)).fetchone()
    except sqlite3.OperationalError:  # no ledger yet, or no pid/host columns yet
        row = None
    if row is None:
        return "another process"
    run_id, pid, host = row
    return f"run {run_id}" + (f" (pid {pid} on {host})" if pid else "")


def with_write_wait(conn: sqlite3.Connection, action: Callable[[], T], *, path: str,
                    wait: float, own_run: str | None = None) -> T:
    """`action()` (a write), retried while another connection holds the write lock, for at
    most `wait` seconds; then DatabaseBusy, naming the run that held it."""
    deadline = time.monotonic() + wait
    next_log = 0.0
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
            now = time.monotonic()
            who = holder(conn, own_run)
            if now >= deadline:
                raise DatabaseBusy(
                    f"database {path} is busy: {who} is writing to it; gave up after "
                    f"{wait:.0f} s (ATLAS_DB_WAIT)") from None
            if now >= next_log:
                logger.warning("database %s is busy: %s is writing to it; waiting (at most "
                               "%.0f s more, ATLAS_DB_WAIT)", path, who, deadline - now)
                next_log = now + LOG_EVERY
            time.sleep(min(0.2, max(deadline - now, 0)))


def ensure_run_owner_columns(conn: sqlite3.Connection) -> None:
    """`_runs.pid` and `_runs.host`: which process runs a crawl, for the liveness check."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(_runs)")}
    for column, kind in (("pid", "INTEGER"), ("host", "TEXT")):
        if column not in have:
            conn.execute(f"ALTER TABLE _runs ADD COLUMN {column} {kind}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _day_ago() -> str:
    # Rows written before runs recorded pid and host cannot be checked; one still `running` a
    # day after it started is taken for dead.
    return (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _process(pid: int | None) -> str:
    return f"process {pid} on {HOST}" if pid else "its process (not recorded, over a day ago)"


def mark_abandoned(conn: sqlite3.Connection, own_run: str | None = None) -> list[str]:
    """Mark `running` rows whose process on this host is gone as `abandoned`; their ids."""
    rows = conn.execute(
        "SELECT run_id, pid FROM _runs WHERE status = 'running' AND run_id IS NOT ? AND "
        "(host = ? OR (host IS NULL AND started < ?))",
        (own_run, HOST, _day_ago())).fetchall()
    gone = [(run_id, pid) for run_id, pid in rows if pid is None or not pid_alive(pid)]
    noticed = utc_now()
    for run_id, pid in gone:
        conn.execute(
            "UPDATE _runs SET status = 'abandoned', finished = ?, error = ? "
            "WHERE run_id = ? AND status = 'running'",
            (noticed, (f"abandoned: {_process(pid)} ended without finishing the run "
                      f"(killed?); noticed {noticed}; its writes were rolled back"), run_id))
        logger.warning("run %s was abandoned (%s is gone); marked so", run_id, _process(pid))
    return [run_id for run_id, _ in gone]


# -- refused runs ----------------------------------------------------------------------------

def refusals_path(db_path: str) -> Path:
    return Path(f"{db_path}.refused-runs")


def record_refusal(db_path: str, row: dict) -> None:
    """Keep a run's ledger row (a refusal, or a final status the database would not take in
    time) beside the database until it can be written."""
    if db_path == ":memory:":
        return
    line = json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"
    with open(refusals_path(db_path), "a", encoding="utf-8") as f:  # O_APPEND: one write
        f.write(line)


RUN_COLUMNS = ("run_id", "spider", "arguments", "started", "finished", "status", "error", "pid",
               "host", "mode", "data_origin", "capture_date")


def drain_refusals(conn: sqlite3.Connection, db_path: str) -> list[Path]:
    """Move recorded refusals into `_runs` (insert, or update the run's `running` row). Call it
    inside a write transaction; delete the returned files once that has committed."""
    path = refusals_path(db_path)
    if db_path == ":memory:":
        return []
    if path.exists():
        try:
            path.rename(path.with_name(f"{path.name}.{os.getpid()}"))  # new ones: a fresh file
        except FileNotFoundError:
            pass
    files = sorted(path.parent.glob(f"{path.name}.*"))  # also left by a drain that crashed
    rows = [json.loads(line) for f in files for line in f.read_text("utf-8").splitlines()
            if line.strip()]
    placeholders = ", ".join("?" * len(RUN_COLUMNS))
    conn.executemany(
        f"INSERT INTO _runs ({', '.join(RUN_COLUMNS)}) VALUES ({placeholders}) "
        "ON CONFLICT (run_id) DO UPDATE SET finished = excluded.finished, "
        "status = excluded.status, error = excluded.error",
        [tuple(r.get(c) for c in RUN_COLUMNS) for r in rows])
    return files


@contextmanager
def transaction(conn: sqlite3.Connection, *, immediate: bool = False) -> Iterator[None]:
    """One transaction on an autocommit connection: committed when the block ends, rolled back
    when it raises. `immediate` takes the write lock at once (BEGIN IMMEDIATE)."""
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def prepare_ledger(conn: sqlite3.Connection, db_path: str, ensure_ledger: Callable[[], None],
                   migrate: Callable[[sqlite3.Connection], None] | None = None) -> list[str]:
    """In one write transaction: the ledger tables, the pid/host and origin columns, refusals recorded
    beside the database, and abandoned runs marked. Returns the abandoned run ids."""
    ensure_ledger()  # executescript: commits by itself, and needs no lock once tables exist
    with transaction(conn, immediate=True):
        ensure_run_owner_columns(conn)
        ensure_run_origin_columns(conn)
        if migrate is not None:
            migrate(conn)
        files = drain_refusals(conn, db_path)
        abandoned = mark_abandoned(conn)
    for f in files:
        f.unlink(missing_ok=True)
    return abandoned


def settle_refusals(conn: sqlite3.Connection, db_path: str) -> None:
    """After a run's own ledger row is written: record refusals that waited meanwhile."""
    if db_path == ":memory:" or not any(Path(db_path).parent.glob(
            f"{refusals_path(db_path).name}*")):
        return
    with transaction(conn, immediate=True):
        files = drain_refusals(conn, db_path)
    for f in files:
        f.unlink(missing_ok=True)
