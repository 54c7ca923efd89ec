"""The sitemap_watch spider in replay, on the constructed cassettes of golden/sitemap_watch*:

- two successive runs: pages added, changed and removed, a watched xlsx replaced at the same URL
  (sitemap lastmod unchanged), a literal file answering 304 to a conditional request;
- a later run whose sitemaps are hostile (entity expansion, gzip bomb, 50,001 URLs): refused with
  clear messages, nothing of them stored, no removal inferred;
- a failed run leaves the state as it was; robots.txt is obeyed.
"""

import json
import logging
import shutil
import sqlite3

import pytest
import pytest_twisted
from conftest import query
from scrapy import signals
from scrapy.crawler import CrawlerRunner

from atlas_crawl.run.golden import GOLDEN_DIR, crawl, crawl_settings, runs, table_rows, to_jsonl
from atlas_crawl.watch.changes import TABLES

RUN1 = GOLDEN_DIR / "sitemap_watch"
RUN2 = GOLDEN_DIR / "sitemap_watch_run2"
HOSTILE = GOLDEN_DIR / "sitemap_watch_hostile"
MANIFESTS = str(RUN1 / "manifests")
T1, T2, T3 = "2026-09-01T06:00:00Z", "2026-10-01T06:00:00Z", "2026-10-15T06:00:00Z"
HUB = "https://www.imdi.no/bosetting/bosettingstall/"
XLSX = "https://www.imdi.no/contentassets/5f1c2a/bosettingstall-kommuner-2026.xlsx"
LOTT_XLSX = ("https://lottstift.no/app/uploads/2026/06/"
             "Oversikt-over-tildelinger-momskompensasjon-2024.xlsx")


async def monitor(db, cassette, now, requests=None, responses=None, **args):
    """One replayed run; `requests` collects the requests the spider scheduled, `responses` the
    responses that came back (replayed ones included)."""
    settings = crawl_settings(db, cassette=cassette, ATLAS_WATCH_NOW=now, LOG_LEVEL="INFO")
    runner = CrawlerRunner(settings)
    crawler = runner.create_crawler("sitemap_watch")
    if requests is not None:
        crawler.signals.connect(lambda request, **kw: requests.append(request),
                                signal=signals.request_scheduled, weak=False)
    if responses is not None:
        crawler.signals.connect(lambda response, **kw: responses.append(response),
                                signal=signals.response_received, weak=False)
    await runner.crawl(crawler, manifests=args.pop("manifests", MANIFESTS), **args)
    return crawler



def changes(db, when):
    return {url: (event, evidence) for url, event, evidence in query(
        db, "SELECT url, event, evidence FROM site_changes WHERE detected_at = ?", when)}


def state(db):
    return {t: table_rows(db, t) for t in TABLES}


