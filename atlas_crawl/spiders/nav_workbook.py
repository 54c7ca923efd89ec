"""NAV's delivered monthly workbooks: `scrapy crawl nav_workbook -a file=WORKBOOK.xlsx`.

NAV generates these per fylke and month and delivers them; they are not published for download,
so there is no live crawl. The layout of every sheet is recognised by its headers
(atlas_crawl.formats.nav_workbook) and its rows go to the table of that layout:
nav_ledighet_maned, nav_arbeidssokere_yrke, nav_stillinger_yrke, nav_nedsatt_arbeidsevne.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from atlas_crawl.formats import nav, nav_workbook
from atlas_crawl.formats.excel import LayoutError
from atlas_crawl.items import RawFile
from atlas_crawl.spiders.base import AtlasSpider

LEAD = ["area", "level", "fylke", "region", "region_code", "region_name", "place", "period"]
TAIL = ["measure", "value", "status"]
TYPES = {"value": float}


def columns(layout: nav_workbook.Layout) -> list[str]:
    return [*LEAD, *layout.dimensions, *TAIL]


def key(layout: nav_workbook.Layout) -> list[str]:
    # The region cell as written ("01 Østfold", "31 Østfold", "Bamble"): its code when it has
    # one, so a fylke under its old and its current code is two rows, not a clash of names.
    return ["area", "region", "period", *layout.dimensions, "measure"]


def row(r: nav_workbook.WorkbookRow) -> tuple:
    # The place as published: the code when the cell has one, else the name, which the geography
    # pipeline places by the row's level (a bare "Oslo" on a Fylker sheet is the fylke, not the
    # kommune of that name) and the sheet's fylke.
    return (r.area, r.level, r.fylke, r.region, r.region_code, r.region_name,
            r.region_code or r.region_name or r.region,
            r.period, *r.dimensions, r.measure, r.value, r.status)


# NAV's public monthly workbooks (formats.nav.public_table_of) and the spiders that read them.
PUBLIC = {"PST302": "nav_uforetrygd", "AAP155": "nav_aap", "HL060": "nav_helt_ledige"}


class NavWorkbookSpider(AtlasSpider):
    name = "nav_workbook"
    source_id = "nav_ledighet_maned"  # raw file provenance; each table has its own manifest
    file_kind = "a workbook NAV delivers per fylke (ledighet og stillinger, nedsatt arbeidsevne)"

    async def start_live(self):
        self.logger.error("nav_workbook reads a workbook NAV delivered (they are not published "
                          "for download): give -a file=WORKBOOK.xlsx")
        return
        yield  # pragma: no cover

    def parse_file(self, response):
        name = unquote(PurePosixPath(urlsplit(response.url).path).name)
        try:
            tables = nav_workbook.parse_workbook(response.body, file=name)
        except LayoutError as exc:
            public = nav.public_table_of(response.body)
            spider = PUBLIC.get(public or "")
            self.logger.error("%s%s", exc, f" (this is NAV's public {public} workbook: read it "
                              f"with scrapy crawl {spider} -a file=)" if spider else "")
            return
        for table, rows in tables.items():
            layout = nav_workbook.TABLES[table]
            periods = sorted({r.period for r in rows})
            self.logger.info("%s: %s: %d values from %d sheet(s), periods %s", name, table,
                             len(rows), len({r.sheet for r in rows}), ", ".join(periods))
            yield RawFile.from_response(response, table)
            yield from self.batches(response, columns(layout), map(row, rows), key(layout),
                                    source_id=table, types=TYPES)
