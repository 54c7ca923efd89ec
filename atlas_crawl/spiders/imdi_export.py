"""IMDi's integration statistics from its CSV exports: one spider per kind of export, made from
the manifests that carry an `imdi_export` block (atlas_crawl/manifests/imdi_*.yml), e.g.
`imdi_bosatt_anmodede` (refugees requested, decided and settled), `imdi_grunnskolepoeng`,
`imdi_vedvarende_lavinntekt`, `imdi_befolkning_hovedgruppe` (1987-2015).

File-only: `scrapy crawl imdi_bosatt_anmodede -a file=09_1-bosatt_anmodede-kommune-2014.csv`, or
`-a file=EXPORTS.zip`, a zip of several exports of the kind (kommune and bydel, several years):
one file argument, so the saved input is archived, hashed and replayed like any other, and all
years of a series land in one run. The year (or pooled period, `2011_2013`) and the geography
come from each export's file name (`<kind>-kommune-2014.csv`), as IMDi named them. IMDi
publishes no documented endpoint for these exports (see atlas_crawl/spiders/imdi_csv.py), so a
live crawl fails at once and says so.

Every export becomes long rows: period, which export (kommune or bydel), the place (code with
its leading zero restored, and name), IMDi's variable, breakdowns and unit, the value and its
status. Parsing lives in atlas_crawl.formats.imdi_export; codes are placed by the geography
pipeline with the row's year (the population series is on each year's kommune codes).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from atlas_crawl.formats import imdi_export
from atlas_crawl.manifests import Manifest, ManifestError
from atlas_crawl.spiders.base import AtlasSpider, spiders_from_manifests

COLUMNS = ["year", "periode", "inndeling", "region", "region_navn", "variabel", "nedbrytning",
           "enhet", "value", "status"]
KEY = ["periode", "inndeling", "region", "variabel", "nedbrytning", "enhet"]
NO_LIVE = ("{name} is file-only: IMDi publishes no documented endpoint for its integration "
           "exports; run `scrapy crawl {name} -a file=PATH` with an export (or a zip of them)")


class ImdiExportSpider(AtlasSpider):
    """One kind of IMDi export. Named subclasses below fix the kind from their manifest."""

    kinds: tuple[str, ...] = ()  # file-name kinds, e.g. ("09_1-bosatt_anmodede",)
    units: tuple[str, ...] = ()  # keep only these units; empty: all
    drop_empty_places = False  # a place with no value but 0 is a code not in use that year
    value_type: type = float
    file_kind = "an IMDi CSV export (<kind>-kommune-YYYY.csv or -bydel-YYYY.csv) or a zip of them"

    async def start_live(self):
        self.logger.error(NO_LIVE.format(name=self.name))
        return
        yield  # pragma: no cover

    def parse_file(self, response):
        where = Path(unquote(urlparse(response.url).path) or response.url).name
        rows: list[tuple] = []
        for name, data in imdi_export.export_files(response.body, where):
            rows.extend(self.rows_of(name, data))
        yield from self.batches(response, COLUMNS, rows, KEY,
                                types={"year": int, "value": self.value_type})

    def rows_of(self, name: str, data: bytes) -> list[tuple]:
        meta = imdi_export.parse_name(name.rsplit("!", 1)[-1])
        if meta is None:
            raise imdi_export.ImdiExportError(
                f"{name}: not an IMDi export file name; expected <kind>-kommune-YYYY.csv or "
                f"<kind>-bydel-YYYY.csv (the year, or a period YYYY_YYYY, is taken from it)")
        if meta.kind not in self.kinds:
            raise imdi_export.ImdiExportError(
                f"{name}: an export of kind {meta.kind!r}; {self.name} reads "
                f"{', '.join(repr(k) for k in self.kinds)} (wrong spider for this file?)")
        export = imdi_export.read_export(data, name)
        if export.geography != meta.geography:
            raise imdi_export.ImdiExportError(
                f"{name}: the name says {meta.geography}, the header has "
                f"{export.geography}_nr")
        kept = [r for r in export.rows if not self.units or r.column.unit in self.units]
        dropped: set[str] = set()
        if self.drop_empty_places:
            used = {r.code for r in kept if r.value}
            dropped = {r.code for r in kept} - used
            kept = [r for r in kept if r.code in used]
        self.logger.info("%s: read as %s, %d header rows, %d cells from %d places%s", name,
                         export.encoding, export.header_rows, len(kept),
                         len({r.code for r in kept}),
                         f"; {len(dropped)} codes with no inhabitants that year left out"
                         if dropped else "")
        year, period, geography = meta.last_year, meta.period, meta.geography
        cast = self.value_type
        return [(year, period, geography, r.code, r.name, r.column.variable,
                 r.column.breakdown, r.column.unit,
                 None if r.value is None else cast(r.value), r.status) for r in kept]


def _named_kind(manifest: Manifest) -> tuple[str, dict]:
    cfg = manifest.extra["imdi_export"] or {}
    kinds = cfg.get("kinds")
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        raise ManifestError(f"{manifest.path}: field 'imdi_export.kinds': a list of export "
                            f"kinds such as 09_1-bosatt_anmodede, found {kinds!r}")
    value_type = {"integer": int, "number": float}.get(cfg.get("value_type", "number"))
    if value_type is None:
        raise ManifestError(f"{manifest.path}: field 'imdi_export.value_type': integer or "
                            f"number, found {cfg.get('value_type')!r}")
    camel = "".join(part.title() for part in manifest.source_id.split("_"))
    return f"{camel}Spider", {
        "kinds": tuple(kinds), "units": tuple(cfg.get("units") or ()),
        "drop_empty_places": bool(cfg.get("drop_empty_places", False)),
        "value_type": value_type,
        "__doc__": f"IMDi export {', '.join(kinds)}: {manifest.upstream_title}",
    }


spiders_from_manifests(globals(), "imdi_export", ImdiExportSpider, _named_kind)
