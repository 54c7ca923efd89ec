"""IMDi bosettingstall: `scrapy crawl imdi_bosetting` (hub -> one page per year).

`-a years=2025,2026` limits the years; `-a file=PAGE.html [-a year=2025]` reads one saved page.
Parsing lives in atlas_crawl.formats.imdi. The spider hands over each name as IMDi wrote it, with
the fylke heading it sits under and the row's level; the geography pipeline places it in the
geography of the page's year (manifest `places`).
"""

from __future__ import annotations

from typing import ClassVar

import scrapy

from atlas_crawl.formats import imdi
from atlas_crawl.items import RawFile
from atlas_crawl.spiders import arguments
from atlas_crawl.spiders.base import AtlasSpider

COLUMNS = ["year", "level", "name", "listed_under", "place", "metric", "value", "status"]
KEY = ["year", "level", "name", "metric"]
TYPES = {"year": int, "value": int}


def parse_years(text: str) -> set[int]:
    return arguments.parse_years("years", text)


class ImdiBosettingSpider(AtlasSpider):
    name = "imdi_bosetting"
    source_id = "imdi_bosetting"
    allowed_domains: ClassVar[list[str]] = ["www.imdi.no"]
    hub_url = imdi.HUB_URL

    spider_args: ClassVar[dict[str, str]] = {
        "years": "years of the hub's pages, like 2025,2026 or 2020-2026 (default: all)",
        "year": "with -a file=: the year the saved page is for",
    }

    def __init__(self, *args, years: str = "", year: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.years = parse_years(years) if years else None
        self.year = min(arguments.parse_years("year", year)) if year else None


    async def start_live(self):
        yield scrapy.Request(self.hub_url, callback=self.parse_hub)

    def parse_hub(self, response):
        yield RawFile.from_response(response, self.source_id)
        pages = imdi.parse_hub(response.body, base_url=response.url)
        if not pages:
            self.logger.error("layout drift: %s has no links to nokkeltall-bosetting-<YYYY>/",
                              response.url)
            return
        wanted = [p for p in pages if self.years is None or p.year in self.years]
        self.logger.info("hub lists %s; fetching %s", [p.year for p in pages],
                         [p.year for p in wanted])
        for page in wanted:
            yield scrapy.Request(page.url, callback=self.parse_year, cb_kwargs={"year": page.year})

    def parse_year(self, response, year: int | None = None):
        yield RawFile.from_response(response, self.source_id)
        try:
            rows = imdi.parse_year_page(response.body, year=year, url=response.url)
        except imdi.ImdiLayoutError as exc:
            # Logged as an error, the run is rolled back and the previous data stays.
            self.logger.error("layout drift: %s", exc)
            return
        self.logger.info("%s: %d cells from %d kommuner", response.url, len(rows),
                         len({r.name for r in rows if r.level == "kommune"}))
        yield from self.batches(
            response, COLUMNS,
            ((r.year, r.level, r.name, r.group, r.name, r.metric, r.value, r.status)
             for r in rows),
            KEY, types=TYPES,
        )

    def parse_file(self, response):
        yield from self.parse_year(response, year=self.year)
