"""DSB Kommuneundersøkelsen: `scrapy crawl dsb_kommuneundersokelsen`.

dsb.no answers automated clients with a Cloudflare browser check, so this spider (and only this
one) fetches through a real browser: scrapy-playwright with Debian's chromium
(`atlas_crawl.fetch.browser`), waiting the check out as a person would. If the check still blocks, the
run fails with "blocked by a browser check at <url>", nothing is stored and `_runs` says so; a
challenge page is never parsed (`BrowserCheckMiddleware`, and the parsers refuse one too).

Flow: landing page -> one page per year -> that year's raw-data workbook, stored as its own raw
upload (`raw_files`) and as long rows (atlas_crawl.formats.dsb).

- `-a years=2024,2025` limits the years; `-a url=` starts from another landing page;
- `-s ATLAS_BROWSER=0` fetches without the browser (plain HTTP; expect the check);
  `-s ATLAS_BROWSER_CHECK_WAIT=25` is how long (s) a page may take to pass the check;
- `-s ATLAS_REPLAY=1` replays golden/dsb_kommuneundersokelsen/ (no browser needed);
- `-a file=PATH -a year=2024` reads one saved workbook.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

import scrapy

from atlas_crawl.fetch import browser
from atlas_crawl.fetch.browser_check import BrowserCheckBlocked
from atlas_crawl.formats import dsb
from atlas_crawl.formats.excel import LayoutError
from atlas_crawl.items import Batch, RawFile
from atlas_crawl.spiders import arguments
from atlas_crawl.spiders.arguments import Arg
from atlas_crawl.spiders.base import AtlasSpider


class DsbKommuneundersokelsenSpider(AtlasSpider):
    name = "dsb_kommuneundersokelsen"
    source_id = "dsb_kommuneundersokelsen"
    file_kind = "a Kommuneundersøkelsen .xlsx workbook (with -a year=)"
    allowed_domains: ClassVar[list[str]] = ["www.dsb.no", "dsb.no"]

    years = Arg("survey years to fetch, like 2024 or 2021,2024 (default: all listed)",
                arguments.parse_years)
    year = Arg("with -a file=: the survey year of the saved workbook", arguments.parse_year)
    url = Arg("another landing page listing the workbooks")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        manifest = self.manifest
        self.layout = dsb.Layout.from_manifest(manifest.extra["dsb"])
        self.landing_url = self.url or manifest.upstream_url
        if self.url:
            self.allowed_domains = [*self.allowed_domains, urlsplit(self.url).hostname or ""]

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        # The browser-check middleware is on for every spider (settings.py).
        if cls.uses_browser(settings):
            browser.enable(settings)

    @staticmethod
    def uses_browser(settings) -> bool:
        """The browser fetches live pages; replayed responses need none."""
        return settings.getbool("ATLAS_BROWSER", True) and not settings.getbool("ATLAS_REPLAY")

    def page_request(self, url: str, callback, **kwargs) -> scrapy.Request:
        settings = self.crawler.settings
        meta = {}
        if self.uses_browser(settings):
            wait = settings.getfloat("ATLAS_BROWSER_CHECK_WAIT", browser.BROWSER_CHECK_WAIT)
            meta = browser.browser_meta(wait=wait)
        return scrapy.Request(url, callback=callback, meta=meta, **kwargs)

    # -- live ---------------------------------------------------------------------------------

    async def start_live(self):
        if self.uses_browser(self.crawler.settings):
            problem = browser.missing(self.crawler.settings)
            if problem:
                self.logger.error("%s", problem)
                return
        yield self.page_request(self.landing_url, self.parse_landing)

    def ok(self, response) -> bool:
        if response.status >= 400:
            self.logger.error("HTTP %s at %s", response.status, response.url)
            return False
        return True

    def parse_landing(self, response):
        if not self.ok(response):
            return
        try:
            pages = dsb.year_pages(response.body, response.url, self.layout)
        except BrowserCheckBlocked as exc:
            self.logger.error("%s", exc)
            return
        if not pages:
            self.logger.error("layout drift: %s links no year pages matching %r", response.url,
                              self.layout.year_pattern)
            return
        wanted = [p for p in pages if self.years is None or p.year in self.years]
        self.logger.info("%s lists %s; fetching %s", response.url, [p.year for p in pages],
                         [p.year for p in wanted])
        for page in wanted:
            yield self.page_request(page.url, self.parse_year_page, cb_kwargs={"year": page.year})

    def parse_year_page(self, response, year: int):
        if not self.ok(response):
            return
        try:
            link = dsb.data_file(response.body, response.url, self.layout, year)
        except (BrowserCheckBlocked, dsb.DsbPageError) as exc:
            self.logger.error("%s", exc)
            return
        yield self.page_request(link.url, self.parse_workbook, cb_kwargs={"year": year})

    def parse_workbook(self, response, year: int):
        if not self.ok(response):
            return
        yield RawFile.from_response(response, self.source_id)
        try:
            rows, rejected = dsb.parse_workbook(response.body, year, self.layout,
                                                file=response.url)
        except (LayoutError, BrowserCheckBlocked, ValueError) as exc:
            self.logger.error("layout drift: %s", exc)
            return
        kommuner = {r[2] for r in rows}
        answered = {r[2] for r in rows if r[-1]}
        self.logger.info("%s: %d kommuner, %d answered, %d rows quarantined", response.url,
                         len(kommuner), len(answered), len(rejected))
        yield Batch(
            source_id=self.source_id, columns=list(dsb.COLUMNS), rows=rows, key=list(dsb.KEY),
            provenance=self.provenance(response), types=dict(dsb.TYPES),
            quarantine=rejected,
        )

    def parse_file(self, response):
        if self.year is None:
            self.logger.error("%s: pass the survey year with -a year=YYYY", response.url)
            return
        yield from self.parse_workbook(response, self.year)
