"""FHI Statistikkbank: `scrapy crawl fhi_table -a source=nokkel -a table=338`, and a named spider
per curated table (`fhi_befolkning`, `fhi_selvmord`, ...; see atlas_crawl/manifests/fhi_*.yml).

A crawl reads the table's `/query` answer (every dimension and category), then POSTs typed
JSON bodies to `/data`: every dimension with `all` / `*`, a large table a few years per call.
`-a newest=N` keeps the N newest years (FHI's filter `bottom`; FHI's `top` would be the oldest).
`-a file=ANSWER.json` stores one saved JSON-stat answer. Parsing lives in atlas_crawl.formats.fhi.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import scrapy

from atlas_crawl.formats import fhi
from atlas_crawl.items import RawFile
from atlas_crawl.manifests import Dimension, Manifest, Place, all_manifests, register
from atlas_crawl.spiders import arguments
from atlas_crawl.spiders.arguments import Arg
from atlas_crawl.spiders.base import AtlasSpider, spiders_from_manifests

REGION_DIMENSION = "geo"


class FhiTableSpider(AtlasSpider):
    """Any FHI table. Named subclasses below fix `fhi_source` and `table_id` from their manifest."""

    name = "fhi_table"
    provider = "fhi"
    allowed_domains: ClassVar[list[str]] = ["statistikk-data.fhi.no"]

    fhi_source = Arg("FHI source id, e.g. nokkel (fhi_table only)", name="source", default="")
    table_id = Arg("FHI table number (fhi_table only)", name="table", default="")
    newest = Arg("N: only the newest N periods (FHI's 'bottom' filter)", arguments.parse_int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not (self.fhi_source and self.table_id) and not self.file:
            raise ValueError("fhi_table needs -a source=<id> -a table=<n> (e.g. nokkel, 338) "
                             "or -a file=<saved answer>")
        if not self.source_id:
            self.source_id = f"fhi_{self.fhi_source or 'file'}_{self.table_id or 'table'}"
        self.calls = 0

    async def start_live(self):
        yield scrapy.Request(fhi.table_url(self.fhi_source, self.table_id, "query"),
                             callback=self.parse_query)

    def parse_query(self, response):
        yield RawFile.from_response(response, self.source_id)
        dimensions = fhi.query_dimensions(response.body, where=response.url)
        bodies = fhi.data_bodies(dimensions, newest=self.newest)
        self.calls = len(bodies)
        self.logger.info("%s/%s: %s; %d data call(s)", self.fhi_source, self.table_id,
                         ", ".join(f"{k} {len(v)}" for k, v in dimensions.items()), len(bodies))
        for n, body in enumerate(bodies, 1):
            yield scrapy.Request(
                fhi.table_url(self.fhi_source, self.table_id, "data"), method="POST",
                body=json.dumps(body, ensure_ascii=False),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                callback=self.parse_data, cb_kwargs={"call": n}, dont_filter=True)

    def parse_data(self, response, call: int = 1):
        yield RawFile.from_response(response, self.source_id)
        self.logger.info("%s/%s: data call %d of %d", self.fhi_source, self.table_id, call,
                         self.calls)
        yield from self.answer_batches(response)

    def parse_file(self, response):
        yield from self.answer_batches(response)

    def answer_batches(self, response):
        dataset = fhi.dataset(response.body, where=response.url)
        derived = fhi.period_columns(dataset.key)
        columns = dataset.narrow_columns(derived)  # codes, periode, value, status
        ensure_manifest(self.source_id, self.fhi_source, self.table_id, columns)
        yield from self.jsonstat_batches(response, dataset, derived)


def ensure_manifest(source_id: str, fhi_source: str, table_id: str,
                    columns: list[str]) -> Manifest:
    """The table's manifest; for a table named only on the command line, a minimal one."""
    known = all_manifests().get(source_id)
    if known:
        return known
    manifest = Manifest(
        path=Path(f"<runtime:{source_id}>"), source_id=source_id, upstream_id=table_id,
        upstream_url=fhi.table_url(fhi_source, table_id),
        upstream_title=f"FHI {fhi_source} table {table_id}",
        description=f"FHI table {fhi_source}/{table_id}, fetched by name without a curated "
                    "manifest.",
        publisher="Folkehelseinstituttet", license="NLOD 2.0",
        license_url="https://data.norge.no/nlod/no/2.0", periodicity="irregular",
        eu_theme="HEAL", attribution=f"Kilde: Folkehelseinstituttet, tabell {table_id}",
        tags={"provider": "fhi", "topic": "health", "geo": "kommune", "cadence": "irregular"},
        dimensions=tuple(Dimension(c, c) for c in columns if not c.endswith("_label")),
        presentation_policy="standard", methodology_version="unversioned",
        places=(Place(REGION_DIMENSION, on="periode", unplaced="keep"),)
        if REGION_DIMENSION in columns else (),
    )
    register(manifest)
    return manifest


def _named_table(manifest: Manifest) -> tuple[str, dict]:
    cfg = manifest.extra["fhi"] or {}
    source, table = cfg.get("source"), cfg.get("table")
    if not isinstance(source, str) or not str(table or "").isdigit():
        raise ValueError(f"{manifest.path}: field 'fhi': needs source (e.g. nokkel) and a "
                         f"table number, found {cfg!r}")
    return f"Fhi{table}Spider", {
        "fhi_source": source, "table_id": str(table),
        "__doc__": f"FHI table {source}/{table}: {manifest.upstream_title}"}


spiders_from_manifests(globals(), "fhi", FhiTableSpider, _named_table)
