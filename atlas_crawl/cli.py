"""`python -m atlas_crawl <command>`: the demo path and catalogue publishing.

    update       run the change monitor, crawl what is due or changed, publish (see update.py)
    replay-all   crawl every golden folder's recorded responses into one database
    publish      prepare the database for the catalogue and write metadata.yml from the manifests
    serve        serve the database read-only (immutable) with Datasette
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from atlas_crawl.golden import GOLDEN_DIR, golden_cases

log = logging.getLogger("atlas_crawl")


def replay_all(db: str, golden: Path = GOLDEN_DIR) -> int:
    """Crawl each golden case in replay mode, all in this process (see atlas_crawl/runner.py)."""
    from atlas_crawl.runner import (
        CrawlJob,
        print_progress,
        print_summary,
        project_settings,
        run_crawls,
    )

    jobs = [CrawlJob(case.name, case.spider, dict(case.args),
                     {"ATLAS_REPLAY": True, "ATLAS_CASSETTE": str(case.folder), **case.settings})
            for case in golden_cases(golden)]
    settings = project_settings(ATLAS_DB=str(Path(db).resolve()), LOG_LEVEL="WARNING")
    start, end = print_progress(len(jobs))
    results = run_crawls(jobs, settings, on_start=start, on_end=end)
    print_summary(results)
    return 1 if any(not r.ok for r in results) else 0


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


def serve_command(db: str, metadata: str, port: int, host: str = "127.0.0.1") -> list[str]:
    """Datasette, read-only: the database is opened immutable (-i), nothing can write to it."""
    return [sys.executable, "-m", "datasette", "serve", "-i", db, "-m", metadata,
            "-h", host, "-p", str(port), "--setting", "default_page_size", "50",
            "--setting", "sql_time_limit_ms", "5000", "--setting", "facet_time_limit_ms", "1000"]


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


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    parser = argparse.ArgumentParser(prog="python -m atlas_crawl")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("update", help="run the change monitor, crawl every source that is due "
                       "or changed (or the ones named), then publish the catalogue")
    p.add_argument("--db", default="atlas.db")
    p.add_argument("--metadata", default="metadata.yml")
    p.add_argument("--sources", nargs="+", metavar="SOURCE", help="crawl these sources only")
    p.add_argument("--replay", action="store_true", help="crawl the golden recordings, offline")
    p.add_argument("--scrapyd", metavar="URL", help="run the crawls as jobs of this scrapyd")
    p.add_argument("--providers", nargs="+", metavar="PROVIDER",
                   help="only these providers' sources (one node's share)")
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
    args = parser.parse_args(argv)
    if args.command == "update":
        from atlas_crawl.update import update

        return update(args.db, args.metadata, args.sources, replay=args.replay,
                      scrapyd=args.scrapyd, providers=args.providers)
    if args.command == "replay-all":
        return replay_all(args.db)
    if args.command == "publish":
        return publish(args.db, args.metadata)
    return serve(args.db, args.metadata, args.port, args.host)


if __name__ == "__main__":
    sys.exit(main())
