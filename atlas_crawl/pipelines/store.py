"""Write batches to SQLite: one transaction per run, upserts on the natural key, a run ledger.

The run commits only if the spider finished and logged no error; otherwise it is rolled back and
`_runs` says why, so a failed or interrupted run never leaves half a table behind.
"""

from __future__ import annotations

import logging
import time

from scrapy import signals

from atlas_crawl.db import Store
from atlas_crawl.dimensions import is_dimension_table
from atlas_crawl.items import Batch
from atlas_crawl.manifests import manifest_for_table

logger = logging.getLogger(__name__)
PROGRESS_EVERY_ROWS = 500_000


class ErrorCollector(logging.Handler):
    """Keeps the first few ERROR messages of a run for the ledger."""

    def __init__(self, limit: int = 5):
        super().__init__(level=logging.ERROR)
        self.limit = limit
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) >= self.limit:
            return
        message = record.getMessage().splitlines()[0]
        if record.exc_info and record.exc_info[1] is not None:
            # "Spider error processing <GET ...>" alone does not say what went wrong.
            exc = record.exc_info[1]
            message = f"{message}: {type(exc).__name__}: {exc}"
        self.messages.append(message[:1000])


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.settings = crawler.settings
        self.store: Store | None = None
        self.run_id = ""
        self.received = self.written = self.quarantined = 0
        self.source_ids: set[str] = set()
        self.errors = ErrorCollector()
        self._next_progress = PROGRESS_EVERY_ROWS
        self._started = 0.0
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.store = Store(self.settings.get("ATLAS_DB"))
        arguments = dict(getattr(spider, "arguments", {}))
        for flag in ("ATLAS_REPLAY", "ATLAS_RECORD"):
            if self.settings.getbool(flag):
                arguments[flag.lower()] = True
        self.run_id = self.store.start_run(spider.name, arguments)
        spider.run_id = self.run_id
        spider.store = self.store
        logging.getLogger().addHandler(self.errors)
        self._started = time.monotonic()
        logger.info("run %s started, writing to %s", self.run_id, self.store.path)

    def process_item(self, item):
        if not isinstance(item, Batch):
            return item
        manifest = manifest_for_table(item.table)
        replace = manifest is not None and manifest.write_mode == "replace"
        replace_by = manifest.replace_by if replace else ()
        if replace_by and not set(replace_by) <= set(item.columns):
            replace = False  # a lookup table of the source (dim_school): upsert only
        self.written += self.store.write_batch(item, self.run_id, replace=replace,
                                               replace_by=replace_by)
        if not is_dimension_table(item.table):  # labels of the codes, not rows of data
            self.received += len(item.rows)
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

    def spider_closed(self, spider, reason) -> None:
        if self.store is None:
            return
        logging.getLogger().removeHandler(self.errors)
        errors = self.crawler.stats.get_value("log_count/ERROR", 0)
        failed = reason != "finished" or (errors and self.settings.getbool("ATLAS_FAIL_ON_ERROR"))
        if failed:
            self.store.rollback()
            problem = "; ".join(self.errors.messages) or f"{errors} error(s)"
            error = f"closed: {reason}; {problem}" if reason != "finished" else problem
            status = "failed"
            logger.error("run %s failed and was rolled back: %s", self.run_id, error)
        else:
            removed = self.store.commit()
            if removed:
                # write_mode 'replace': rows the source no longer delivers are gone; count them
                # as changes so that rows_written 0 still means "the table did not change".
                logger.info("run %s removed %s rows the source no longer delivers",
                            self.run_id, f"{removed:,}")
                self.written += removed
            error, status = None, "ok"
        self.crawler.atlas_run_status = status
        self.store.finish_run(
            self.run_id, status=status, source_ids=self.source_ids, received=self.received,
            written=self.written if status == "ok" else 0, quarantined=self.quarantined,
            error=error,
        )
        logger.info(
            "run %s %s: %s rows received, %s inserted or changed, %s quarantined",
            self.run_id, status, f"{self.received:,}", f"{self.written:,}",
            f"{self.quarantined:,}",
        )
        self.store.close()
        self.store = None
