"""NAV's monthly kommune workbooks: `scrapy crawl nav_uforetrygd | nav_aap | nav_helt_ledige`.

Landing page -> the table's one .xlsx link (rediscovered on every run: its hash changes with
each release; PST302's link is only inside the page's __NEXT_DATA__ JSON) -> the workbook.
`-a file=WORKBOOK.xlsx` reads a saved workbook. Parsing lives in atlas_crawl.formats.nav.
"""

from __future__ import annotations

from typing import ClassVar

import scrapy

from atlas_crawl.formats import nav
from atlas_crawl.formats.excel import LayoutError
from atlas_crawl.items import RawFile
from atlas_crawl.spiders.base import AtlasSpider

COLUMNS = ["region", "region_code", "region_name", "level", "aggregate", "place", "measure",
           "period", "value", "status"]
KEY = ["region", "measure", "period"]
TYPES = {"aggregate": int, "value": float}


def place_of(row: nav.NavRow) -> str:
    """What the geography pipeline places for a row, as NAV published it: the code when the label
    has one, else the name ("Telemark" of the rollup "I alt Telemark", placed as a fylke by the
    row's level; "Ukjent", NAV's unknown bucket). NAV's own group codes (99 "Øvrige områder")
    are handed over by their name, not as Klass's code 99."""
    code = row.region_code
    if (code, (row.region_name or "").casefold()) in nav.NAV_GROUP_CODES:
        code = None
    return code or row.region_name or row.region


class NavMonthlySpider(AtlasSpider):
    """One NAV table: subclasses set `upstream_id` and `landing_url`."""

    upstream_id = ""
    landing_url = ""
    allowed_domains: ClassVar[list[str]] = ["www.nav.no"]
    reads = "an Excel workbook (.xlsx) of NAV's monthly statistics, such as HL060"

    async def start_live(self):
        yield scrapy.Request(self.landing_url, callback=self.parse_landing)

    def parse_landing(self, response):
        yield RawFile.from_response(response, self.source_id)
        try:
            url = nav.pick_workbook_link(response.body, self.upstream_id,
                                         source=response.url)
        except nav.LinkError as exc:
            self.logger.error("%s", exc)
            return
        self.logger.info("%s workbook: %s", self.upstream_id, url)
        yield scrapy.Request(url, callback=self.parse_workbook)

    def parse_workbook(self, response):
        yield RawFile.from_response(response, self.source_id)
        name = response.url.rsplit("/", 1)[-1]
        try:
            rows = nav.parse_workbook(response.body, self.upstream_id, file=name)
        except LayoutError as exc:
            self.logger.error("layout drift: %s", exc)
            return
        periods = sorted({r.period for r in rows})
        self.logger.info("%s: %d cells, %d regions, periods %s", self.upstream_id, len(rows),
                         len({r.region for r in rows}), ", ".join(periods))
        yield from self.batches(
            response, COLUMNS,
            ((r.region, r.region_code, r.region_name, r.level, int(r.aggregate), place_of(r),
              r.measure, r.period, r.value, r.status) for r in rows),
            KEY, types=TYPES,
        )

    def parse_file(self, response):
        yield from self.parse_workbook(response)


class NavUforetrygdSpider(NavMonthlySpider):
    name = "nav_uforetrygd"
    source_id = "nav_uforetrygd"
    upstream_id = "PST302"
    landing_url = ("https://www.nav.no/no/nav-og-samfunn/statistikk/"
                   "aap-nedsatt-arbeidsevne-og-uforetrygd-statistikk/uforetrygd/"
                   "uforetrygd-manedsstatistikk")


class NavAapSpider(NavMonthlySpider):
    name = "nav_aap"
    source_id = "nav_aap"
    upstream_id = "AAP155"
    landing_url = ("https://www.nav.no/no/nav-og-samfunn/statistikk/"
                   "aap-nedsatt-arbeidsevne-og-uforetrygd-statistikk/arbeidsavklaringspenger")


class NavHeltLedigeSpider(NavMonthlySpider):
    name = "nav_helt_ledige"
    source_id = "nav_helt_ledige"
    upstream_id = "HL060"
    landing_url = ("https://www.nav.no/no/nav-og-samfunn/statistikk/"
                   "arbeidssokere-og-stillinger-statistikk/helt-ledige")
