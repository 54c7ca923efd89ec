"""IMDi's per-kommune integration data from its CSV exports: `imdi_innvandringsgrunn`,
`imdi_landbakgrunn`.

File-only: `scrapy crawl imdi_innvandringsgrunn -a file=05-befolkning_innvandringsgrunn-kommune-2014.csv`
(`-a year=2014` when the file name carries no year). No public endpoint serving these exports
could be established from documentation: IMDi's current statistics pages (imdi.no, "tall og
statistikk" per kommune) have no documented download API, and the IMDikator backend is
undocumented. A third party explored an undocumented IMDi API in 2018
(imdifakta.azurewebsites.net/api/v1, tables befolkning_innvandringsgrunn and
befolkning_opprinnelsesland); it is not IMDi's documentation and its current state is unknown,
so it is not used. A live crawl therefore fails at once and says so.

Parsing (encoding detection, header block, thousands separators, `:`) lives in
atlas_crawl.formats.imdi_csv; kommune numbers ("101") are placed by the geography pipeline with
the export's year (manifest `places`).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from atlas_crawl.formats import imdi_csv
from atlas_crawl.spiders import arguments
from atlas_crawl.spiders.arguments import Arg
from atlas_crawl.spiders.base import AtlasSpider

NO_LIVE = ("{name} is file-only: IMDi publishes no documented endpoint for this export; "
           "download the CSV from IMDi and run `scrapy crawl {name} -a file=PATH`")


class ImdiCsvSpider(AtlasSpider):
    """One IMDi CSV family: `measure` is the dimension the export's first header row names,
    stored in the column `column`."""

    measure = ""
    column = ""

    year = Arg("the year the export describes, when its header does not say",
               arguments.parse_year)

    async def start_live(self):
        self.logger.error(NO_LIVE.format(name=self.name))
        return
        yield  # pragma: no cover

    def parse_file(self, response):
        where = unquote(urlparse(response.url).path) or response.url
        year = self.year or imdi_csv.year_from_name(Path(where).name)
        if year is None:
            self.logger.error("%s: no year in the file name; give -a year=YYYY", where)
            return
        try:
            export = imdi_csv.parse_export(response.body, where)
        except imdi_csv.ImdiCsvError as exc:
            self.logger.error("%s", exc)
            return
        if export.measure != self.measure:
            self.logger.error("%s: an export of %r, not of %r (wrong spider for this file?)",
                              where, export.measure, self.measure)
            return
        self.logger.info("%s: read as %s, %d cells from %d kommuner", where, export.encoding,
                         len(export.cells), len({c.kommune_nr for c in export.cells}))
        columns = ["year", "kommune_nr", "kommune_navn", self.column, "kjonn", "enhet", "value",
                   "status"]
        rows = ((year, c.kommune_nr, c.name, c.dimensions[self.measure],
                 c.dimensions.get("kjonn", "alle"), c.dimensions.get("enhet", ""), c.value,
                 c.status) for c in export.cells)
        yield from self.batches(response, columns, rows,
                                ["year", "kommune_nr", self.column, "kjonn", "enhet"],
                                types={"year": int, "value": int})


class ImdiInnvandringsgrunnSpider(ImdiCsvSpider):
    name = "imdi_innvandringsgrunn"
    source_id = "imdi_innvandringsgrunn"
    measure = "innvgrunn_5"
    column = "innvandringsgrunn"


class ImdiLandbakgrunnSpider(ImdiCsvSpider):
    name = "imdi_landbakgrunn"
    source_id = "imdi_landbakgrunn"
    measure = "landbakgrunn"
    column = "landbakgrunn"
