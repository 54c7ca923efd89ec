"""scrapy-playwright with Debian's chromium, for real: pages served on 127.0.0.1 whose content
only exists after JavaScript ran.

Marked `browser`: they need /usr/bin/chromium (scripts/install-chromium.sh); deselect with
`-m "not browser"`. A missing browser does not fail a crawl (scrapy-playwright only logs it), so
every test checks the crawl's stats, not just that it ran.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest
import pytest_twisted
import scrapy
from fakes.local_http import LocalServer
from scrapy import signals
from scrapy.crawler import CrawlerRunner
from scrapy_playwright.page import PageMethod

from atlas_crawl import PROJECT_DIR
from atlas_crawl.fetch import browser
from atlas_crawl.run.golden import crawl, crawl_settings, runs, table_rows

pytestmark = pytest.mark.browser

ROOT = PROJECT_DIR
WORKBOOK = (ROOT / "golden" / "dsb_kommuneundersokelsen" / "responses"
            / "ku-2024-radata.xlsx").read_bytes()

TABLE_PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>Befolkning</title></head>
<body><p id="status">loading...</p><table id="stats"></table>
<script>
setTimeout(function () {
  var rows = [["0301", "Oslo", 709037], ["4601", "Bergen", 291940]];
  var table = document.getElementById("stats");
  rows.forEach(function (r) {
    var tr = document.createElement("tr");
    tr.className = "row";
    r.forEach(function (v) { var td = document.createElement("td"); td.textContent = v;
                             tr.appendChild(td); });
    table.appendChild(tr);
  });
  document.getElementById("status").textContent = "ready";
}, 300);
</script></body></html>"""

# A browser check in the style of Cloudflare's: JavaScript earns a cookie, then reloads.
CHECK_PAGE = b"""<!doctype html><html><head><title>Just a moment...</title></head><body>
<p>Checking your browser</p>
<script>window._cf_chl_opt = {cType: "managed"};
setTimeout(function () { document.cookie = "cleared=1; path=/"; location.reload(); }, 700);
</script></body></html>"""
STUCK_PAGE = CHECK_PAGE.replace(b"location.reload();", b"")

LANDING = b"""<!doctype html><html><head><title>Kommuneunders\xc3\xb8kelsen</title></head><body>
<a href="kommuneundersokelsen-2024/">Kommuneunders\xc3\xb8kelsen 2024</a></body></html>"""
YEAR_PAGE = b"""<!doctype html><html><head><title>2024</title></head><body>
<a href="/files/ku-2024-radata.xlsx">R\xc3\xa5data 2024 (xlsx)</a></body></html>"""


