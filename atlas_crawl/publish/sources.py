"""The `sources` table: one row per manifest, with what `_runs` knows about it, and full-text search.

Written into the database at publish time (the catalogue is served immutable), dropped and
rebuilt every time, so it always matches the manifests and the ledger.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import sqlite_utils

from atlas_crawl.fetch.origin import REAL_ORIGINS
from atlas_crawl.manifests import Manifest
from atlas_crawl.publish.profile import TableProfile, quote
from atlas_crawl.publish.words import periodicity_words, theme_words
from atlas_crawl.store.ledger import (
    freshness,
    is_live,
    live_freshness,
    mode_words,
    runs_by_source,
    status_by_source,
)
from atlas_crawl.store.lock import transaction

SOURCES = "sources"
FTS_COLUMNS = ["source_id", "title", "description", "keywords", "theme"]
# Trigram tokens match any part of a word, so `fattigdom` finds barnefattigdom (SQLite >= 3.34).
FTS_TOKENIZER = "trigram"

def _monitors(run: dict | None) -> str | None:
    """The last run's monitors in a few words: 'ok', or which failed or warned and why."""
    if not run or not run.get("monitors"):
        return None
    results = json.loads(run["monitors"])
    bad = [f"{m['name']} {m['outcome']}: {m['detail']}" for m in results
           if m["outcome"] in ("failed", "warning")]
    return "; ".join(bad) or "ok"


def real_runs_sql() -> str:
    """The `_runs` ids whose data is a statistic (live or a real capture), for `_run IN (...)`."""
    origins = ", ".join(f"'{o}'" for o in REAL_ORIGINS)
    return f"SELECT rowid FROM _runs WHERE data_origin IN ({origins})"


def count_real_rows(conn: sqlite3.Connection, manifests: dict[str, Manifest],
                    profiles: dict[str, TableProfile]) -> dict[str, int]:
    """source id -> rows of its tables written by runs of live or captured data."""
    try:
        samples = conn.execute(f"SELECT count(*) FROM _runs WHERE rowid NOT IN ({real_runs_sql()})"
                               ).fetchone()[0]
    except sqlite3.OperationalError:  # no ledger: nothing is known to be real
        return {}
    out = {}
    for source_id, m in manifests.items():
        tables = [t for t in m.table_names if t in profiles and "_run" in profiles[t].columns]
        if not tables:
            continue
        if not samples:  # every run is live or a capture: every row is real
            out[source_id] = sum(profiles[t].rows for t in tables)
            continue
        out[source_id] = sum(conn.execute(
            f"SELECT count(*) FROM {quote(t)} WHERE _run IN ({real_runs_sql()})").fetchone()[0]
            for t in tables)
    return out


def source_rows(conn: sqlite3.Connection, manifests: dict[str, Manifest],
                profiles: dict[str, TableProfile], now: datetime | None = None) -> list[dict]:
    now = now or datetime.now(UTC)
    runs = runs_by_source(conn)
    real_rows = count_real_rows(conn, manifests, profiles)
    closed = status_by_source(conn)
    rows = []
    for source_id, m in sorted(manifests.items()):
        tables = [t for t in m.table_names if t in profiles]
        main = profiles.get(source_id)
        its_runs = runs.get(source_id, [])
        ok = [r for r in its_runs if r["status"] == "ok"]
        last_ok = ok[-1] if ok else None
        last = its_runs[-1] if its_runs else None
        fresh, _ = live_freshness(m.periodicity, ok, now)
        age = freshness(m.periodicity, last_ok["finished"] if last_ok else None, now)[1]
        live = [r for r in ok if is_live(r)]
        levels = [p.level for p in m.places]
        rows.append({
            "source_id": source_id,
            "title": m.upstream_title,
            "description": m.description,
            "provider": m.provider,
            "publisher": m.publisher,
            "eu_theme": m.eu_theme,
            "theme": theme_words(m.eu_theme),
            "topic": m.tags.get("topic"),
            "periodicity": m.periodicity,
            "frequency": periodicity_words(m.periodicity),
            "keywords": " · ".join([*m.keywords.get("nb", ()), *m.keywords.get("en", ())])
                        or None,
            "period_grain": main.period_grain if main else None,
            "first_period": main.first_period if main else None,
            "last_period": main.last_period if main else None,
            "geography": m.tags.get("geo"),
            "place_columns": ", ".join(f"{p.column} ({p.level})" for p in m.places) or None,
            "licence": m.license,
            "licence_url": m.license_url,
            "attribution": m.attribution,
            "upstream_url": m.upstream_url,
            "landing_page": m.upstream_landing_page or None,
            "presentation_policy": m.presentation_policy,
            "methodology_version": m.methodology_version,
            "tables": ", ".join(tables) or None,
            "rows": sum(profiles[t].rows for t in tables) if tables else None,
            "last_successful_run": last_ok["finished"] if last_ok else None,
            "last_successful_run_id": last_ok["run_id"] if last_ok else None,
            "last_successful_run_mode": mode_words(last_ok) if last_ok else None,
            # what the data is: live, a real capture (of capture_date) or constructed
            "data_origin": last_ok["data_origin"] if last_ok else None,
            "capture_date": last_ok["capture_date"] if last_ok else None,
            # rows of runs whose data is live or a real capture (the catalogue's statistics)
            "real_rows": real_rows.get(source_id),
            "last_live_run": live[-1]["finished"] if live else None,
            "last_run_status": last["status"] if last else None,
            "last_run_error": last["error"] if last and last["status"] != "ok" else None,
            "last_run_monitors": _monitors(last),
            "freshness": fresh,
            "days_since_success": age,
            "discontinued": closed.get(source_id, (None, None))[0],
            "replaced_by": closed.get(source_id, (None, None))[1],
            "watch": "\n".join(m.watch) or None,
            "manifest": m.path.name,
            "_levels": levels,
        })
    return rows


def write_sources(db: sqlite_utils.Database, rows: list[dict]) -> int:
    for fts in (f"{SOURCES}_fts",):
        if db[fts].exists():
            db[fts].drop()
    db.execute(f"DROP TABLE IF EXISTS {SOURCES}")
    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    db[SOURCES].create({
        "source_id": str, "title": str, "description": str, "provider": str, "publisher": str,
        "eu_theme": str, "theme": str, "topic": str, "periodicity": str, "frequency": str,
        "keywords": str, "period_grain": str,
        "first_period": str, "last_period": str, "geography": str, "place_columns": str,
        "licence": str, "licence_url": str, "attribution": str, "upstream_url": str,
        "landing_page": str, "presentation_policy": str, "methodology_version": str,
        "tables": str, "rows": int, "last_successful_run": str, "last_successful_run_id": str,
        "last_successful_run_mode": str, "data_origin": str, "capture_date": str,
        "real_rows": int, "last_live_run": str, "last_run_status": str,
        "last_run_error": str, "freshness": str, "days_since_success": int,
        "discontinued": int, "replaced_by": str, "last_run_monitors": str, "watch": str,
        "manifest": str,
    }, pk="source_id")
    with transaction(db.conn):
        db[SOURCES].insert_all(clean)
    db[SOURCES].enable_fts(FTS_COLUMNS, fts_version="FTS5", create_triggers=False,
                           tokenize=FTS_TOKENIZER, replace=True)
    return len(clean)
