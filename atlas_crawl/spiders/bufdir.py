"""Bufdir kommunemonitors: `scrapy crawl bufdir_barnefattigdom`, `scrapy crawl bufdir_barnevern`.

Each run reads the monitor page, discovers the ZIP of indicator workbooks by the shape of its
link (atlas_crawl.formats.bufdir.choose_zip: a known name, else the single unnamed candidate;
several candidates fail the run, listed), downloads it, and parses every workbook in it. The run
says how many workbooks it parsed out of how many; a workbook whose layout is not recognised is
named in the run's errors, which fails the run (the previous data stays).

`-a file=PATH` reads a saved ZIP, or one saved workbook.
"""

from __future__ import annotations

from pathlib import Path

import scrapy

from atlas_crawl.formats import bufdir
from atlas_crawl.formats.brreg import parse_last_modified
from atlas_crawl.formats.excel import LayoutError
from atlas_crawl.items import Batch, RawFile
from atlas_crawl.spiders.base import AtlasSpider


def header(response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value is not None else None


class BufdirMonitorSpider(AtlasSpider):
    name = "bufdir_barnefattigdom"
    source_id = "bufdir_barnefattigdom"
    file_kind = "the monitor's ZIP of workbooks, or one of its .xlsx workbooks"
    monitor = bufdir.MONITORS["barnefattigdom"]
    # No allowed_domains: the ZIP lives on a CMS host Bufdir has said may move.

    @property
    def indicator_table(self) -> str:
        return f"{self.source_id}_indikatorer"

    async def start_live(self):
        yield scrapy.Request(self.monitor.page_url, callback=self.parse_page,
                             errback=self.request_failed)

    def request_failed(self, failure) -> None:
        response = getattr(failure.value, "response", None)
        status = (f"HTTP {response.status}" if hasattr(response, "status")
                  else f"{type(failure.value).__name__}: {failure.value}")
        self.logger.error("%s: %s failed: %s", self.name, failure.request.url, status)

    def parse_page(self, response):
        yield RawFile.from_response(response, self.source_id)
        try:
            choice = bufdir.choose_zip(response.text, response.url, self.monitor)
        except bufdir.BufdirError as exc:
            self.logger.error("%s: %s", self.name, exc)
            return
        log = self.logger.info if choice.tier == "known name" else self.logger.warning
        log("%s: ZIP %s (%s; %d ZIP link(s) on the page)", self.name, choice.url, choice.tier,
            len(choice.candidates))
        yield scrapy.Request(choice.url, callback=self.parse_zip, errback=self.request_failed,
                             meta={"tier": choice.tier})

    def parse_zip(self, response):
        try:
            bufdir.check_zip(response.body, header(response, "Content-Type"), response.url)
        except bufdir.BufdirError as exc:
            self.logger.error("%s: %s", self.name, exc)
            return
        yield RawFile.from_response(response, self.source_id)
        yield from self.bundle_batches(response)

    def parse_file(self, response):
        if Path(response.url).suffix.lower() == ".xlsx":
            file = bufdir.file_name(response.url)
            try:
                book = bufdir.parse_workbook(response.body, file, self.monitor)
            except LayoutError as exc:
                self.logger.error("%s: %s is not a %s workbook: %s", self.name, file,
                                  self.monitor.name, exc)
                return
            yield from self.workbook_batches(response, [book])
            return
        yield from self.parse_zip(response)

    def bundle_batches(self, response):
        try:
            bundle = bufdir.read_bundle(response.body, self.monitor, name=response.url)
        except bufdir.BufdirError as exc:
            self.logger.error("%s: %s", self.name, exc)
            return
        for entry, why in bundle.not_workbooks:
            self.logger.info("%s: %s ignored (%s)", self.name, entry, why)
        for file, why in bundle.other_layouts:
            self.logger.warning("%s: %s skipped: %s", self.name, file, why)
        yield from self.workbook_batches(response, bundle.parsed)
        summary = f"{self.name}: {bundle.summary()} in {response.url}"
        if bundle.failed:
            self.logger.error(summary)
            for file, why in bundle.failed:
                self.logger.error("%s: %s not recognised: %s", self.name, file, why)
        elif not bundle.parsed:
            self.logger.error("%s (the ZIP holds no %s workbook)", summary, self.monitor.name)
        else:
            self.logger.info(summary)

    def workbook_batches(self, response, books: list[bufdir.Workbook]):
        provenance = self.provenance(response)
        modified = parse_last_modified(header(response, "Last-Modified"))
        rows = []
        for book in books:
            unknown = sorted(set(book.tallformats) - self.monitor.tallformats)
            if unknown:
                self.logger.warning("%s: %s has Tallformat %s beside the known %s; kept as "
                                    "written", self.name, book.file, unknown,
                                    sorted(self.monitor.tallformats))
            self.logger.info("%s: %s (indicator %s): %d values, %d blank cells, %d note rows",
                             self.name, book.file, book.indicator, len(book.rows),
                             book.blank_cells, book.note_rows)
            rows.append(bufdir.indicator_row(book, response.url, modified))
            yield from Batch.chunked(
                book.rows, source_id=self.source_id, columns=self.monitor.columns,
                key=self.monitor.key, provenance=provenance,
                types={"year": int, "value": float})
        if rows:
            yield Batch(source_id=self.source_id, table=self.indicator_table,
                        columns=bufdir.INDICATOR_COLUMNS, rows=rows, key=["indicator"],
                        provenance=provenance, types=bufdir.INDICATOR_TYPES)


class BufdirBarnevernSpider(BufdirMonitorSpider):
    name = "bufdir_barnevern"
    source_id = "bufdir_barnevern"
    monitor = bufdir.MONITORS["barnevern"]
