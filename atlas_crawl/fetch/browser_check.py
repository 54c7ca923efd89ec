"""Recognise a bot-protection page (a "browser check") so it is never parsed as data.

Sites behind Cloudflare (dsb.no) answer automated clients with an interstitial page: HTTP 403 or
503, `<title>Just a moment...</title>`, a `window._cf_chl_opt` script and resources under
`/cdn-cgi/challenge-platform/`. A parser that does not look for it happily finds "no rows" on
that page, or worse, a table of nothing. :func:`detect` tells such a page apart from content;
:func:`ensure_not_challenge` raises :class:`BrowserCheckBlocked` with the message the run ledger
shows ("blocked by a browser check at <url>").

The detector is pure (bytes and headers in, a verdict out; parsers may call it too).
:class:`BrowserCheckMiddleware`, enabled for every spider in settings.py at 600 (before the
retry middleware at 550, so a Cloudflare 503 is not retried in a loop), applies it to every
response: on a challenge it logs "blocked by a browser check at <url>" as an error (the store
rolls the run back and `_runs` carries the message), drops the response and closes the spider
with reason ``blocked_by_browser_check``: nothing after it is fetched or stored. A request that
handles challenges itself opts out with ``meta={"atlas_allow_challenge": True}``. For a page a
real browser fetched (scrapy-playwright) that passed the check, the status becomes that of the
browser's last navigation (`atlas_crawl.fetch.browser.track_document_status`): scrapy-playwright
reports the first one, the challenge's 403/503.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from atlas_crawl.fetch.browser import DOCUMENT_STATUS

logger = logging.getLogger(__name__)
CLOSE_REASON = "blocked_by_browser_check"

#: How much of a body is inspected: challenge pages are small, and their markers sit early.
SCAN_BYTES = 256 * 1024

# Strong markers: each on its own means a challenge page. (vendor, what, pattern)
_STRONG: tuple[tuple[str, str, re.Pattern[bytes]], ...] = (
    ("cloudflare", "window._cf_chl_opt script", re.compile(rb"_cf_chl_opt|cf_chl_opt")),
    ("cloudflare", "/cdn-cgi/challenge-platform/ resource",
     re.compile(rb"/cdn-cgi/challenge-platform/")),
    ("cloudflare", "challenge-form", re.compile(rb"id=[\"']challenge-form[\"']")),
    ("cloudflare", "cf-browser-verification block", re.compile(rb"cf-browser-verification")),
    ("cloudflare", "challenge-running block", re.compile(rb"cf-challenge-running|cf-please-wait")),
    ("datadome", "captcha-delivery.com script", re.compile(rb"captcha-delivery\.com")),
    ("perimeterx", "PerimeterX captcha", re.compile(rb"_pxCaptcha|px-captcha")),
    ("sucuri", "Sucuri firewall page", re.compile(rb"Sucuri WebSite Firewall - Access Denied")),
    ("ddos-guard", "DDoS-Guard check", re.compile(rb"ddos-guard\.net/|DDoS-Guard</title>", re.IGNORECASE)),
)

# Weak markers: only with a blocking status (403, 429, 503) or a Cloudflare server header.
_WEAK: tuple[tuple[str, str, re.Pattern[bytes]], ...] = (
    ("cloudflare", "title 'Just a moment...'",
     re.compile(rb"<title>\s*Just a moment\.\.\.\s*</title>", re.IGNORECASE)),
    ("cloudflare", "title 'Attention Required! | Cloudflare'",
     re.compile(rb"<title>\s*Attention Required! \| Cloudflare\s*</title>", re.IGNORECASE)),
    ("cloudflare", "'Checking your browser' text", re.compile(rb"Checking your browser", re.IGNORECASE)),
    ("cloudflare", "'Enable JavaScript and cookies to continue' text",
     re.compile(rb"Enable JavaScript and cookies to continue", re.IGNORECASE)),
    ("cloudflare", "challenges.cloudflare.com script",
     re.compile(rb"challenges\.cloudflare\.com", re.IGNORECASE)),
)
_BLOCKING_STATUSES = {403, 429, 503}
# Bodies that are files, not pages: zip (xlsx, docx), gzip, PDF, OLE2 (xls).
_BINARY_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"%PDF", b"\xd0\xcf\x11\xe0")


@dataclass(frozen=True)
class Challenge:
    """A recognised browser check: who serves it and what gave it away."""

    vendor: str
    evidence: str


class BrowserCheckBlocked(RuntimeError):
    """A response was a browser check, not the page asked for."""

    def __init__(self, url: str, challenge: Challenge):
        self.url = url
        self.challenge = challenge
        super().__init__(
            f"blocked by a browser check at {url} ({challenge.vendor}: {challenge.evidence})"
        )


def _header(headers: Mapping | None, name: str) -> str:
    """A header value as text, from a plain dict or Scrapy's Headers (bytes, lists)."""
    if not headers:
        return ""
    for key in headers:
        k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if k.lower() == name:
            value = headers[key]
            if isinstance(value, list):
                value = value[0] if value else b""
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return ""


def detect(body: bytes | str, headers: Mapping | None = None,
           status: int | None = None) -> Challenge | None:
    """The challenge this response is, or None when it looks like real content."""
    if _header(headers, "cf-mitigated").strip().lower() == "challenge":
        return Challenge("cloudflare", "header cf-mitigated: challenge")
    data = body.encode("utf-8", "replace") if isinstance(body, str) else body
    head = data[:SCAN_BYTES]
    if head.startswith(_BINARY_MAGIC):
        return None
    for vendor, what, pattern in _STRONG:
        if pattern.search(head):
            return Challenge(vendor, what)
    blocking = status in _BLOCKING_STATUSES or "cloudflare" in _header(headers, "server").lower()
    if blocking:
        for vendor, what, pattern in _WEAK:
            if pattern.search(head):
                return Challenge(vendor, f"{what} with HTTP {status}")
    return None


def is_challenge(body: bytes | str, headers: Mapping | None = None,
                 status: int | None = None) -> bool:
    return detect(body, headers, status) is not None


def ensure_not_challenge(url: str, body: bytes | str, headers: Mapping | None = None,
                         status: int | None = None) -> None:
    """Raise :class:`BrowserCheckBlocked` when the response is a browser check."""
    challenge = detect(body, headers, status)
    if challenge is not None:
        raise BrowserCheckBlocked(url, challenge)


# -- the downloader middleware -------------------------------------------------------------------


class BrowserCheckMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        from scrapy.exceptions import IgnoreRequest
        from scrapy.utils.defer import deferred_from_coro

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