@pytest_twisted.ensureDeferred
async def test_two_successive_runs(tmp_path, caplog, update_golden):
    db = tmp_path / "atlas.db"
    await monitor(db, RUN1, T1)
    assert runs(db)[-1]["status"] == "ok"
    assert len(changes(db, T1)) == 9  # the baseline: every URL is new
    assert query(db, "SELECT DISTINCT baseline FROM site_changes") == [(1,)]

    requests = []
    caplog.set_level(logging.INFO)
    crawler = await monitor(db, RUN2, T2, requests)
    run = runs(db)[-1]
    assert run["status"] == "ok", run["error"]
    assert crawler.stats.get_value("atlas/replay/not_recorded") is None

    assert changes(db, T2) == {
        "https://www.imdi.no/": ("changed", "sitemap"),
        HUB + "nokkeltall-bosetting-2024/": ("removed", "sitemap"),
        HUB + "nokkeltall-bosetting-2026/": ("changed", "sitemap"),
        HUB + "nokkeltall-bosetting-2027/": ("added", "sitemap"),
        XLSX: ("changed", "fetch"),
    }
    detail, before, after, baseline = query(
        db, "SELECT detail, sha256_before, sha256_after, baseline FROM site_changes "
            "WHERE url = ? AND detected_at = ?", XLSX, T2)[0]
    assert detail == ("content sha256 a083fbf1c7d7 -> 4e995b6b1e30 "
                      "(sitemap lastmod still 2026-08-28)")
    assert before.startswith("a083fbf1c7d7") and after.startswith("4e995b6b1e30")
    assert baseline == 0
    assert query(db, "SELECT lastmod_before, lastmod_after FROM site_changes WHERE url = ? "
                     "AND detected_at = ?", HUB + "nokkeltall-bosetting-2026/", T2) == [
        ("2026-08-28T12:30:00Z", "2026-09-29T08:00:00Z")]

    # conditional requests with what run 1 stored; the HTML hub page is always fetched whole
    sent = {r.url: r.headers for r in requests}
    assert sent[XLSX].get("If-None-Match") == b'"imdi-xlsx-1"'
    assert sent[XLSX].get("If-Modified-Since") == b"Fri, 28 Aug 2026 12:30:00 GMT"
    assert sent[LOTT_XLSX].get("If-Modified-Since") == b"Mon, 15 Jun 2026 10:00:00 GMT"
    assert sent[LOTT_XLSX].get("If-None-Match") is None  # Lottstift sent no ETag
    assert sent[HUB].get("If-None-Match") is None and sent[HUB].get("If-Modified-Since") is None

    files = {r["url"]: r for r in table_rows(db, "watched_files")}
    assert (files[LOTT_XLSX]["status"], files[LOTT_XLSX]["checked_at"],
            files[LOTT_XLSX]["changed_at"]) == (304, T2, T1)
    assert files[LOTT_XLSX]["sha256"] == query(
        db, "SELECT sha256_after FROM site_changes WHERE url = ?", LOTT_XLSX)[0][0]
    assert (files[XLSX]["etag"], files[XLSX]["changed_at"]) == ('"imdi-xlsx-2"', T2)

    urls = {r["url"]: r for r in table_rows(db, "sitemap_urls")}
    gone = urls[HUB + "nokkeltall-bosetting-2024/"]
    assert (gone["first_seen"], gone["last_seen"], gone["gone_since"]) == (T1, T1, T2)
    assert (urls[HUB]["first_seen"], urls[HUB]["last_seen"], urls[HUB]["gone_since"]) == (
        T1, T2, None)

    # what needs a re-crawl: the IMDi stand-in changed after its last good run, Lottstift did not
    with sqlite3.connect(str(db)) as conn:
        conn.executemany(
            "INSERT INTO _runs (run_id, spider, source_ids, started, status) VALUES (?,?,?,?,?)",
            [("a", "x", "monitor_test_imdi", "2026-09-15T00:00:00Z", "ok"),
             ("b", "x", "monitor_test_lottstift", "2026-09-15T00:00:00Z", "ok")])
    assert query(db, "SELECT source_id, changes, added, changed, removed FROM recrawl_needed") \
        == [("monitor_test_imdi", 4, 1, 2, 1)]

    summary = [r.getMessage() for r in caplog.records if "summary" in r.getMessage()][-1]
    assert "imdi: 8 URLs listed, 2 fetched directly; 1 added, 3 changed, 1 removed " \
           "(complete)" in summary
    assert "lottstift: 0 URLs listed, 1 fetched directly; 0 added, 0 changed, 0 removed" \
        in summary

    for table in TABLES:
        actual = to_jsonl(table_rows(db, table))
        path = RUN2 / "expected" / f"{table}.jsonl"
        if update_golden:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
        assert actual == path.read_text(encoding="utf-8"), f"{table} differs from {path}"

    # the same responses again: nothing changes
    before = state(db)
    await monitor(db, RUN2, T2)
    assert runs(db)[-1]["rows_written"] == 0
    assert state(db) == before


@pytest_twisted.ensureDeferred
async def test_hostile_sitemaps_are_refused(tmp_path, caplog):
    db = tmp_path / "atlas.db"
    await monitor(db, RUN1, T1)
    urls_before = table_rows(db, "sitemap_urls")
    caplog.set_level(logging.WARNING)
    await monitor(db, HOSTILE, T3, provider="imdi")
    assert runs(db)[-1]["status"] == "ok"

    refused = dict(query(db, "SELECT url, detail FROM watch_documents WHERE status = 'refused'"))
    assert refused == {
        "https://www.imdi.no/sitemap-pages.xml":
            "https://www.imdi.no/sitemap-pages.xml: declares a DTD or entities (DTDForbidden); "
            "sitemaps need none, so the document is refused unread",
        "https://www.imdi.no/sitemap-files.xml.gz":
            "https://www.imdi.no/sitemap-files.xml.gz: decompresses to more than the limit of "
            "52,428,800 bytes (65,296 bytes compressed); refused",
        "https://www.imdi.no/sitemap-news.xml":
            "https://www.imdi.no/sitemap-news.xml: more than 50,000 entries (the sitemap "
            "protocol allows 50,000 per file); refused",
    }
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for message in refused.values():
        assert message in logged
    assert "imdi: incomplete run, so the 5 URL(s) not listed this time are not marked removed" \
        in logged

    # nothing from the refused files, no removal; the hub still led to the replaced workbook
    assert query(db, "SELECT count(*) FROM sitemap_urls WHERE url LIKE '%/nyheter/%'") == [(0,)]
    assert query(db, "SELECT count(*) FROM sitemap_urls WHERE gone_since IS NOT NULL") == [(0,)]
    assert changes(db, T3) == {XLSX: ("changed", "fetch")}
    still = {r["url"]: r for r in table_rows(db, "sitemap_urls")}
    assert {u["url"] for u in urls_before} <= set(still)
    assert still[HUB + "nokkeltall-bosetting-2024/"]["last_seen"] == T1


