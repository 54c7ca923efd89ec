"""SSB Klass reference geography: `scrapy crawl ssb_klass`.

Live, by default: `codes` of 131 (kommuner), 104 (fylker), 103 (bydeler) and 1 (grunnkretser)
from 1950-01-01 with `includeFuture=true`; `changes` of 131 and 104 year by year (the changes of 1
January of year Y are asked as `from=(Y-1)-01-01&to=Y-01-02`: `to` is exclusive); and the
correspondences 104->131, 103->131 and 131->128 (sentralitet). Stored as `dim_kommune` (with
`fylke` and `sentralitet`), `dim_fylke`, `dim_bydel`, `dim_grunnkrets`, `geo_changes` and
`geo_correspondences`. The request plan, parsing and row building live in
atlas_crawl.formats.klass; this spider asks, collects the answers and yields their Batches.

Every dim row keeps Klass's own validity *within the window that was asked for*: `valid_from` /
`valid_to` are `validFromInRequestedRange` / `validToInRequestedRange`, and `window_from` /
`window_to` say what was asked, so `valid_to = window_to` means "still valid when the window
ended", not an end. A `codesAt?date=D` answer is stored as valid on that one day
(`valid_from = window_from = D`, `valid_to = window_to = D + 1 day`).

Arguments (all optional):

- `codes=131,104:2018-01-01..2020-01-02` classifications, each with an optional window
  (default `since..until`, i.e. `1950-01-01..` open); `since=`, `until=` change the default.
- `at=131:2023-03-02` also ask `codesAt` for those dates.
- `changes=131,104` and `change_years=1951-2026` (a range or a list).
- `correspondences=104>131,103>131,131>128`, each with an optional window.
- `include_future=0` leaves `includeFuture=true` out of codes and changes requests.
- `refresh_snapshot=1` rewrites the geography snapshot shipped in the package
  (`atlas_crawl/geo/data/{fylker,kommuner,changes}.csv`, or `snapshot_dir=`) from this crawl,
  only if the crawl covered the whole history (131 and 104 codes from 1950 with an open end,
  their changes for every year since) and finished without an error.
- `file=SAVED.json url=KLASS_URL`: read one saved response; the URL says what it is.

With `-s ATLAS_REPLAY=1` and no plan arguments the spider asks for exactly the Klass requests
its cassette (golden/ssb_klass/) holds, so replay fills the dims from the real captures there.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import ClassVar

import scrapy
from scrapy import signals

from atlas_crawl.fetch.replay import recorded_urls
from atlas_crawl.formats import klass
from atlas_crawl.formats.klass import BASE_URL, Ask
from atlas_crawl.geo import klass_snapshot
from atlas_crawl.geo.snapshot import DATA_DIR, KLASS_TABLES
from atlas_crawl.items import Batch, Provenance
from atlas_crawl.spiders import arguments
from atlas_crawl.spiders.arguments import Arg
from atlas_crawl.spiders.base import AtlasSpider


class SsbKlassSpider(AtlasSpider):
    name = "ssb_klass"
    source_id = "ssb_klass"
    allowed_domains: ClassVar[list[str]] = ["data.ssb.no"]

    file_url = Arg("with -a file=: the Klass URL the saved answer came from", name="url")
    base_url = Arg("another Klass API root (tests, mirrors)", default=BASE_URL)
    refresh = Arg("1 rewrites the shipped geography snapshot from this crawl",
                  arguments.parse_flag, default=False, name="refresh_snapshot")
    snapshot_dir = Arg("where -a refresh_snapshot=1 writes (default: the package's)",
                       lambda _, text: Path(text))
    include_future = Arg("0 leaves out codes valid only from a future date", arguments.parse_flag,
                         default=True)
    # The request plan (klass.plan) takes these as given (self.arguments): an empty `-a codes=`
    # asks for no codes.
    codes = Arg("classifications whose codes to fetch, like 131,104")
    at = Arg("codes valid on this day (YYYY-MM-DD) instead of the full history")
    changes = Arg("classifications whose changes to fetch, like 131,104")
    change_years = Arg("years of changes to fetch")
    correspondences = Arg("correspondences to fetch, like 104>131,103>131")
    since = Arg("history from this day (YYYY-MM-DD)")
    until = Arg("history until this day (YYYY-MM-DD)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.base_url = self.base_url.rstrip("/")
        self.plan_args = {k: v for k, v in self.arguments.items() if k in klass.PLAN_ARGS}
        self.pending = 0
        self.failed: list[str] = []
        self.collected: list[tuple[Ask, Provenance, list[dict]]] = []
        self.snapshot_tables: dict[str, list[dict]] | None = None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.write_snapshot, signal=signals.spider_closed)
        return spider

    # -- requests -----------------------------------------------------------------------------

    def asks(self) -> list[Ask]:
        if self.settings.getbool("ATLAS_REPLAY") and not self.plan_args:
            recorded = [Ask.from_url(url) for url in recorded_urls(self.settings, self.name)
                        if "/classifications/" in url]
            self.logger.info("replay: asking for the %d Klass responses the cassette holds",
                             len(recorded))
            return recorded
        return klass.plan(include_future=self.include_future, **self.plan_args)

    async def start_live(self):
        asks = self.asks()
        self.pending = len(asks)
        for ask in asks:
            yield scrapy.Request(ask.url(self.base_url), callback=self.parse_klass,
                                 errback=self.request_failed, cb_kwargs={"ask": ask},
                                 headers={"Accept": "application/json"},
                                 meta={"handle_httpstatus_all": True}, dont_filter=True)

    def parse_file(self, response):
        if not self.file_url:
            raise ValueError("ssb_klass -a file= needs -a url=<the Klass URL it came from>")
        self.pending = 1
        yield from self.parse_klass(response, Ask.from_url(self.file_url))

    # -- responses ----------------------------------------------------------------------------

    def parse_klass(self, response, ask: Ask):
        if response.status != 200:
            self.logger.error("HTTP %s for Klass %s %s (%s)", response.status, ask.kind,
                              ask.classification, response.url)
            self.failed.append(response.url)
        else:
            self.collected.append((ask, self.provenance(response),
                                   klass.read(ask, response.body)))
        self.pending -= 1
        if self.pending == 0:
            yield from self.finish()

    def request_failed(self, failure):
        request = failure.request
        self.logger.error("Klass request failed: %s (%s)", request.url, failure.value)
        self.failed.append(request.url)
        self.pending -= 1
        if self.pending == 0:
            yield from self.finish()

    # -- batches ------------------------------------------------------------------------------

    def finish(self):
        answers = [(ask, rows) for ask, _, rows in self.collected]
        sentralitet = klass.correspondence_spans(answers, "131", "128")
        bydel_kommune = klass.correspondence_spans(answers, "103", "131")
        kinds = klass_snapshot.change_kinds(answers)
        for ask, prov, rows in self.collected:
            if ask.kind in ("codes", "codesAt"):
                table = klass.DIM_TABLES.get(ask.classification)
                if table is None:
                    self.logger.warning("Klass %s codes are not stored (no dim table for it)",
                                        ask.classification)
                    continue
                yield Batch(source_id=self.source_id, table=table,
                            columns=klass.dim_columns(table), key=klass.DIM_KEY, provenance=prov,
                            rows=klass.dim_rows(table, ask, rows, sentralitet, bydel_kommune))
            elif ask.kind == "changes":
                out, quarantine = klass.change_rows(ask, rows, kinds)
                yield Batch(source_id=self.source_id, table="geo_changes",
                            columns=klass.GEO_CHANGES_COLUMNS, key=klass.GEO_CHANGES_KEY,
                            provenance=prov, rows=out, quarantine=quarantine)
            else:
                yield Batch(source_id=self.source_id, table="geo_correspondences",
                            columns=klass.GEO_CORRESPONDENCES_COLUMNS,
                            key=klass.GEO_CORRESPONDENCES_KEY, provenance=prov,
                            rows=klass.correspondence_rows(ask, rows))
        if self.refresh:
            self.snapshot_tables = self._snapshot_tables(answers)

    # -- the shipped snapshot ------------------------------------------------------------------

    def _snapshot_tables(self, answers: list[klass.Answer]) -> dict[str, list[dict]] | None:
        """The snapshot's Klass tables from this crawl, or None (with an error) if incomplete."""
        problems = klass_snapshot.snapshot_problems(answers, date.today())
        if self.failed:
            problems.append(f"{len(self.failed)} request(s) failed")
        if problems:
            self.logger.error("refresh_snapshot refused, the shipped snapshot is unchanged: %s",
                              "; ".join(problems))
            return None
        return klass_snapshot.snapshot_tables(answers, date.today())

    def write_snapshot(self, spider, reason):
        if not self.refresh or self.snapshot_tables is None:
            return
        errors = self.crawler.stats.get_value("log_count/ERROR", 0)
        if reason != "finished" or errors:
            self.logger.warning("refresh_snapshot skipped: the run ended %s with %s error(s)",
                                reason, errors)
            return
        target = self.snapshot_dir or DATA_DIR
        header = (f"Written by `scrapy crawl ssb_klass -a refresh_snapshot=1` on "
                  f"{date.today().isoformat()} from {self.base_url}\n"
                  "(codes from 1950-01-01 with an open end, changes year by year). "
                  "valid_to is exclusive.")
        problem = klass_snapshot.replace_snapshot(self.snapshot_tables, header, target)
        if problem:
            self.logger.warning("refresh_snapshot: %s; the shipped snapshot is unchanged", problem)
            return
        self.logger.info("refresh_snapshot: wrote %s", ", ".join(
            f"{target / n}.csv ({len(self.snapshot_tables[n])} rows)" for n in KLASS_TABLES))
