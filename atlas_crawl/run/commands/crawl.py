"""`scrapy crawl` that exits non-zero when the run failed and was rolled back.

Scrapy's own command exits 0 even when every request failed; schedulers and CI need to know.
A command line that cannot work is refused before crawling, and a failed run ends with one
closing line (see outcome.py), never with a traceback as its last word.
"""

from __future__ import annotations

import logging
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from atlas_crawl.run.commands.outcome import closing_line, database_problem, record_refused
from atlas_crawl.spiders.arguments import ArgumentError
from atlas_crawl.spiders.settings_check import SettingError


class Command(ScrapyCrawlCommand):
    def run(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        try:
            crawler = self._create_crawler(args[0])
        except KeyError as exc:  # "Spider not found: ..."
            self._refuse(f"{exc.args[0] if exc.args else exc}; `scrapy list` shows them")
            return
        # An ATLAS_DB that is no SQLite database is refused before the reactor starts; settings
        # and arguments are checked when the spider is built.
        problem = database_problem(crawler.settings.get("ATLAS_DB", ""))
        if problem:
            self._refuse_run(crawler, args[0], opts.spargs, problem)
            return
        self._bootstrap_error: str | None = None
        self._refusal: str | None = None
        started = self.crawler_process.crawl(crawler, **opts.spargs)
        if hasattr(started, "addErrback"):  # a Deferred (CrawlerProcess)
            started.addErrback(self._bootstrap_failed)
        else:  # an asyncio Task (AsyncCrawlerProcess)
            started.add_done_callback(self._task_done)
        self.crawler_process.start()
        if self._refusal:  # the spider refused its settings or arguments when it was built
            self._refuse_run(crawler, args[0], opts.spargs, self._refusal)
            return
        line = closing_line(crawler)
        if self._bootstrap_error or self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            line = f"FAILED: {self._bootstrap_error or 'the crawl could not start'}"
        elif getattr(crawler, "atlas_run_status", "ok") != "ok":
            self.exitcode = 2
        if line:
            print(line, file=sys.stderr)

    def _refuse_run(self, crawler, spider: str, spargs: dict, problem: str) -> None:
        self._refuse(problem)
        if crawler.settings.get("LOG_FILE"):  # a scrapyd job's log: the reason is there too
            logging.getLogger("atlas_crawl").error("refused: %s", problem)
        if "_job" in spargs:  # a scheduled job: nobody reads its stderr
            record_refused(crawler.settings, spider, spargs, problem)

    def _refuse(self, problem: str) -> None:
        print(f"ERROR: {problem}", file=sys.stderr)
        self.exitcode = 2

    def _bootstrap_failed(self, failure) -> None:
        self._note(failure.value)

    def _task_done(self, task) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._note(task.exception())

    def _note(self, exc: BaseException) -> None:
        lines = str(exc).splitlines()
        if isinstance(exc, ArgumentError | SettingError):
            self._refusal = lines[0] if lines else type(exc).__name__
            return
        self._bootstrap_error = lines[0] if lines else type(exc).__name__
