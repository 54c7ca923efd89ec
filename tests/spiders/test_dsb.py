"""DSB Kommuneundersøkelsen and the browser-check guard.

Pages and workbooks are the constructed ones in golden/dsb_kommuneundersokelsen/; the
challenge-like page is golden/dsb_kommuneundersokelsen_blocked/responses/challenge.html (both
built by golden/dsb_kommuneundersokelsen/build.py; see the READMEs). No browser here:
tests/test_playwright.py drives Debian's chromium."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest
import pytest_twisted
import scrapy
from conftest import xlsx
from fakes.local_http import LocalServer

from atlas_crawl import PROJECT_DIR
from atlas_crawl.fetch import browser_check as challenge
from atlas_crawl.formats import dsb
from atlas_crawl.formats.excel import LayoutError
from atlas_crawl.manifests import get_manifest
from atlas_crawl.run.golden import crawl, crawl_settings, runs, table_rows

ROOT = PROJECT_DIR
GOLDEN = ROOT / "golden" / "dsb_kommuneundersokelsen"
BLOCKED = ROOT / "golden" / "dsb_kommuneundersokelsen_blocked"
CHALLENGE = (BLOCKED / "responses" / "challenge.html").read_bytes()
LANDING = "https://www.dsb.no/ros-og-beredskap/kommuner/kommuneundersokelsen/"
LAYOUT = dsb.Layout.from_manifest(get_manifest("dsb_kommuneundersokelsen").extra["dsb"])


def read(name: str) -> bytes:
    return (GOLDEN / "responses" / name).read_bytes()



# -- the detector ----------------------------------------------------------------------------


def test_the_saved_challenge_page_is_recognised():
    found = challenge.detect(CHALLENGE, {"Content-Type": "text/html"}, 403)
    assert found == challenge.Challenge("cloudflare", "window._cf_chl_opt script")
    # the strong markers do not depend on the status
    assert challenge.is_challenge(CHALLENGE, status=200)


def test_cloudflare_header_alone_is_enough():
    assert challenge.detect(b"<html></html>", {b"Cf-Mitigated": [b"challenge"]}, 403) == \
        challenge.Challenge("cloudflare", "header cf-mitigated: challenge")


def test_a_bare_just_a_moment_title_needs_a_blocking_status_or_cloudflare():
    page = b"<html><head><title>Just a moment...</title></head><body></body></html>"
    assert challenge.detect(page, {}, 503).evidence == "title 'Just a moment...' with HTTP 503"
    assert challenge.is_challenge(page, {"Server": "cloudflare"}, 200)
    assert not challenge.is_challenge(page, {}, 200)


@pytest.mark.parametrize("name", ["kommuneundersokelsen.html", "kommuneundersokelsen-2024.html",
                                  "ku-2024-radata.xlsx"])
def test_real_content_is_not_a_challenge(name):
    assert challenge.detect(read(name), {"Server": "cloudflare"}, 200) is None


def test_the_message_names_the_url():
    with pytest.raises(challenge.BrowserCheckBlocked,
                       match=rf"^blocked by a browser check at {LANDING} \(cloudflare: "):
        challenge.ensure_not_challenge(LANDING, CHALLENGE, status=403)


def test_the_parser_refuses_a_challenge_page_even_without_the_middleware():
    # the page even links a year page: a careless parser would follow it
    with pytest.raises(challenge.BrowserCheckBlocked):
        dsb.year_pages(CHALLENGE, LANDING, LAYOUT)


# -- pages and workbooks ---------------------------------------------------------------------


def test_landing_page_lists_year_pages_newest_first():
    pages = dsb.year_pages(read("kommuneundersokelsen.html"), LANDING, LAYOUT)
    assert [(p.year, p.url) for p in pages] == [
        (2024, LANDING + "kommuneundersokelsen-2024/"),
        (2023, LANDING + "kommuneundersokelsen-2023/")]


def test_the_raw_data_link_is_chosen_by_its_words_among_several_excel_links():
    link = dsb.data_file(read("kommuneundersokelsen-2024.html"),
                         LANDING + "kommuneundersokelsen-2024/", LAYOUT, 2024)
    assert link.url.endswith("/ku-2024-radata.xlsx")
    link = dsb.data_file(read("kommuneundersokelsen-2023.html"),
                         LANDING + "kommuneundersokelsen-2023/", LAYOUT, 2023)
    assert link.url.endswith("/Kommuneundersokelsen_2023.xlsx")


def test_several_unnamed_excel_links_are_refused_not_guessed():
    body = (b'<a href="a.xlsx">Tabell 1</a> <a href="b.xlsx">Tabell 2</a>')
    with pytest.raises(dsb.DsbPageError, match=r"2 Excel links .*refusing to guess.*'Tabell 1'"):
        dsb.data_file(body, "https://www.dsb.no/x/", LAYOUT, 2025)


def test_2024_workbook_answers_and_the_answered_flag():
    rows, rejected = dsb.parse_workbook(read("ku-2024-radata.xlsx"), 2024, LAYOUT)
    cells = {(r[2], r[5]): r for r in rows}
    oslo = cells[("0301", "Antall beredskapsøvelser siste år")]
    assert oslo == (2024, "Data", "0301", "Oslo", "F", "Antall beredskapsøvelser siste år",
                    "12", 12.0, 1)
    # Tromsø answered "Nei" to Besvart: its empty answers are non-answers, not zeros
    tromso = cells[("5501", "Har kommunen en helhetlig ROS-analyse? (1=ja, 0=nei)")]
    assert (tromso[6], tromso[7], tromso[8]) == (None, None, 0)
    # Hamar answered 0: a real answer, and it answered the survey
    hamar = cells[("3403", "Har kommunen en helhetlig ROS-analyse? (1=ja, 0=nei)")]
    assert (hamar[6], hamar[7], hamar[8]) == ("0", 0.0, 1)
    assert cells[("1804", "Antall beredskapsøvelser siste år")][6:8] == ("3", 3.0)
    assert [(r.raw_value, r.reason) for r in rejected] == [
        ("Totalt", "sheet 'Data' row 8: not a kommune number")]
    assert "Besvart" not in {r[5] for r in rows}


def test_2023_layout_drifts_and_is_read_as_its_own_upload():
    rows, rejected = dsb.parse_workbook(read("Kommuneundersokelsen_2023.xlsx"), 2023, LAYOUT)
    assert rejected == []
    assert sorted({r[5] for r in rows}) == ["Beredskapsplan revidert",
                                            "ROS-analyse oppdatert siste fire år",
                                            "Øvelse gjennomført"]
    answered = {r[2]: r[8] for r in rows}
    assert answered == {"0301": 1, "3403": 1, "5501": 0, "1804": 1}


def test_a_workbook_without_a_kommune_column_names_its_sheets():
    body = xlsx({"Ark1": [["Navn på kommunen", "Svar"], ["Oslo", "Ja"]]})
    with pytest.raises(LayoutError, match=r"found 'Ark1': \['Navn på kommunen', 'Svar'\]"):
        dsb.parse_workbook(body, 2025, LAYOUT, file="ku-2025.xlsx")


# -- crawls ----------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_replay_needs_no_browser(tmp_path):
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, cassette=GOLDEN, ATLAS_RAW_DIR="",
                              ATLAS_CHROMIUM="/nonexistent/chromium")
    crawler = await crawl("dsb_kommuneundersokelsen", settings)
    assert runs(db)[-1]["status"] == "ok"
    assert crawler.stats.get_value("playwright/browser_count") is None
    assert len(table_rows(db, "dsb_kommuneundersokelsen")) == 28


@pytest_twisted.ensureDeferred
async def test_a_live_run_without_the_browser_fails_saying_so(tmp_path):
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="",
                              ATLAS_CHROMIUM="/nonexistent/chromium")
    await crawl("dsb_kommuneundersokelsen", settings)
    run = runs(db)[-1]
    assert run["status"] == "failed"
    assert "no browser at /nonexistent/chromium" in run["error"]


@pytest_twisted.ensureDeferred
async def test_a_browser_check_fails_the_run_stores_nothing_and_keeps_the_last_good_data(
        tmp_path):
    db = tmp_path / "atlas.db"
    await crawl("dsb_kommuneundersokelsen", crawl_settings(db, cassette=GOLDEN, ATLAS_RAW_DIR=""))
    good = table_rows(db, "dsb_kommuneundersokelsen")
    assert len(good) == 28

    crawler = await crawl("dsb_kommuneundersokelsen",
                          crawl_settings(db, cassette=BLOCKED, ATLAS_RAW_DIR=""))
    run = runs(db)[-1]
    assert run["status"] == "failed"
    assert f"blocked by a browser check at {LANDING}" in run["error"]
    assert run["rows_received"] == 0
    assert crawler.stats.get_value("finish_reason") == "blocked_by_browser_check"
    assert crawler.stats.get_value("atlas/browser_check/blocked") == 1
    assert table_rows(db, "dsb_kommuneundersokelsen") == good


class ChallengeServer(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(CHALLENGE)

    def log_message(self, *args):
        pass


class AnySpider(scrapy.Spider):
    """A spider that knows nothing of browser checks: the middleware alone protects it."""

    name = "any_page"
    custom_settings: ClassVar[dict] = {"DOWNLOADER_MIDDLEWARES": {
        "atlas_crawl.fetch.browser_check.BrowserCheckMiddleware": 600}}

    def __init__(self, url="", **kwargs):
        super().__init__(**kwargs)
        self.url = url

    async def start(self):
        yield scrapy.Request(self.url)
        yield scrapy.Request(self.url + "second")

    def parse(self, response):
        yield {"title": response.css("title::text").get()}


@pytest_twisted.ensureDeferred
async def test_the_middleware_guards_any_spider_and_does_not_retry_the_503(tmp_path):
    items = []
    with LocalServer(ChallengeServer) as server:
        url = f"{server.url}/"
        settings = crawl_settings(tmp_path / "atlas.db", replay=False, ROBOTSTXT_OBEY=False,
                                  CONCURRENT_REQUESTS=1, DOWNLOAD_DELAY=0)
        from scrapy import signals
        from scrapy.crawler import CrawlerRunner

        runner = CrawlerRunner(settings)
        crawler = runner.create_crawler(AnySpider)
        crawler.signals.connect(lambda item, **kw: items.append(item),
                                signal=signals.item_scraped, weak=False)
        await runner.crawl(crawler, url=url)
    assert items == []
    stats = crawler.stats
    assert stats.get_value("atlas/browser_check/blocked") >= 1
    assert stats.get_value("retry/count") is None
    assert stats.get_value("finish_reason") == "blocked_by_browser_check"
    assert "blocked by a browser check at http://127.0.0.1" in runs(tmp_path / "atlas.db")[-1][
        "error"]
