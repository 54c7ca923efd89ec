"""Helsedirektoratet's national quality indicators (NKI): `scrapy crawl helsedir_nki`.

Needs a HAPI subscription key (`ATLAS_HELSEDIR_KEY`, environment or `-s`) to go to the network;
without one a live run stops at once with one line saying how to get one. A replay
(`-s ATLAS_REPLAY=1`) needs no key. The index lists the indicators; each
indicator's JSON attachment is fetched with the same key, one request a second.
`-a indicators=<id>,<id>` keeps some; `-a file=ATTACHMENT.json` stores one saved attachment.
Parsing lives in atlas_crawl.formats.helsedir. The fastlege list statistics are not here: no
API serving them could be established.
"""

from __future__ import annotations

import os

import scrapy

from atlas_crawl.formats import helsedir
from atlas_crawl.items import RawFile
from atlas_crawl.spiders import arguments
from atlas_crawl.spiders.arguments import Arg
from atlas_crawl.spiders.base import AtlasSpider


class HelsedirNkiSpider(AtlasSpider):
    name = "helsedir_nki"
    source_id = "helsedir_nki"
    # No allowed_domains: an attachment's fileUri is the API's to choose (its host is not
    # documented), and requests only go where the index points.

    wanted = Arg("indicator ids to fetch (default: every national quality indicator)",
                 arguments.parse_words, name="indicators")

    def key(self) -> str:
        return (self.settings.get("ATLAS_HELSEDIR_KEY")
                or os.environ.get("ATLAS_HELSEDIR_KEY", "")).strip()

    def keyed(self, url: str, callback, **kwargs) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, cb_kwargs=kwargs,
                              headers={helsedir.KEY_HEADER: self.key(),
                                       "Accept": "application/json"})

    async def start_live(self):
        # A replay reads recorded answers: no request goes to the network, so no key is needed.
        if not self.key() and not self.settings.getbool("ATLAS_REPLAY"):
            self.logger.error("%s %s", self.name, helsedir.HOW_TO_GET_A_KEY)
            return
        yield self.keyed(helsedir.INDEX_URL, self.parse_index)

    def parse_index(self, response):
        yield RawFile.from_response(response, self.source_id)
        indicators = helsedir.parse_index(response.body, where=response.url)
        chosen = [i for i in indicators if self.wanted is None or i.id in self.wanted]
        self.logger.info("%d indicators with data; fetching %d", len(indicators), len(chosen))
        for n, indicator in enumerate(chosen, 1):
            yield self.keyed(indicator.data_url, self.parse_indicator, indicator=indicator,
                             call=n, calls=len(chosen))

    def parse_indicator(self, response, indicator: helsedir.Indicator, call: int = 1,
                        calls: int = 1):
        yield RawFile.from_response(response, self.source_id)
        self.logger.info("indicator %d/%d: %s", call, calls, indicator.title)
        yield from self.rows_of(response, indicator)

    def parse_file(self, response):
        name = response.url.rsplit("/", 1)[-1]
        yield from self.rows_of(response, helsedir.Indicator(name.split(".")[0], "", ""))

    def rows_of(self, response, indicator: helsedir.Indicator):
        rows = helsedir.parse_indicator(response.body, indicator, where=response.url)
        yield from self.batches(response, helsedir.COLUMNS, rows, helsedir.KEY,
                                types={"value": float, "location_parent_id": int})
