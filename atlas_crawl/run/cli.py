"""`python -m atlas_crawl <command>`: keeping the catalogue fresh, the demo path and publishing.

    update       run the change watch, crawl what is due or changed, publish (see update.py)
    replay-all   crawl every golden folder's recorded responses into one database
    publish      prepare the database for the catalogue and write metadata.yml from the manifests
    serve        serve the database read-only (immutable) with Datasette
    status       per source: last successful run, live or replay, origin, rows, freshness, re-crawl
    check-port   fail if the port the catalogue would be served on is taken
    migrate      convert a database of the old wide layout to the narrow one, in place
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from atlas_crawl.publish.site import PLUGINS_DIR, STATIC_DIR, STATIC_MOUNT, TEMPLATES_DIR
from atlas_crawl.run.golden import GOLDEN_DIR, GoldenCase, golden_cases

log = logging.getLogger("atlas_crawl")


def demo_cases(golden: Path = GOLDEN_DIR) -> list[GoldenCase]:
    """The golden cases of the catalogue's own sources: a case run on test manifests (the
    watch's) would put sources that do not exist into the database."""
    cases = []
    for case in golden_cases(golden):
        if "manifests" in case.args:
            log.info("skipping %s: it runs on the test manifests in %s", case.name,
                     case.args["manifests"])
            continue
        cases.append(case)
    return cases


def replay_all(db: str, golden: Path = GOLDEN_DIR) -> int:
    """Crawl each golden case in replay mode, all in this process (see atlas_crawl/run/runner.py)."""
    from atlas_crawl.run.runner import (
        CrawlJob,
        print_progress,
        print_summary,
        project_settings,
        run_crawls,
    )

    jobs = [CrawlJob(case.name, case.spider, dict(case.args),
                     {"ATLAS_REPLAY": True, "ATLAS_CASSETTE": str(case.folder), **case.settings})
            for case in demo_cases(golden)]
    settings = project_settings(ATLAS_DB=str(Path(db).resolve()), LOG_LEVEL="WARNING")
    start, end = print_progress(len(jobs))
    results = run_crawls(jobs, settings, on_start=start, on_end=end)
    print_summary(results)
    return 1 if any(not r.ok for r in results) else 0


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


def serve_command(db: str, metadata: str, port: int, host: str = "127.0.0.1") -> list[str]:
    """Datasette, read-only: the database is opened immutable (-i), nothing can write to it.
    Row counts come from publish's inspect file while it is newer than the database."""
    from atlas_crawl.publish.fast import inspect_path

    command = [sys.executable, "-m", "datasette", "serve", "-i", db, "-m", metadata,
               "-h", host, "-p", str(port), "--template-dir", str(TEMPLATES_DIR),
               "--plugins-dir", str(PLUGINS_DIR), "--static", f"{STATIC_MOUNT}:{STATIC_DIR}"]
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
    if check_port(port, host):  # said now, not as a traceback from the server
        return 1
    command = serve_command(db, metadata, port, host)
    log.info("serving %s at http://%s:%d (read-only)", db, host, port)
    os.execv(sys.executable, command)
    return 0  # pragma: no cover


def status(db: str, as_json: bool = False) -> int:
    from atlas_crawl.run.status import format_json, format_table, source_status

    if not Path(db).exists():
        log.error("%s does not exist: crawl first (scrapy crawl <spider> -s ATLAS_DB=%s)", db, db)
        return 1
    statuses = source_status(db)
    print(format_json(statuses) if as_json else format_table(statuses))
    return 0


