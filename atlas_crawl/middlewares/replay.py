"""Serve recorded responses instead of the network (ATLAS_REPLAY), or record them (ATLAS_RECORD).

Replay fails clearly on a request that was never recorded: the run logs an error naming the
request and the cassette, and the store rolls the run back. Local files (`-a file=`) pass through.
"""

from __future__ import annotations

import gzip
import logging
import zlib

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.responsetypes import responsetypes

from atlas_crawl.replay import Cassette, golden_dir

logger = logging.getLogger(__name__)
RECORDED_HEADERS = ("Content-Type", "Last-Modified", "ETag", "Retry-After", "Content-Disposition")
PASS_THROUGH_SCHEMES = ("file:", "data:")


def decoded_body(response) -> tuple[bytes, str | None]:
    """The body as the spider will see it, for the cassette.

    The recorder sits next to the downloader, before HttpCompressionMiddleware has undone the
    Content-Encoding, and the header is not replayed: a gzip body stored as is would reach the
    spider still compressed. gzip and deflate are undone here so the cassette holds readable
    bytes; anything else (br, zstd) is kept as sent, and its Content-Encoding is returned so that
    it can be recorded and decoded again on replay.
    """
    header = b",".join(response.headers.getlist("Content-Encoding")).decode("latin-1")
    codings = [c.strip().lower() for c in header.split(",") if c.strip()]
    body = response.body
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip"):
            body = gzip.decompress(body)
        elif coding == "deflate":
            try:
                body = zlib.decompress(body)
            except zlib.error:  # raw deflate without the zlib header
                body = zlib.decompress(body, -zlib.MAX_WBITS)
        elif coding != "identity":
            return response.body, header
    return body, None


class NotRecorded(IgnoreRequest):
    pass


class ReplayMiddleware:
    def __init__(self, crawler):
        self.replay = crawler.settings.getbool("ATLAS_REPLAY")
        self.record = crawler.settings.getbool("ATLAS_RECORD")
        if not (self.replay or self.record):
            raise NotConfigured
        if self.replay and self.record:
            raise ValueError("ATLAS_REPLAY and ATLAS_RECORD cannot both be on")
        self.crawler = crawler
        self.cassette: Cassette | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _cassette(self) -> Cassette:
        if self.cassette is None:
            folder = golden_dir(self.crawler.settings, self.crawler.spider.name)
            self.cassette = Cassette(folder)
        return self.cassette

    def process_request(self, request):
        if not self.replay or request.url.startswith(PASS_THROUGH_SCHEMES):
            return None
        cassette = self._cassette()
        rec = cassette.find(request.method, request.url, request.body or None)
        if rec is None:
            if request.url.endswith("/robots.txt"):
                return Response(request.url, status=404, request=request)
            self.crawler.stats.inc_value("atlas/replay/not_recorded")
            logger.error(
                "replay: %s %s was never recorded in %s/responses.json (recorded: %s)%s",
                request.method, request.url, cassette.folder, cassette.describe() or "nothing",
                cassette.recorded_with(),
            )
            raise NotRecorded(f"not recorded: {request.method} {request.url}")
        body = cassette.body_of(rec)
        headers = {k: v for k, v in rec.headers.items()}
        cls = responsetypes.from_args(headers=headers, url=rec.url, body=body)
        self.crawler.stats.inc_value("atlas/replay/served")
        return cls(url=request.url, status=rec.status, headers=headers, body=body,
                   request=request, flags=["replay"])

    def process_response(self, request, response):
        if self.record and not request.url.startswith(PASS_THROUGH_SCHEMES):
            headers = {}
            for name in RECORDED_HEADERS:
                value = response.headers.get(name)
                if value is not None:
                    headers[name] = value.decode("latin-1")
            body, still_encoded = decoded_body(response)
            if still_encoded:
                headers["Content-Encoding"] = still_encoded
            self._cassette().add(request.method, request.url, request.body or None,
                                 response.status, headers, body)
        return response

    def spider_closed(self, spider):
        if self.record and self.cassette is not None:
            self.cassette.save()
            logger.info("recorded %d responses into %s", len(self.cassette.recordings),
                        self.cassette.folder)
