"""Politeness: Retry-After in seconds and as an HTTP date, and a real 429 -> 200 sequence from a
local server on 127.0.0.1 that is retried after the wait the server asked for, with the whole
host paused meanwhile."""

import asyncio
import json
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler

import pytest
import pytest_twisted
import scrapy
from fakes.local_http import LocalServer
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

from atlas_crawl.fetch.politeness import BackoffRetryMiddleware, retry_after_seconds
from atlas_crawl.run.golden import crawl, crawl_settings

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def oslo_clock(monkeypatch):
    """Crawl from a machine on Norwegian time, where a date read as local time is an hour off."""
    monkeypatch.setenv("TZ", "Europe/Oslo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(("header", "seconds"), [
    ("120", 120.0),
    (b"7", 7.0),
    (" 3 ", 3.0),
    ("0", 0.0),
    ("Sun, 01 Mar 2026 12:00:30 GMT", 30.0),           # IMF-fixdate
    (b"Sun, 01 Mar 2026 12:02:00 GMT", 120.0),
    ("Sunday, 01-Mar-26 12:00:45 GMT", 45.0),          # obsolete RFC 850 form
    ("Sun Mar  1 12:01:00 2026", 60.0),                # asctime: no zone, means GMT
    ("Sun, 01 Mar 2026 12:00:10 -0000", 10.0),         # "-0000": also GMT, not local time
    ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),            # in the past: go now
])
def test_retry_after_values(header, seconds, oslo_clock):
    assert retry_after_seconds(header, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("header", [None, "", b"", "soon", "1.5", "-5", "²", "Sun, 99 Foo"])
def test_unreadable_retry_after_is_none(header):
    assert retry_after_seconds(header, now=NOW) is None


def test_retry_after_date_is_relative_to_the_clock():
    later = format_datetime(datetime.fromtimestamp(time.time() + 90, UTC), usegmt=True)
    assert 85 <= retry_after_seconds(later) <= 90


def aio(coroutine):
    """Run an asyncio coroutine (the middleware sleeps with asyncio) from a pytest-twisted test."""
    return Deferred.fromFuture(asyncio.ensure_future(coroutine))


def _middleware(**settings):
    crawler = get_crawler(scrapy.Spider, settings_dict={
        "RETRY_TIMES": 3, "RETRY_HTTP_CODES": [429, 503, 500], **settings})
    crawler.spider = crawler._create_spider("polite")
    return BackoffRetryMiddleware.from_crawler(crawler)


def test_backoff_grows_and_is_capped():
    mw = _middleware(ATLAS_RETRY_BACKOFF_BASE=2.0, ATLAS_RETRY_BACKOFF_MAX=10.0)
    assert 1.6 <= mw.backoff(1) <= 2.4
    assert 6.4 <= mw.backoff(3) <= 9.6
    assert 8.0 <= mw.backoff(9) <= 12.0  # cap 10 s, +-20 % jitter


@pytest_twisted.ensureDeferred
async def test_a_429_pauses_the_host_not_just_the_request():
    mw = _middleware(ATLAS_RETRY_BACKOFF_BASE=0.01)
    first = Request("http://127.0.0.1:1/a")
    answer = Response(first.url, status=429, headers={"Retry-After": "1"}, request=first)
    started = time.monotonic()
    retry = await aio(mw.process_response(first, answer))
    assert isinstance(retry, Request) and retry.url == first.url
    assert retry.meta["retry_times"] == 1
    assert retry.meta["atlas_not_before"] == pytest.approx(started + 1, abs=0.1)
    assert mw.crawler.stats.get_value("atlas/retry_wait/429") == 1

    await aio(mw.process_request(Request("http://127.0.0.1:1/other")))  # same host, other request
    assert time.monotonic() - started >= 0.95
    t = time.monotonic()
    await aio(mw.process_request(Request("http://127.0.0.2:1/x")))  # another host is not paused
    assert time.monotonic() - t < 0.2


@pytest_twisted.ensureDeferred
async def test_a_retry_after_beyond_the_limit_gives_up_loudly(caplog):
    mw = _middleware(ATLAS_RETRY_AFTER_MAX=60.0)
    first = Request("http://127.0.0.1:1/a")
    answer = Response(first.url, status=429, headers={"Retry-After": "3600"}, request=first)
    kept = await aio(mw.process_response(first, answer))
    assert kept is answer
    assert mw.paused_until == {}
    assert "asks to retry after 3600 s, more than ATLAS_RETRY_AFTER_MAX (60 s)" in caplog.text
    assert [r.levelname for r in caplog.records if "ATLAS_RETRY_AFTER_MAX" in r.message] == [
        "ERROR"]


@pytest_twisted.ensureDeferred
async def test_a_500_waits_the_backoff_and_pauses_only_the_request():
    mw = _middleware(ATLAS_RETRY_BACKOFF_BASE=5.0)
    first = Request("http://127.0.0.1:1/a")
    retry = await aio(mw.process_response(first, Response(first.url, status=500, request=first)))
    assert 4.0 <= retry.meta["atlas_not_before"] - time.monotonic() <= 6.0
    assert mw.paused_until == {}
    kept = await aio(mw.process_response(first, Response(first.url, status=404, request=first)))
    assert kept.status == 404


# -- a real crawl against a local server ---------------------------------------------------------

class LimitedServer(LocalServer):
    """/a answers 429 (Retry-After: 1, problem+json) the first time, then 200; /b answers 200."""

    def __init__(self):
        self.hits: list[tuple[str, float]] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with owner.lock:
                    first_a = self.path == "/a" and not any(p == "/a" for p, _ in owner.hits)
                    owner.hits.append((self.path, time.monotonic()))
                if first_a:
                    body = json.dumps({"type": "about:blank", "status": 429,
                                       "detail": "Too many requests"}).encode()
                    self.send_response(429)
                    self.send_header("Retry-After", "1")
                    self.send_header("Content-Type", "application/problem+json")
                else:
                    body = json.dumps({"path": self.path}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(Handler)


class TwoPagesSpider(scrapy.Spider):
    name = "test_politeness_pages"

    def __init__(self, base: str = "", **kwargs):
        super().__init__(**kwargs)
        self.base = base
        self.seen: list[tuple[str, int]] = []

    async def start(self):
        # /a first; /b is next in line when the 429 arrives, ahead of /a's retry.
        yield scrapy.Request(f"{self.base}/a", priority=10)
        yield scrapy.Request(f"{self.base}/b", priority=5)

    def parse(self, response):
        self.seen.append((json.loads(response.body)["path"], response.status))


@pytest_twisted.ensureDeferred
async def test_429_then_200_is_retried_after_the_asked_wait(tmp_path):
    settings = crawl_settings(
        tmp_path / "atlas.db", replay=False, ROBOTSTXT_OBEY=False, AUTOTHROTTLE_ENABLED=False,
        DOWNLOAD_DELAY=0, CONCURRENT_REQUESTS=1, RETRY_PRIORITY_ADJUST=-10,
        ATLAS_RETRY_BACKOFF_BASE=0.01,  # were Retry-After ignored, the retry would come at once
    )
    with LimitedServer() as server:
        crawler = await crawl(TwoPagesSpider, settings, base=server.url)
    hits = server.hits
    assert [path for path, _ in hits] == ["/a", "/b", "/a"]
    refused_at = hits[0][1]
    assert hits[2][1] - refused_at >= 0.95  # /a again only after Retry-After: 1
    assert hits[1][1] - refused_at >= 0.95  # /b waited too: the host was paused
    assert sorted(crawler.spider.seen) == [("/a", 200), ("/b", 200)]
    stats = crawler.stats.get_stats()
    assert stats["atlas/retry_wait/429"] == 1
    assert stats["retry/count"] == 1
    assert stats.get("log_count/ERROR") is None
