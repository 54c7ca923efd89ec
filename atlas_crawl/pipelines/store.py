"""Write batches to SQLite: one transaction per run, upserts on the natural key, a run ledger.

The run commits only if the spider finished, logged no error and its run monitors passed
(atlas_crawl/pipelines/monitors.py, judged just before the commit); otherwise it is rolled back and
`_runs` says why, so a failed or interrupted run never leaves half a table behind.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import reactor

from atlas_crawl import signals as atlas_signals
from atlas_crawl.fetch.origin import Origin, OriginError, run_origin
from atlas_crawl.fetch.replay import golden_dir
from atlas_crawl.items import Batch, RawFile, is_dimension_table, utc_now
from atlas_crawl.manifests import all_manifests, manifest_for_table
from atlas_crawl.pipelines import raw_files
from atlas_crawl.pipelines.monitors import (
    RunMeasures,
    ensure_monitors_column,
    record,
    run_monitor_suite,
    summary,
)
from atlas_crawl.store import lock as dblock
from atlas_crawl.store.lock import DEFAULT_WAIT, DatabaseBusy, record_refusal
from atlas_crawl.store.views import make_source_views
from atlas_crawl.store.writes import NotADatabase, ShrinkRefused, Store, new_run_id

logger = logging.getLogger(__name__)
PROGRESS_EVERY_ROWS = 500_000


# SQLite's words for a database that cannot take writes any more (not a bug in the SQL).
UNWRITABLE = ("attempt to write a readonly database", "database or disk is full",
              "disk I/O error", "unable to open database file")


class DatabaseUnwritable(Exception):
    """ATLAS_DB cannot be opened or created for writing."""


class ErrorCollector(logging.Handler):
    """Keeps the first few ERROR messages of a run for the ledger."""

    def __init__(self, limit: int = 5):
        super().__init__(level=logging.ERROR)
        self.limit = limit
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) >= self.limit:
            return
        self.messages.append(error_cause(record)[:1000])


def error_cause(record: logging.LogRecord) -> str:
    """One line for the ledger that says what went wrong: the exception (its type and first
    line), after a short context. "Spider error processing <GET ...>" alone does not say what
    went wrong, and Scrapy's "Error processing Batch(...)" is a dump of the item's rows."""
    message = (record.getMessage().splitlines() or [""])[0]
    exc = record.exc_info[1] if record.exc_info else None
    if exc is None:
        return message
    lines = str(exc).strip().splitlines()
    cause = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    if message.startswith("Error processing "):  # item pipelines: the item is a row dump
        return cause
    context = message if len(message) <= 200 else message[:200] + "…"
    return f"{context}: {cause}" if context else cause


TRUE_WORDS = {"1", "true", "yes", "on"}


def max_shrink_share(settings, spider) -> float | None:
    """The share of a delivered partition a replace-mode run may remove: ATLAS_MAX_SHRINK_SHARE
    (default 0.2); `-a allow_shrink=1` lifts the limit for one run."""
    allow = str(getattr(spider, "arguments", {}).get("allow_shrink", "")).strip().lower()
    if allow in TRUE_WORDS:
        return None
    return settings.getfloat("ATLAS_MAX_SHRINK_SHARE", 0.2)


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.settings = crawler.settings
        self.raw_dir = crawler.settings.get("ATLAS_RAW_DIR") or ""
        self.store: Store | None = None
        self.refused: str | None = None
        self.run_id = ""
        self.origin = Origin("unknown", "unknown")
        self.received = self.written = self.quarantined = 0
        self.source_ids: set[str] = set()
        self.errors = ErrorCollector()
        self.measures = RunMeasures()
        self._next_progress = PROGRESS_EVERY_ROWS
        self._started = 0.0
        self._opened = False
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        arguments = dict(getattr(spider, "arguments", {}))
        for flag in ("ATLAS_REPLAY", "ATLAS_RECORD"):
            if self.settings.getbool(flag):
                arguments[flag.lower()] = True
        self.run_id = spider.run_id = new_run_id(spider.name)
        self.arguments = arguments
        try:
            # How and from what this run gets its data, decided once, before anything is read.
            replay = self.settings.getbool("ATLAS_REPLAY")
            self.origin = run_origin(
                replay=replay, arguments=arguments,
                cassette=golden_dir(self.settings, spider.name) if replay else None)
        except OriginError as exc:
            self.origin = Origin("unknown", "unknown")
            self.refuse(exc)
            return
        try:
            self.store = Store(self.settings.get("ATLAS_DB"),
                               wait=self.settings.getfloat("ATLAS_DB_WAIT", DEFAULT_WAIT))
            ensure_monitors_column(self.store.conn)
            self.store.start_run(spider.name, arguments, run_id=self.run_id,
                                 mode=self.origin.mode, data_origin=self.origin.data_origin,
                                 capture_date=self.origin.capture_date)
        except (DatabaseBusy, NotADatabase) as exc:
            self.refuse(exc)
            return
        except (sqlite3.Error, OSError) as exc:  # a read-only folder or file, a full disk
            self.refuse(DatabaseUnwritable(
                f"ATLAS_DB={self.settings.get('ATLAS_DB')} cannot be opened for writing "
                f"({exc}); check that the file and its folder are writable"))
            return
        self.store.max_shrink_share = max_shrink_share(self.settings, spider)
        logging.getLogger().addHandler(self.errors)
        self._started = time.monotonic()
        logger.info("run %s started (%s, data: %s), writing to %s", self.run_id,
                    self.origin.mode, self.origin.data_origin, self.store.path)

    def refuse(self, exc: Exception) -> None:
        """This run cannot use the database: say so in one line, record the refusal beside the
        database (it cannot be written now), and close the spider."""
        self.refused = str(exc)
        status = "refused" if isinstance(exc, DatabaseBusy) else "failed"
        logger.error("run %s %s: %s", self.run_id, status, exc)
        if isinstance(exc, DatabaseBusy):
            spider = self.crawler.spider
            record_refusal(self.settings.get("ATLAS_DB"), {
                "run_id": self.run_id, "spider": spider.name,
                "arguments": json.dumps(getattr(self, "arguments", {}), sort_keys=True,
                                        ensure_ascii=False),
                "started": utc_now(), "finished": utc_now(), "status": "refused",
                "error": f"refused: {exc}", "pid": os.getpid(), "host": dblock.HOST,
                "mode": self.origin.mode, "data_origin": self.origin.data_origin,
                "capture_date": self.origin.capture_date})
        self.crawler.atlas_run_status = status
        self.crawler.atlas_run_error = str(exc)
        if self.store is not None:
            self.store.rollback()
            self.store.close()
            self.store = None
        if self._opened:
            self._close(status)
        else:  # refused while opening: close once the spider is open (stats need its start)
            self.crawler.signals.connect(lambda spider: self._close(status),
                                         signal=signals.spider_opened, weak=False)

    def _close(self, reason: str) -> None:
        engine = self.crawler.engine
        reactor.callLater(0, lambda: deferred_from_coro(engine.close_spider_async(reason=reason)))

    def _spider_opened(self, spider) -> None:
        self._opened = True

    def process_item(self, item):
        if isinstance(item, RawFile):
            return self.keep_raw_file(item)
        if not isinstance(item, Batch):
            return item
        if self.store is None:  # refused: nothing is written
            item.rows, item.quarantine = [], []
            return item
        manifest = manifest_for_table(item.table)
        replace = manifest is not None and manifest.write_mode == "replace"
        replace_by = manifest.replace_by if replace else ()
        if replace_by and not set(replace_by) <= set(item.columns):
            replace = False  # a lookup table of the source (dim_school): upsert only
        if not is_dimension_table(item.table):  # the run monitors judge rows of data
            self.measures.watch(self.store.conn, item.table, item.source_id)
            self.measures.rows_by_source[item.source_id] = (
                self.measures.rows_by_source.get(item.source_id, 0) + len(item.rows))
        try:
            written = self.store.write_batch(item, self.run_id, replace=replace,
                                             replace_by=replace_by)
        except DatabaseBusy as exc:
            self.refuse(exc)
            item.rows, item.quarantine = [], []
            return item
        except sqlite3.OperationalError as exc:
            if not str(exc).startswith(UNWRITABLE):
                raise  # a bug (no such column, ...): its traceback is wanted
            # The disk filled up or the file turned read-only mid-run: one line, and the run
            # fails and is rolled back (not "Error processing Batch(<every row>)").
            logger.error("run %s: cannot write to %s (%s); the run is rolled back", self.run_id,
                         self.store.path, exc)
            item.rows, item.quarantine = [], []
            return item
        if not is_dimension_table(item.table):  # labels of the codes, not rows of data
            self.received += len(item.rows)
            self.written += written
        self.quarantined += len(item.quarantine)
        self.source_ids.add(item.source_id)
        if self.received >= self._next_progress:
            rate = self.received / max(time.monotonic() - self._started, 1e-9)
            logger.info("%s rows stored so far (%.0f rows/s)", f"{self.received:,}", rate)
            self._next_progress += PROGRESS_EVERY_ROWS
        # The rows are in the database now; do not keep them alive in Scrapy's item signals.
        item.rows = []
        item.quarantine = []
        return item

    def keep_raw_file(self, item: RawFile) -> RawFile:
        if self.store is None:  # refused: nothing is written
            item.body = b""
            return item
        try:
            self.store.begin()
            raw_files.keep(self.store.conn, item, self.raw_dir, self.run_id)
        except DatabaseBusy as exc:
            self.refuse(exc)
        self.crawler.stats.inc_value("atlas/raw_files")
        item.body = b""  # on disk now; do not keep it alive in Scrapy's item signals
        return item

    def spider_closed(self, spider, reason) -> None:
        if self.store is None:
            return
        logging.getLogger().removeHandler(self.errors)
        errors = self.crawler.stats.get_value("log_count/ERROR", 0)
        failed = reason != "finished" or (errors and self.settings.getbool("ATLAS_FAIL_ON_ERROR"))
        monitors, removed, refused_shrink = None, 0, ""
        if not failed:
            # A replace run that would remove too much of a partition is refused (a short
            # read?); then the run monitors judge what it is about to commit.
            try:
                removed = self.store.finish_replacements()
            except ShrinkRefused as exc:
                failed, refused_shrink = True, str(exc)
        if not failed:
            try:
                monitors = self._run_monitors(spider, reason)
            except Exception as exc:  # noqa: BLE001 - a run that cannot be judged is not kept
                monitors = [{"name": "run_monitors", "outcome": "failed",
                             "detail": f"{type(exc).__name__}: {exc}"}]
            failed = any(m["outcome"] == "failed" for m in monitors)
        if failed:
            self.store.rollback()
            problem = refused_shrink or "; ".join(self.errors.messages) or f"{errors} error(s)"
            if monitors and not errors:
                problem = "monitors failed: " + "; ".join(
                    f"{m['name']}: {m['detail']}" for m in monitors if m["outcome"] == "failed")
            error = f"closed: {reason}; {problem}" if reason != "finished" else problem
            status = "failed"
            logger.error("run %s failed and was rolled back: %s", self.run_id, error)
            self.crawler.atlas_run_error = error
        else:
            self.store.begin()
            # The views the written sources declare, refreshed inside the same transaction.
            make_source_views(self.store.conn, [all_manifests()[s] for s in sorted(self.source_ids)
                                                if s in all_manifests()])
            removed += self.store.commit()
            if removed:
                # write_mode 'replace': rows the source no longer delivers are gone; count them
                # as changes so that rows_written 0 still means "the table did not change".
                logger.info("run %s removed %s rows the source no longer delivers",
                            self.run_id, f"{removed:,}")
                self.written += removed
            error, status = None, "ok"
        self.crawler.atlas_run_status = status
        try:
            self.store.finish_run(
                self.run_id, status=status, source_ids=self.source_ids, received=self.received,
                written=self.written if status == "ok" else 0, quarantined=self.quarantined,
                error=error,
            )
            if monitors is not None:
                record(self.store.conn, self.run_id, monitors)
        except DatabaseBusy as exc:
            # The run itself is settled (committed or rolled back); only its ledger row waits.
            logger.warning("run %s: its ledger row is kept beside the database until it can "
                           "be written (%s)", self.run_id, exc)
            record_refusal(self.store.path, {
                "run_id": self.run_id, "spider": spider.name, "started": utc_now(),
                "finished": utc_now(), "status": status, "error": error,
                "pid": os.getpid(), "host": dblock.HOST})
        self.measures.close(self.store.conn)
        logger.info(
            "run %s %s: %s rows received, %s inserted or changed, %s quarantined",
            self.run_id, status, f"{self.received:,}", f"{self.written:,}",
            f"{self.quarantined:,}",
        )
        self.store.close()
        self.store = None
        self.crawler.signals.send_catch_log(atlas_signals.run_finished, run_id=self.run_id,
                                            status=status)

    def _run_monitors(self, spider, reason: str) -> list[dict]:
        """The spidermon suite of atlas_crawl/pipelines/monitors.py on this run; warnings are logged
        here, failures by the caller, which rolls the run back."""
        self.measures.measure(self.store.conn)
        stats = {**self.crawler.stats.get_stats(), "finish_reason": reason}
        results = run_monitor_suite(stats, self.measures,
                                    getattr(spider, "source_id", "") or spider.name,
                                    self.received, self.quarantined,
                                    file_run=self.origin.mode == "file",
                                    allow_shrink=self.store.max_shrink_share is None)
        for result in results:
            if result["outcome"] == "warning":
                logger.warning("run %s: monitor %s: %s", self.run_id, result["name"],
                               result["detail"])
        logger.info("run %s monitors: %s", self.run_id, summary(results))
        return results