@pytest_twisted.ensureDeferred
async def test_failed_run_leaves_the_state_as_it_was(tmp_path):
    db = tmp_path / "atlas.db"
    await monitor(db, RUN1, T1)
    before = state(db)
    manifests = tmp_path / "manifests"
    shutil.copytree(RUN1 / "manifests", manifests)
    path = manifests / "monitor_test_imdi.yml"
    path.write_text(path.read_text() + "- https://www.imdi.no/never-recorded.csv\n")

    crawler = await monitor(db, RUN2, T2, manifests=str(manifests))
    run = runs(db)[-1]
    assert run["status"] == "failed"
    assert "never-recorded.csv was never recorded" in run["error"]
    assert crawler.stats.get_value("atlas/replay/not_recorded") == 1
    assert state(db) == before


@pytest_twisted.ensureDeferred
async def test_robots_txt_is_obeyed(tmp_path):
    cassette = tmp_path / "cassette"
    shutil.copytree(RUN1, cassette)
    robots = cassette / "responses" / "imdi_robots.txt"
    robots.write_text(robots.read_text().replace("Disallow: /sok/",
                                                 "Disallow: /sitemap-files.xml.gz"))
    db = tmp_path / "atlas.db"
    requests, responses = [], []
    await monitor(db, cassette, T1, requests, responses, provider="imdi")
    asked = "https://www.imdi.no/sitemap-files.xml.gz"
    assert asked in {r.url for r in requests}
    assert asked not in {r.url for r in responses}
    assert "https://www.imdi.no/sitemap-pages.xml" in {r.url for r in responses}
    assert query(db, "SELECT status, detail FROM watch_documents WHERE url LIKE "
                     "'%sitemap-files.xml.gz'") == [
        ("failed", ("https://www.imdi.no/sitemap-files.xml.gz: IgnoreRequest: Forbidden by "
                   "robots.txt"))]
    # the workbook is still found through the hub page, and checked
    assert query(db, "SELECT status FROM watched_files WHERE url = ?", XLSX) == [(200,)]


@pytest_twisted.ensureDeferred
async def test_saved_sitemap_file(tmp_path):
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_WATCH_NOW=T1)
    saved = RUN1 / "responses" / "imdi_sitemap-files.xml.gz"
    await crawl("sitemap_watch", settings, provider="imdi", file=str(saved),
                manifests=MANIFESTS)
    assert runs(db)[-1]["status"] == "ok"
    assert [(r["url"], r["lastmod"], r["listed_in"]) for r in table_rows(db, "sitemap_urls")] \
        == [(XLSX, "2026-08-28", str(saved)),
            ("https://www.imdi.no/contentassets/9b7e0d/arsrapport-2025.pdf", "2026-03-15",
             str(saved))]
    assert table_rows(db, "watched_files") == []  # no network from a saved file
    sources = query(db, "SELECT sources FROM site_changes WHERE url = ?", XLSX)[0][0]
    assert json.loads(sources) == ["monitor_test_imdi"]


def test_unknown_provider_is_refused():
    from atlas_crawl.spiders.sitemap_watch import SitemapWatchSpider

    with pytest.raises(ValueError, match=r"-a provider=imdi,nva: unknown \['nva'\]"):
        SitemapWatchSpider(provider="imdi,nva", manifests=MANIFESTS)


@pytest_twisted.ensureDeferred
async def test_cloudflare_challenge_makes_the_provider_incomplete(tmp_path):
    db = tmp_path / "atlas.db"
    await monitor(db, RUN1, T1, provider="imdi")
    cassette = tmp_path / "cassette"
    shutil.copytree(RUN1, cassette)
    index = json.loads((cassette / "responses.json").read_text())
    for entry in index["responses"]:
        if entry["url"] == "https://www.imdi.no/robots.txt":
            entry.update(status=403, headers={"Content-Type": "text/html"})
    (cassette / "responses.json").write_text(json.dumps(index))
    (cassette / "responses" / "imdi_robots.txt").write_text(
        "<!DOCTYPE html><html><head><title>Just a moment...</title>"
        "<script>window._cf_chl_opt={cType: 'managed'}</script></head></html>")

    await monitor(db, cassette, T2, provider="imdi")
    assert runs(db)[-1]["status"] == "ok"
    assert query(db, "SELECT status, detail FROM watch_documents WHERE url = ?",
                 "https://www.imdi.no/robots.txt") == [
        ("http 403", ("https://www.imdi.no/robots.txt answered HTTP 403 "
                     "(a Cloudflare challenge page)"))]
    assert query(db, "SELECT count(*) FROM sitemap_urls WHERE gone_since IS NOT NULL") == [(0,)]
    assert query(db, "SELECT count(*) FROM site_changes WHERE detected_at = ?", T2) == [(0,)]
    # the workbook is still found through the hub page and checked (unchanged)
    assert query(db, "SELECT status, checked_at, changed_at FROM watched_files WHERE url = ?",
                 XLSX) == [(200, T2, T1)]
