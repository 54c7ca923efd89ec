"""Fail a run on a browser-check page instead of handing it to a callback as data.

Any spider can enable it::

    custom_settings = {"DOWNLOADER_MIDDLEWARES": {
        "atlas_crawl.middlewares.challenge.BrowserCheckMiddleware": 600}}

At 600 it sees responses before the retry middleware (550), so a Cloudflare 503 is not retried
in a loop. On a challenge it logs "blocked by a browser check at <url>" as an error (the store
rolls the run back and `_runs` carries the message), drops the response and closes the spider
with reason ``blocked_by_browser_check``: nothing after it is fetched or stored.
A request that handles challenges itself can opt out with ``meta={"atlas_allow_challenge": True}``.

For a page a real browser fetched (scrapy-playwright) and that passed the check, the status is
set to that of the browser's last navigation (`atlas_crawl.browser.track_document_status`):
scrapy-playwright reports the first one, the challenge's 403/503.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import deferred_from_coro

from atlas_crawl.browser import DOCUMENT_STATUS
from atlas_crawl.formats.challenge import BrowserCheckBlocked, detect

logger = logging.getLogger(__name__)
CLOSE_REASON = "blocked_by_browser_check"


class BrowserCheckMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        if request.meta.get("atlas_allow_challenge"):
            return response
        challenge = detect(response.body, response.headers, response.status)
        if challenge is None:
            final = request.meta.get(DOCUMENT_STATUS)
            if final and final != response.status and "playwright" in response.flags:
                self.crawler.stats.inc_value("atlas/browser_check/passed")
                logger.info("passed a browser check at %s (HTTP %s, then %s)", request.url,
                            response.status, final)
                return response.replace(status=final)
            return response
        blocked = BrowserCheckBlocked(request.url, challenge)
        self.crawler.stats.inc_value("atlas/browser_check/blocked")
        logger.error("%s", blocked)
        if not self.closing and self.crawler.engine is not None:
            self.closing = True
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=CLOSE_REASON))
        raise IgnoreRequest(str(blocked))
