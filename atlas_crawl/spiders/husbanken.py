"""Husbanken bostøtte from the statistikkbank's Qlik engine: `scrapy crawl husbanken_bostotte`.

Flow: the dashboard's `deployconfig/config.js` (an ordinary Scrapy request) names the engine and
the app -> a WebSocket session to the Qlik engine, awaited inside the crawl (asyncio reactor):
`OpenDoc` -> `CreateSessionObject` (hypercube KommuneNr x År, five labelled measures, from the
manifest) -> `GetLayout` (size only) -> `GetHyperCubeData` in 1,000-row pages. A page the engine
finds too large (error 7009) is split in two and asked again.

- `-s ATLAS_REPLAY=1` answers the WebSocket calls from `golden/<spider>/qlik_exchange.json` (and
  config.js from the usual HTTP cassette); `-s ATLAS_RECORD=1` writes them there.
- `-a engine_url=wss://.../app/<id>` skips discovery; `-a page_rows=500` pages smaller.
- `-a file=PATH` reads a saved GetLayout / GetHyperCubeData answer (e.g. Husbanken's sample).

The view `husbanken_bostotte_kommune` gives kommune totals with Oslo whole (its bydel codes
0311-0326 added to 0301); it is refreshed after every successful run.
"""

from __future__ import annotations

import asyncio
import json
from typing import ClassVar

import scrapy

from atlas_crawl.fetch import qlik
from atlas_crawl.formats import hypercube as qf
from atlas_crawl.items import Batch, Provenance, RawFile, sha256_of, utc_now
from atlas_crawl.spiders import arguments
from atlas_crawl.spiders.arguments import Arg
from atlas_crawl.spiders.base import AtlasSpider

TYPES = {"year": int, "value": int}


class CubeLayoutError(ValueError):
    """The engine's cube is not the one the manifest asks for."""


class HusbankenBostotteSpider(AtlasSpider):
    name = "husbanken_bostotte"
    source_id = "husbanken_bostotte"
    allowed_domains: ClassVar[list[str]] = ["statistikk.husbanken.no", "qlik.husbanken.no"]

    engine_url = Arg("wss://.../app/<id>: the Qlik engine, skipping discovery", default="")
    app_id = Arg("another Qlik app id (default: the manifest's)")
    page_rows = Arg("rows per GetHyperCubeData page (default 1000)", arguments.parse_int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cfg = self.manifest.extra["qlik"]
        self.config_url = cfg["config_url"]
        self.default_engine_url = cfg["engine_url"]
        self.app_id = self.app_id or cfg["app_id"]
        self.page_rows = self.page_rows or arguments.parse_int(
            "page_rows", cfg.get("page_rows", qf.PAGE_ROWS))
        self.dimensions = list(cfg["dimensions"])
        self.measures = [qf.Measure(m["label"], m["expression"], m.get("unit", ""))
                         for m in cfg["measures"]]
        self.pages_fetched = 0


    # -- live ---------------------------------------------------------------------------------

    async def start_live(self):
        if self.engine_url:
            async for item in self.fetch_cube(self.engine_url, self.app_id):
                yield item
            return
        yield scrapy.Request(self.config_url, callback=self.parse_config)

    async def parse_config(self, response):
        qlik_url, app_id = qf.parse_deploy_config(response.text)
        if qlik_url and app_id:
            url = qf.engine_url(qlik_url, app_id)
            if app_id != self.app_id:
                self.logger.warning("config.js names app %s, the manifest %s: using %s",
                                    app_id, self.app_id, app_id)
        else:
            url, app_id = self.default_engine_url, self.app_id
            self.logger.warning("%s names no qlikUrl/qlikAppId; falling back to the manifest's "
                                "engine %s", response.url, url)
        async for item in self.fetch_cube(url, app_id):
            yield item

    def connection(self, url: str):
        return qlik.connection_for_crawl(url, self.crawler.settings, self.name)

    async def fetch_cube(self, url: str, app_id: str):
        settings = self.crawler.settings
        live = not settings.getbool("ATLAS_REPLAY")
        delay = settings.getfloat("DOWNLOAD_DELAY") if live else 0.0
        definition = qf.hypercube_definition(self.dimensions, self.measures)
        try:
            async with self.connection(url) as connection:
                session = qlik.QlikSession(connection)
                doc = await session.open_doc(app_id)
                cube = await session.create_session_object(doc, definition)
                layout = await session.get_layout(cube)
                self.check_layout(url, layout)
                width, height = qf.cube_size(layout)
                plan = qf.page_plan(height, width, self.page_rows)
                self.logger.info("%s: cube of %s rows x %d columns in %d page(s) of %d rows",
                                 url, f"{height:,}", width, len(plan), self.page_rows)
                queue = list(plan)
                while queue:
                    area = queue.pop(0)
                    if self.pages_fetched and delay:
                        await asyncio.sleep(delay)
                    try:
                        pages = await session.get_hypercube_data(cube, [area])
                    except qlik.QlikError as exc:
                        if exc.code == 7009 and area["qHeight"] > 1:
                            half = area["qHeight"] // 2
                            self.logger.warning("%s; asking for the page in two halves", exc)
                            queue[:0] = [dict(area, qHeight=half),
                                         dict(area, qTop=area["qTop"] + half,
                                              qHeight=area["qHeight"] - half)]
                            continue
                        raise
                    self.pages_fetched += 1
                    got = sum(len(p.get("qMatrix", [])) for p in pages)
                    if got != area["qHeight"]:
                        raise CubeLayoutError(f"{url}: page at row {area['qTop']} has {got} rows, "
                                              f"asked for {area['qHeight']}")
                    self.logger.info("%s: rows %d-%d fetched (%d calls)", url, area["qTop"],
                                     area["qTop"] + got - 1, session.calls)
                    for item in self.page_items(url, area, {"qDataPages": pages}):
                        yield item
        except qlik.NotRecorded:
            self.crawler.stats.inc_value("atlas/replay/not_recorded")
            raise

    def check_layout(self, url: str, layout: dict) -> None:
        titles = qf.column_titles(layout)
        wanted = [*self.dimensions, *(m.label for m in self.measures)]
        if titles and titles != wanted:
            raise CubeLayoutError(f"{url}: the engine's cube has columns {titles}, "
                                  f"expected {wanted} (manifest {self.source_id}.yml, qlik:)")

    def page_items(self, url: str, area: dict, answer: dict):
        body = json.dumps(answer, sort_keys=True, ensure_ascii=False).encode("utf-8")
        page_url = f"{url}#GetHyperCubeData?qTop={area['qTop']}&qHeight={area['qHeight']}"
        fetched = utc_now()
        yield RawFile(source_id=self.source_id, url=page_url, body=body,
                      sha256=sha256_of(body), fetched_at=fetched,
                      content_type="application/json")
        yield from self.cube_batches(Provenance.of(page_url, body, fetched), answer)

    # -- rows ---------------------------------------------------------------------------------

    def cube_batches(self, provenance: Provenance, answer):
        rows, rejected = qf.bostotte_rows(qf.data_pages(answer), self.measures)
        quarantine = rejected
        yield Batch(source_id=self.source_id, columns=list(qf.BOSTOTTE_COLUMNS), rows=rows,
                    key=list(qf.BOSTOTTE_KEY), provenance=provenance, types=dict(TYPES),
                    quarantine=quarantine)

    def parse_file(self, response):
        layout = qf.layout_of(response.body)
        if layout is not None:
            self.check_layout(response.url, layout)
        yield RawFile.from_response(response, self.source_id)
        yield from self.cube_batches(self.provenance(response), response.body)