class Site(BaseHTTPRequestHandler):
    """`/table.html`; `/ku/...` behind a browser check that JavaScript passes (`/stuck/...`
    behind one it never passes)."""

    hits: ClassVar[list[str]] = []

    def log_message(self, *args):
        pass

    def send(self, status: int, body: bytes, kind: str = "text/html; charset=utf-8",
             extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.hits.append(self.path)
        cleared = "cleared=1" in (self.headers.get("Cookie") or "")
        if self.path == "/table.html":
            return self.send(200, TABLE_PAGE)
        if self.path.startswith("/stuck/"):
            return self.send(503, STUCK_PAGE)
        if self.path.startswith(("/ku/", "/files/")) and not cleared:
            return self.send(503, CHECK_PAGE)
        if self.path == "/ku/":
            return self.send(200, LANDING)
        if self.path == "/ku/kommuneundersokelsen-2024/":
            return self.send(200, YEAR_PAGE)
        if self.path == "/files/ku-2024-radata.xlsx":
            return self.send(200, WORKBOOK, "application/vnd.openxmlformats-officedocument"
                             ".spreadsheetml.sheet",
                             {"Content-Disposition": 'attachment; filename="ku-2024.xlsx"'})
        return self.send(404, b"not found", "text/plain")


@pytest.fixture(scope="module")
def site():
    if problem := browser.missing():
        pytest.fail(f"{problem} (or deselect these tests with -m 'not browser')")
    with LocalServer(Site) as server:
        yield server.url


class TableSpider(scrapy.Spider):
    name = "js_table"

    def __init__(self, url="", **kwargs):
        super().__init__(**kwargs)
        self.url = url

    async def start(self):
        yield scrapy.Request(self.url, cb_kwargs={"how": "browser"}, meta={
            "playwright": True,
            "playwright_page_methods": [PageMethod("wait_for_selector", "#stats tr.row")]})
        yield scrapy.Request(self.url, cb_kwargs={"how": "plain"}, dont_filter=True)

    def parse(self, response, how):
        rows = [r.css("td::text").getall() for r in response.css("#stats tr.row")]
        yield {"how": how, "status": response.css("#status::text").get(), "rows": rows}


@pytest_twisted.ensureDeferred
async def test_a_table_inserted_by_javascript_is_rendered_by_chromium(site, tmp_path):
    settings = crawl_settings(tmp_path / "atlas.db", replay=False, ROBOTSTXT_OBEY=False,
                              DOWNLOAD_DELAY=0, AUTOTHROTTLE_ENABLED=False)
    browser.enable(settings, priority="cmdline")
    runner = CrawlerRunner(settings)
    crawler = runner.create_crawler(TableSpider)
    items: list[dict] = []
    crawler.signals.connect(lambda item, **kw: items.append(item), signal=signals.item_scraped,
                            weak=False)
    await runner.crawl(crawler, url=f"{site}/table.html")

    by_how = {i["how"]: i for i in items}
    assert by_how["browser"] == {"how": "browser", "status": "ready", "rows": [
        ["0301", "Oslo", "709037"], ["4601", "Bergen", "291940"]]}
    # the same page without the browser: the script never ran
    assert by_how["plain"] == {"how": "plain", "status": "loading...", "rows": []}
    stats = crawler.stats
    assert stats.get_value("item_scraped_count") == 2
    assert stats.get_value("log_count/ERROR") is None
    assert stats.get_value("playwright/browser_count") == 1
    assert stats.get_value("playwright/page_count/closed") == stats.get_value(
        "playwright/page_count")


@pytest_twisted.ensureDeferred
async def test_dsb_waits_out_a_browser_check_and_reads_the_workbook(site, tmp_path):
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="", DOWNLOAD_DELAY=0,
                              AUTOTHROTTLE_ENABLED=False, ATLAS_BROWSER_CHECK_WAIT=10)
    crawler = await crawl("dsb_kommuneundersokelsen", settings, url=f"{site}/ku/", years="2024")
    run = runs(db)[-1]
    assert run["status"] == "ok", run["error"]
    stats = crawler.stats
    assert stats.get_value("playwright/browser_count") == 1
    assert stats.get_value("atlas/browser_check/passed") >= 1  # the landing page's 503 -> 200
    assert stats.get_value("atlas/browser_check/blocked") is None
    rows = table_rows(db, "dsb_kommuneundersokelsen")
    assert len(rows) == 16
    oslo = [r for r in rows if r["kommune"] == "0301" and r["column"] == "F"]
    assert [(o["answer"], o["answer_value"], o["is_response"]) for o in oslo] == [("12", 12.0, 1)]


@pytest_twisted.ensureDeferred
async def test_dsb_fails_when_the_browser_check_never_clears(site, tmp_path):
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="", DOWNLOAD_DELAY=0,
                              AUTOTHROTTLE_ENABLED=False, ATLAS_BROWSER_CHECK_WAIT=2)
    crawler = await crawl("dsb_kommuneundersokelsen", settings, url=f"{site}/stuck/")
    run = runs(db)[-1]
    assert run["status"] == "failed"
    assert f"blocked by a browser check at {site}/stuck/" in run["error"]
    assert crawler.stats.get_value("playwright/browser_count") == 1
    assert crawler.stats.get_value("finish_reason") == "blocked_by_browser_check"
    assert table_rows(db, "dsb_kommuneundersokelsen") == []
