"""`python -m atlas_crawl status`: how fresh each source is, read from the database itself.

Per source (every manifest): the last successful run and whether it was live, a replay of
recorded responses or a saved file; the origin of its data (live, a real capture of a date, or
a sample of invented values); the rows its tables hold; freshness, counted from the last
successful *live* run only (a replay or a file says nothing about what the source publishes
today); the error of the last run if it failed; and whether the change watch's
`recrawl_needed` view lists it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from atlas_crawl.fetch.origin import describe
from atlas_crawl.manifests import Manifest, all_manifests
from atlas_crawl.publish.profile import quote
from atlas_crawl.store.ledger import live_freshness, mode_words, runs_by_source

NO_WATCH = "unknown (the change watch never ran)"


@dataclass
class SourceStatus:
    source_id: str
    last_success: str | None
    mode: str | None
    data_origin: str | None  # live | capture | constructed | unknown, of the last success
    capture_date: str | None
    origin: str  # the origin in words: "live", "real capture of 2025-10-20", "sample: ..."
    rows: int | None
    freshness: str
    last_error: str | None
    recrawl: str


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _recrawl(conn: sqlite3.Connection) -> dict[str, str] | None:
    """source_id -> reason, from the watch's view; None if the watch never ran here."""
    try:
        return dict(conn.execute("SELECT source_id, reason FROM recrawl_needed"))
    except sqlite3.OperationalError:
        return None


def source_status(db: str | Path, manifests: dict[str, Manifest] | None = None,
                  now: datetime | None = None) -> list[SourceStatus]:
    manifests = all_manifests() if manifests is None else manifests
    now = now or datetime.now(UTC)
    conn = sqlite3.connect(f"file:{Path(db)}?mode=ro", uri=True)
    try:
        runs = runs_by_source(conn)
        tables = _tables(conn)
        recrawl = _recrawl(conn)
        out = []
        for source_id, m in sorted(manifests.items()):
            its = runs.get(source_id, [])
            ok = [r for r in its if r["status"] == "ok"]
            last = its[-1] if its else None
            present = [t for t in m.table_names if t in tables]
            rows = (sum(conn.execute(f"SELECT count(*) FROM {quote(t)}").fetchone()[0]
                        for t in present) if present else None)
            if recrawl is None:
                needs = NO_WATCH
            elif source_id in recrawl:
                needs = f"yes: {recrawl[source_id]}"
            else:
                needs = "no"
            out.append(SourceStatus(
                source_id=source_id,
                last_success=ok[-1]["finished"] if ok else None,
                mode=mode_words(ok[-1]) if ok else None,
                data_origin=ok[-1]["data_origin"] if ok else None,
                capture_date=ok[-1]["capture_date"] if ok else None,
                origin=describe(ok[-1]["data_origin"], ok[-1]["capture_date"]) if ok
                else "no data",
                rows=rows,
                freshness=live_freshness(m.periodicity, ok, now)[0],
                last_error=(last["error"] or "failed") if last and last["status"] != "ok"
                else None,
                recrawl=needs,
            ))
        return out
    finally:
        conn.close()


COLUMNS = (("source", 32), ("last success", 20), ("mode", 12), ("origin", 26), ("rows", 9),
           ("freshness", 17), ("re-crawl", 28), ("last error", 0))


def _shortrun_mode(mode: str | None) -> str:
    if mode is None:
        return "-"
    return "replay" if mode.startswith("replay") else mode.split(" ", 1)[0]


def _short_origin(s: SourceStatus) -> str:
    if s.data_origin == "capture":
        return f"capture {s.capture_date or ''}".strip()
    if s.data_origin == "constructed":
        return "sample (invented)"
    return s.data_origin or "-"


def format_table(statuses: list[SourceStatus]) -> str:
    lines = ["  ".join(name.ljust(width) for name, width in COLUMNS).rstrip()]
    for s in statuses:
        cells = [s.source_id, (s.last_success or "never")[:19], _shortrun_mode(s.mode),
                 _short_origin(s), "-" if s.rows is None else str(s.rows), s.freshness, s.recrawl,
                 (s.last_error or "").replace("\n", " ")[:120]]
        lines.append("  ".join(c.ljust(w) for c, (_, w) in zip(cells, COLUMNS)).rstrip())
    return "\n".join(lines)


def format_json(statuses: list[SourceStatus]) -> str:
    return json.dumps([asdict(s) for s in statuses], ensure_ascii=False, indent=1)
