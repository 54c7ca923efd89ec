"""Retries with exponential backoff that honour 429 and Retry-After.

Scrapy's RetryMiddleware re-queues a failed request at once. Here a retry waits: for the time the
server asked for (Retry-After, in seconds or as an HTTP date), else for the wait the spider set in
`request.meta["atlas_429_wait"]` (e.g. one full rate-limit window), else base * 2**attempt with
jitter. A 429 or 503 pauses every request to that host, not just the one that failed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import UTC
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.utils.response import response_status_message
from twisted.internet.error import DNSLookupError

logger = logging.getLogger(__name__)
HOST_WIDE_STATUSES = {429, 503}
NAME_NOT_RESOLVED = (DNSLookupError, CannotResolveHostError)


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header value, or None when absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isascii() and text.isdigit():  # delay-seconds; "²".isdigit() is True too
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        # asctime dates and "-0000" carry no zone; HTTP dates are always GMT (RFC 9110 5.6.7),
        # not the crawling machine's local time.
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("ATLAS_RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("ATLAS_RETRY_BACKOFF_MAX", 120.0)
        self.retry_after_max = settings.getfloat("ATLAS_RETRY_AFTER_MAX", 900.0)
        self.paused_until: dict[str, float] = {}

    def backoff(self, attempt: int) -> float:
        return min(self.cap, self.base * 2 ** max(attempt - 1, 0)) * random.uniform(0.8, 1.2)

    async def process_request(self, request):
        unreachable = getattr(self.crawler, "atlas_unreachable", {})
        if unreachable and urlsplit(request.url).hostname in unreachable:
            # The name did not resolve a moment ago: do not ask again for every request.
            raise IgnoreRequest(f"{urlsplit(request.url).hostname} cannot be resolved")
        host = urlsplit(request.url).netloc
        not_before = max(self.paused_until.get(host, 0.0), request.meta.get("atlas_not_before", 0))
        wait = not_before - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def process_response(self, request, response):
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        attempt = retry.meta.get("retry_times", 1)
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is not None and wait > self.retry_after_max:
            # Neither retry sooner than asked nor hold a crawl for hours: give up, loudly.
            logger.error(
                "HTTP %s from %s asks to retry after %.0f s, more than ATLAS_RETRY_AFTER_MAX "
                "(%.0f s); giving up on it", response.status, request.url, wait,
                self.retry_after_max)
            return response
        if wait is None and response.status == 429:
            wait = request.meta.get("atlas_429_wait")
        if wait is None:
            wait = self.backoff(attempt)
        detail = response.text[:300] if response.status == 429 and hasattr(response, "text") else ""
        logger.warning(
            "HTTP %s from %s; retry %d in %.1f s %s", response.status, request.url, attempt, wait,
            detail,
        )
        until = time.monotonic() + wait
        if response.status in HOST_WIDE_STATUSES:
            host = urlsplit(request.url).netloc
            self.paused_until[host] = max(self.paused_until.get(host, 0.0), until)
            self._hold_slot(request, until)
        retry.meta["atlas_not_before"] = until
        self.crawler.stats.inc_value(f"atlas/retry_wait/{response.status}")
        return retry

    def _unreachable(self, request, exception) -> None:
        """A name that does not resolve is not retried: without network (or with a misspelt
        host) five tries with backoff only add half a minute and tracebacks. One error line per
        host fails the run; the crawl command ends with one closing line saying so."""
        host = urlsplit(request.url).hostname or request.url
        unreachable = getattr(self.crawler, "atlas_unreachable", None)
        if unreachable is None:
            unreachable = self.crawler.atlas_unreachable = {}
        if host not in unreachable:
            unreachable[host] = str(exception)
            level = self.crawler.settings.get("ATLAS_UNREACHABLE_LOG_LEVEL", "ERROR")
            logger.log(logging.getLevelName(level), "cannot reach %s: %s (no network?); not "
                       "retried", host, str(exception).rstrip("."))
        self.crawler.stats.inc_value("atlas/unresolved_requests")
        raise IgnoreRequest(f"{host} cannot be resolved")

    def _hold_slot(self, request, until: float) -> None:
        """Requests already queued in the host's download slot wait too, not only new ones."""
        try:
            downloader = self.crawler.engine.downloader
        except (AttributeError, RuntimeError):  # no engine: the middleware used on its own
            return
        slot = downloader.slots.get(downloader.get_slot_key(request))
        delay = slot.download_delay() if slot is not None else 0
        if delay:
            slot.lastseen = max(slot.lastseen, until - delay)

    async def process_exception(self, request, exception):
        if isinstance(exception, NAME_NOT_RESOLVED):
            self._unreachable(request, exception)
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            retry.meta["atlas_not_before"] = time.monotonic() + self.backoff(
                retry.meta.get("retry_times", 1))
        return retry