def port_in_use(host: str, port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def check_port(port: int, host: str = "127.0.0.1") -> int:
    if port_in_use(host, port):
        log.error("port %d on %s is already in use: stop what runs there, or choose another "
                  "port (PORT=8002 ./scripts/demo.sh, or serve --port 8002)", port, host)
        return 1
    return 0


def migrate(db: str, vacuum: bool = True) -> int:
    from atlas_crawl.store.migrate import migrate as migrate_database

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m atlas_crawl",
        description="Keep the catalogue fresh (update), replay the recorded crawls, publish and "
                    "serve the Datasette catalogue, and report how fresh each source is. One "
                    "source by hand is `scrapy crawl <spider>` (`scrapy list` names them).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text)

    p = command("update", "run the change watch, crawl every source that is due by its "
                "periodicity or that changed upstream (or the ones named), then publish")
    p.add_argument("--db", default="atlas.db", help="SQLite database to write (default %(default)s)")
    p.add_argument("--metadata", default="metadata.yml",
                   help="Datasette metadata to write (default %(default)s)")
    p.add_argument("--sources", nargs="+", metavar="SOURCE", help="crawl these sources only")
    p.add_argument("--replay", action="store_true",
                   help="crawl the golden recordings of real captures instead of the "
                        "network (offline)")
    p.add_argument("--samples", action="store_true",
                   help="with --replay: crawl the constructed golden fixtures too (invented "
                        "values; their pages say so)")
    p.add_argument("--scrapyd", metavar="URL", help="run the crawls as jobs of this scrapyd")
    p.add_argument("--providers", nargs="+", metavar="PROVIDER",
                   help="only these providers' sources (one node's share)")
    p = command("replay-all", "crawl every golden folder's recorded responses into one database "
                "(no network)")
    p.add_argument("--db", default="atlas.db", help="SQLite database to write (default %(default)s)")
    p = command("publish", "prepare the database for the catalogue (places, periods, views, "
                "sources, search) and write metadata.yml from the manifests")
    p.add_argument("--db", default="atlas.db", help="crawled database (default %(default)s)")
    p.add_argument("--metadata", default="metadata.yml",
                   help="Datasette metadata to write (default %(default)s)")
    p = command("serve", "serve the published database read-only with Datasette")
    p.add_argument("--db", default="atlas.db", help="published database (default %(default)s)")
    p.add_argument("--metadata", default="metadata.yml",
                   help="metadata written by publish (default %(default)s)")
    p.add_argument("--port", type=int, default=8001, help="port (default %(default)s)")
    p.add_argument("--host", default="127.0.0.1", help="address (default %(default)s)")
    p = command("status", "per source: last successful run, live / replay / file, the origin "
                "of its data (live, a real capture of a date, or a sample of invented values), "
                "rows, freshness (live runs only), last error, and whether the change watch says "
                "it needs a re-crawl")
    p.add_argument("--db", default="atlas.db", help="database to read (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p = command("migrate", "convert a database of the old wide layout (labels, run id and "
                "sha256 on every row) to the narrow one, in place, checked row by row")
    p.add_argument("--db", default="atlas.db", help="database to convert (default %(default)s)")
    p.add_argument("--no-vacuum", action="store_true",
                   help="skip the final VACUUM (the file keeps its size until one is run)")
    p = command("check-port", "exit 1 with a message if the port is already in use")
    p.add_argument("--port", type=int, default=8001, help="port (default %(default)s)")
    p.add_argument("--host", default="127.0.0.1", help="address (default %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if args.command == "update" and args.samples and not args.replay:
        print("--samples goes with --replay: a live update crawls the publishers, which have "
              "no samples", file=sys.stderr)
        return 2
    if args.command == "update" and args.scrapyd:
        from atlas_crawl.run.golden import GOLDEN_DIR
        from atlas_crawl.run.scrapyd import update_via_scrapyd

        return update_via_scrapyd(args.scrapyd, args.db, args.metadata, args.sources,
                                  args.replay, GOLDEN_DIR, providers=args.providers,
                                  samples=args.samples)
    if args.command == "update":
        from atlas_crawl.run.update import update

        return update(args.db, args.metadata, args.sources, replay=args.replay,
                      providers=args.providers, samples=args.samples)
    if args.command == "replay-all":
        return replay_all(args.db)
    if args.command == "publish":
        return publish(args.db, args.metadata)
    if args.command == "status":
        return status(args.db, args.json)
    if args.command == "check-port":
        return check_port(args.port, args.host)
    if args.command == "migrate":
        return migrate(args.db, vacuum=not args.no_vacuum)
    return serve(args.db, args.metadata, args.port, args.host)


if __name__ == "__main__":
    sys.exit(main())
