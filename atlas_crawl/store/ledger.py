"""The run ledger read back: every source's runs from `_runs`, how each run got its data (live,
a replay of recordings, or a saved file), what that data is (live, a real capture, constructed)
and how fresh a source is.

`publish` (the `sources` table), `status` and `update`'s plan all read the ledger through here.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime

_DURATION = re.compile(r"^P(\d+)([YMWD])$")
_DAYS = {"Y": 365.25, "M": 30.44, "W": 7, "D": 1}


def period_days(periodicity: str) -> float | None:
    m = _DURATION.match(periodicity or "")
    return int(m[1]) * _DAYS[m[2]] if m else None


def freshness(periodicity: str, last_success: str | None, now: datetime) -> tuple[str, int | None]:
    """('fresh' | 'due' | 'overdue' | 'never crawled' | 'no schedule', days since last success).

    fresh: crawled within one period of the source's periodicity; due: within two; overdue: later.
    """
    if not last_success:
        return "never crawled", None
    try:
        when = datetime.fromisoformat(last_success)
    except ValueError:
        return "unknown", None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    age = max((now - when).total_seconds() / 86400, 0)
    days = period_days(periodicity)
    if days is None:
        return "no schedule", int(age)
    if age <= days:
        return "fresh", int(age)
    return ("due" if age <= 2 * days else "overdue"), int(age)


def runs_by_source(conn: sqlite3.Connection) -> dict[str, list[dict]]:
    # `monitors` (run monitor results, JSON) is missing in ledgers older than the run monitors,
    # `mode`, `data_origin` and `capture_date` in ledgers older than the origin columns.
    have = {r[1] for r in conn.execute("PRAGMA table_info(_runs)")}
    optional = ("monitors", "mode", "data_origin", "capture_date")
    try:
        rows = conn.execute(
            "SELECT run_id, spider, source_ids, arguments, started, finished, status, "
            "rows_received, rows_written, error, "
            + ", ".join(c if c in have else "NULL" for c in optional)
            + " FROM _runs ORDER BY started, rowid"
        ).fetchall()
    except sqlite3.OperationalError:
        return {}
    keys = ("run_id", "spider", "source_ids", "arguments", "started", "finished", "status",
            "rows_received", "rows_written", "error", *optional)
    out: dict[str, list[dict]] = {}
    for row in rows:
        run = dict(zip(keys, row))
        run["mode"] = run["mode"] or legacy_mode(run["arguments"])
        run["data_origin"] = run["data_origin"] or legacy_origin(run["mode"])
        ids = {s for s in (run["source_ids"] or "").split(",") if s} | {run["spider"]}
        for source_id in ids:
            out.setdefault(source_id, []).append(run)
    return out


def status_by_source(conn: sqlite3.Connection) -> dict[str, tuple[int, str | None]]:
    """(discontinued, replaced_by) per source, as the last live crawl of each found it
    (`source_status`, written by the SSB spiders from the table's metadata)."""
    try:
        rows = conn.execute("SELECT source_id, discontinued, replaced_by FROM source_status")
    except sqlite3.OperationalError:
        return {}
    return {source_id: (discontinued, replaced_by) for source_id, discontinued, replaced_by in rows}


def is_live(run: dict) -> bool:
    return run["mode"] == "live"


def live_freshness(periodicity: str, ok_runs: list[dict], now: datetime) -> tuple[str, int | None]:
    """Freshness from the last successful *live* run: a replay of recorded responses or a saved
    file says nothing about what the source publishes today, so it never counts as fresh."""
    live = [r for r in ok_runs if is_live(r)]
    if live:
        return freshness(periodicity, live[-1]["finished"], now)
    if ok_runs:
        return f"not live ({ok_runs[-1]['mode']})", None
    return "never crawled", None


def mode_words(run: dict) -> str:
    """How a run got its data, for a reader: 'live', 'replay of recorded responses' or
    'file <name>'."""
    if run["mode"] == "replay":
        return "replay of recorded responses"
    if run["mode"] == "file":
        try:
            file = json.loads(run["arguments"] or "{}").get("file") or ""
        except ValueError:
            file = ""
        return ("file " + str(file).rsplit("/", 1)[-1]).strip()
    return run["mode"]


def legacy_mode(arguments: str | None) -> str:
    """The mode of a run recorded before `_runs.mode` existed, from its arguments."""
    try:
        args = json.loads(arguments or "{}")
    except ValueError:
        return "unknown"
    if args.get("file"):
        return "file"
    if args.get("atlas_replay"):
        return "replay"
    return "live"


def legacy_origin(mode: str) -> str:
    """The data origin of a run recorded before `_runs.data_origin` existed: a live run's is
    live; what a replay or a file held was not recorded."""
    return "live" if mode == "live" else "unknown"


def fill_legacy_origins(conn: sqlite3.Connection) -> int:
    """Write mode and data origin into `_runs` rows recorded without them (older ledgers, or a
    run started without saying); call inside a write transaction. Returns the rows filled."""
    rows = conn.execute("SELECT rowid, arguments, mode FROM _runs "
                        "WHERE mode IS NULL OR data_origin IS NULL").fetchall()
    for key, arguments, mode in rows:
        mode = mode or legacy_mode(arguments)
        conn.execute("UPDATE _runs SET mode = ?, data_origin = coalesce(data_origin, ?) "
                     "WHERE rowid = ?", (mode, legacy_origin(mode), key))
    return len(rows)
