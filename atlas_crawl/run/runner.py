"""Many crawls in one process: one reactor, one Scrapy start-up, the crawls one after another.

Each crawl is still its own run (its own row in `_runs`, its own transaction); a crawl that fails,
even one that cannot start, is recorded in its result and the next one runs. The crawls run in
sequence, not side by side: Scrapy counts logged errors process-wide (every crawler's
`log_count/ERROR` sees every crawler's errors, and the store fails a run that logged one), and
SQLite has one writer.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("atlas_crawl")


@dataclass
class CrawlJob:
    """One crawl: a spider with its -a arguments and -s settings, under a name for the log."""

    name: str
    spider: str
    args: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class CrawlResult:
    job: CrawlJob
    status: str  # "ok" or "failed"
    seconds: float
    run_id: str | None = None
    rows_received: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    error: str | None = None
    monitors: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def project_settings(**overrides):
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "atlas_crawl.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for key, value in overrides.items():
        settings.set(key, value, priority="cmdline")
    return settings


def _ledger_row(db: str, run_id: str | None) -> dict:
    if not run_id:
        return {}
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM _runs WHERE run_id = ?", (run_id,)).fetchone()
        return dict(row) if row else {}
    finally:
        conn.close()


def _result(job: CrawlJob, crawler, db: str, seconds: float, failure: str | None) -> CrawlResult:
    spider = getattr(crawler, "spider", None) if crawler is not None else None
    run_id = getattr(spider, "run_id", None)
    row = _ledger_row(db, run_id)
    status = getattr(crawler, "atlas_run_status", None) if crawler is not None else None
    if failure or status != "ok":
        status = "failed"
    monitors = row.get("monitors")
    return CrawlResult(
        job, status, seconds, run_id=run_id,
        rows_received=row.get("rows_received") or 0, rows_written=row.get("rows_written") or 0,
        rows_quarantined=row.get("rows_quarantined") or 0,
        error=failure or row.get("error") or (None if status == "ok" else "the run did not finish"),
        monitors=json.loads(monitors) if monitors else [],
    )


def run_crawls(jobs: Sequence[CrawlJob], settings,
               on_start: Callable[[int, CrawlJob], None] | None = None,
               on_end: Callable[[int, CrawlResult], None] | None = None) -> list[CrawlResult]:
    """Run every job in this process, in order, and return one result per job.

    `settings` are the shared Scrapy settings (ATLAS_DB among them); a job's own settings are
    applied on top for its crawl only. Blocks until all crawls are done (it runs the reactor, so
    it can be called once per process).
    """
    from scrapy.crawler import Crawler, CrawlerProcess
    from scrapy.utils.reactor import install_reactor

    install_reactor(settings["TWISTED_REACTOR"])
    from twisted.internet import defer, reactor

    # Scrapy installs its own root log handler (LOG_LEVEL); one configured before (the command
    # line's basicConfig) would repeat every crawl's INFO lines.
    for handler in list(logging.root.handlers):
        logging.root.removeHandler(handler)
    process = CrawlerProcess(settings)
    db = settings.get("ATLAS_DB")
    results: list[CrawlResult] = []

    @defer.inlineCallbacks
    def crawl_all():
        try:
            for n, job in enumerate(jobs, 1):
                if on_start:
                    on_start(n, job)
                started = time.monotonic()
                crawler, failure = None, None
                try:
                    job_settings = settings.copy()
                    for key, value in job.settings.items():
                        job_settings.set(key, value, priority="cmdline")
                    crawler = Crawler(process.spider_loader.load(job.spider), job_settings)
                    yield process.crawl(crawler, **job.args)
                except Exception as exc:  # noqa: BLE001 - a crawl that cannot start must not stop the rest
                    failure = f"{type(exc).__name__}: {exc}".splitlines()[0][:1000]
                    log.error("%s: %s", job.name, failure)
                result = _result(job, crawler, db, time.monotonic() - started, failure)
                results.append(result)
                if on_end:
                    on_end(n, result)
        finally:
            reactor.callLater(0, reactor.stop)

    reactor.callWhenRunning(crawl_all)
    process.start(stop_after_crawl=False)
    return results


def _rows(result: CrawlResult) -> str:
    return f"{result.rows_received:,} rows ({result.rows_written:,} changed)"


def print_progress(total: int, out=None):
    """Callbacks for run_crawls that print a line as each crawl starts and ends."""
    import sys

    out = out or sys.stdout

    def on_start(n: int, job: CrawlJob) -> None:
        print(f"[{n}/{total}] {job.name}: started ({job.spider})", file=out, flush=True)

    def on_end(n: int, result: CrawlResult) -> None:
        line = (f"[{n}/{total}] {result.job.name}: {result.status}, {_rows(result)}, "
                f"{result.seconds:.1f} s")
        if result.error:
            line += f" ({result.error})"
        warned = [m["name"] for m in result.monitors if m.get("outcome") == "warning"]
        if warned:
            line += f" [monitor warnings: {', '.join(warned)}]"
        print(line, file=out, flush=True)

    return on_start, on_end


def summary_table(results: Sequence[CrawlResult]) -> str:
    """One line per crawl (name, status, rows received / changed / quarantined, seconds, error)."""
    header = ("crawl", "status", "received", "changed", "quarantined", "seconds", "monitors",
              "error")
    rows = [header]
    for r in results:
        failed = [m["name"] for m in r.monitors if m.get("outcome") in ("failed", "warning")]
        rows.append((r.job.name, r.status, f"{r.rows_received:,}", f"{r.rows_written:,}",
                     f"{r.rows_quarantined:,}", f"{r.seconds:.1f}",
                     ", ".join(failed) or ("ok" if r.monitors else "-"),
                     (r.error or "")[:80]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    failed = sum(not r.ok for r in results)
    lines.append(f"{len(results)} crawls, {len(results) - failed} ok, {failed} failed, "
                 f"{sum(r.seconds for r in results):.1f} s")
    return "\n".join(lines)


def print_summary(results: Sequence[CrawlResult], out=None) -> None:
    import sys

    print(summary_table(results), file=out or sys.stdout, flush=True)
