"""Lottstift momskompensasjon: `scrapy crawl lottstift_momskompensasjon`.

Each year's workbook is fetched from the URL its manifest entry names and read with that year's
column map (`years:` in the manifest; parsing in atlas_crawl.formats.lottstift). The open-data
page is read too: a momskompensasjon workbook there for a year the manifest does not map is
fetched and fails the run with the sheets and headers it has, so a new year is noticed and mapped
by a person, never guessed.

- `-a years=2023,2024` limits the years;
- `-a file=PATH [-a year=2023]` reads one saved workbook (the year from the file name otherwise).

Geography: the view `lottstift_momskompensasjon_brreg` joins each recipient to Brreg's
`brreg_enheter` (forretningsadresse kommune); it is (re)created after every successful run once
that table exists.
"""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import unquote

import scrapy

from atlas_crawl.formats import lottstift as lf
from atlas_crawl.formats.excel import LayoutError
from atlas_crawl.items import Batch, RawFile
from atlas_crawl.spiders import arguments
from atlas_crawl.spiders.arguments import Arg
from atlas_crawl.spiders.base import AtlasSpider

MOMS_FILE = r"(moms|mottak|tildel|sokar|soker)"


class LottstiftMomskompensasjonSpider(AtlasSpider):
    name = "lottstift_momskompensasjon"
    source_id = "lottstift_momskompensasjon"
    allowed_domains: ClassVar[list[str]] = ["lottstift.no"]

    years = Arg("years to fetch, like 2024 or 2019-2024 (default: every mapped year)",
                arguments.parse_years)
    year = Arg("with -a file=: the data year of the saved workbook", arguments.parse_year)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        manifest = self.manifest
        self.maps = lf.year_maps(manifest.extra.get("years"),
                                 where=f"{manifest.path.name}: years")
        self.deferred = {int(y) for y in (manifest.extra.get("deferred_years") or {})}
        self.listing_url = manifest.upstream_url

    # -- live ---------------------------------------------------------------------------------

    async def start_live(self):
        for year, ymap in sorted(self.maps.items()):
            if self.years is None or year in self.years:
                yield scrapy.Request(ymap.url, callback=self.parse_workbook,
                                     cb_kwargs={"year": year})
        if self.years is None:
            yield scrapy.Request(self.listing_url, callback=self.parse_listing)

    def parse_listing(self, response):
        """Workbooks on the open-data page that the manifest does not know."""
        known = {m.url for m in self.maps.values()}
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href)
            name = unquote(url.rsplit("/", 1)[-1]).lower()
            if not name.endswith(".xlsx") or url in known:
                continue
            if not re.search(MOMS_FILE, name):
                continue
            year = lf.year_from_name(name)
            if year is None or year in self.deferred:
                continue
            if year in self.maps:
                self.logger.warning("%s links %s for %d; the manifest reads %s", response.url,
                                    url, year, self.maps[year].url)
                continue
            self.logger.info("%s links a workbook for %d, which the manifest does not map: %s",
                             response.url, year, url)
            yield scrapy.Request(url, callback=self.parse_workbook, cb_kwargs={"year": year})

    def parse_workbook(self, response, year: int):
        yield RawFile.from_response(response, self.source_id)
        try:
            grants, rejected = lf.parse_workbook(response.body, year, self.maps,
                                                 file=response.url)
        except LayoutError as exc:
            # Logged as an error: the run is rolled back and the previous data stays.
            self.logger.error("layout drift: %s", exc)
            return
        self.logger.info("%s: %d recipients from %d cases (%d rows quarantined)", response.url,
                         len(grants), sum(g.cases for g in grants), len(rejected))
        yield Batch(
            source_id=self.source_id, columns=list(lf.COLUMNS), rows=[g.row() for g in grants],
            key=list(lf.KEY), provenance=self.provenance(response), types=dict(lf.TYPES),
            quarantine=rejected,
        )

    def parse_file(self, response):
        year = self.year or lf.year_from_name(response.url)
        if year is None:
            self.logger.error("%s: cannot tell the year from the file name; pass -a year=YYYY",
                              response.url)
            return
        yield from self.parse_workbook(response, year)
