"""`python -m atlas_crawl <command>`: the demo path and catalogue publishing.

    replay-all   crawl every golden folder's recorded responses into one database
    publish      prepare the database for the catalogue and write metadata.yml from the manifests
    serve        serve the database read-only (immutable) with Datasette
    migrate      convert a database of the old wide layout to the narrow one, in place
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

from atlas_crawl import PROJECT_DIR
from atlas_crawl.testing import GOLDEN_DIR, golden_cases

log = logging.getLogger("atlas_crawl")


def replay_all(db: str, golden: Path = GOLDEN_DIR) -> int:
    """Crawl each golden case in replay mode, one `scrapy crawl` process per case."""
    failures = 0
    cases = golden_cases(golden)
    for n, case in enumerate(cases, 1):
        command = [sys.executable, "-m", "scrapy", "crawl", case.spider,
                   "-s", f"ATLAS_DB={Path(db).resolve()}", "-s", "ATLAS_REPLAY=1",
                   "-s", f"ATLAS_CASSETTE={case.folder}", "-s", "LOG_LEVEL=WARNING"]
        for key, value in case.settings.items():
            command += ["-s", f"{key}={value}"]
        for key, value in case.args.items():
            command += ["-a", f"{key}={value}"]
        log.info("[%d/%d] %s (%s)", n, len(cases), case.name, case.spider)
        result = subprocess.run(command, check=False, cwd=PROJECT_DIR,
                                env={**os.environ, "SCRAPY_SETTINGS_MODULE": "atlas_crawl.settings"})
        if result.returncode:
            failures += 1
            log.error("%s failed (exit %s)", case.name, result.returncode)
    summary = last_runs(db)
    for run in summary:
        log.info("%-28s %-7s %8s rows  %s", run["spider"], run["status"], run["rows_received"],
                 run["error"] or "")
    failed_runs = [r for r in summary if r["status"] != "ok"]
    return 1 if failures or failed_runs else 0


def last_runs(db: str) -> list[dict]:
    import sqlite3

    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(
            "SELECT * FROM _runs WHERE rowid IN (SELECT max(rowid) FROM _runs GROUP BY spider, "
            "arguments) ORDER BY spider")]
    finally:
        conn.close()


def publish(db: str, metadata: str) -> int:
    """Prepare the database for serving (dimensions, foreign keys, views, sources) and write
    metadata.yml; see atlas_crawl/publish/."""
    from atlas_crawl.publish import publish as publish_catalogue

    try:
        report = publish_catalogue(db, metadata)
    except FileNotFoundError as exc:
        log.error("%s", exc)
        return 1
    log.info("wrote %s: %d tables, %d sources, canned queries: %s", report.metadata_path,
             len(report.tables), report.sources, ", ".join(report.queries))
    return 0


# Measured with benchmarks/catalogue_latency.py (3.1 M rows): suggested facets scan every column
# on every page; a query over millions of rows is cut off after a second rather than holding a
# thread; a facet of a filtered page gets 200 ms (unfiltered ones are precomputed).
SERVE_SETTINGS = {"default_page_size": "50", "sql_time_limit_ms": "1000",
                  "facet_time_limit_ms": "200", "suggest_facets": "off"}
PLUGINS_DIR = Path(__file__).resolve().parent / "publish" / "datasette_plugins"


def serve_command(db: str, metadata: str, port: int, host: str = "127.0.0.1") -> list[str]:
    """Datasette, read-only: the database is opened immutable (-i), nothing can write to it.
    Row counts come from publish's inspect file while it is newer than the database."""
    from atlas_crawl.publish.fast import inspect_path

    command = [sys.executable, "-m", "datasette", "serve", "-i", db, "-m", metadata,
               "-h", host, "-p", str(port), "--plugins-dir", str(PLUGINS_DIR)]
    for name, value in SERVE_SETTINGS.items():
        command += ["--setting", name, value]
    inspect = inspect_path(db)
    if inspect.exists() and inspect.stat().st_mtime >= Path(db).stat().st_mtime:
        command += ["--inspect-file", str(inspect)]
    elif Path(db).exists():
        log.warning("%s is older than %s (or missing): run publish again for instant row "
                    "counts", inspect, db)
    return command


def serve(db: str, metadata: str, port: int, host: str = "127.0.0.1") -> int:
    for path, hint in ((db, "crawl first, e.g. python -m atlas_crawl replay-all"),
                       (metadata, "run python -m atlas_crawl publish first")):
        if not Path(path).exists():
            log.error("%s does not exist: %s", path, hint)
            return 1
    command = serve_command(db, metadata, port, host)
    log.info("serving %s at http://%s:%d (read-only)", db, host, port)
    os.execv(sys.executable, command)
    return 0  # pragma: no cover


def migrate(db: str, vacuum: bool = True) -> int:
    from atlas_crawl.migrate import migrate as migrate_database

    try:
        report = migrate_database(db, vacuum=vacuum)
    except FileNotFoundError as exc:
        log.error("%s", exc)
        return 1
    if report.migrated:
        log.info("%s: %d tables migrated, %d dimension tables, %.1f MB -> %.1f MB", db,
                 len(report.tables), len(report.dimension_tables), report.bytes_before / 1e6,
                 report.bytes_after / 1e6)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    parser = argparse.ArgumentParser(prog="python -m atlas_crawl")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("replay-all", help="crawl every golden folder into one database")
    p.add_argument("--db", default="atlas.db")
    p = sub.add_parser("publish", help="prepare the database for the catalogue and write "
                       "metadata.yml from the manifests")
    p.add_argument("--db", default="atlas.db")
    p.add_argument("--metadata", default="metadata.yml")
    p = sub.add_parser("serve", help="serve the database read-only with Datasette")
    p.add_argument("--db", default="atlas.db")
    p.add_argument("--metadata", default="metadata.yml")
    p.add_argument("--port", type=int, default=8001)
    p.add_argument("--host", default="127.0.0.1")
    p = sub.add_parser("migrate", help="convert a database of the old wide layout (labels, "
                       "run id and sha256 on every row) to the narrow one, in place")
    p.add_argument("--db", default="atlas.db")
    p.add_argument("--no-vacuum", action="store_true",
                   help="skip the final VACUUM (the file keeps its size until one is run)")
    args = parser.parse_args(argv)
    if args.command == "replay-all":
        return replay_all(args.db)
    if args.command == "publish":
        return publish(args.db, args.metadata)
    if args.command == "migrate":
        return migrate(args.db, vacuum=not args.no_vacuum)
    return serve(args.db, args.metadata, args.port, args.host)


if __name__ == "__main__":
    sys.exit(main())
