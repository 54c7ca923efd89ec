"""atlas_crawl.watch.changes: watch patterns, the diff of one run, the tables and the re-crawl view."""

import json
from dataclasses import replace

import pytest

from atlas_crawl import PROJECT_DIR
from atlas_crawl.items import Provenance
from atlas_crawl.manifests import load_manifest
from atlas_crawl.store.earlier import StoredState
from atlas_crawl.store.views import make_source_views
from atlas_crawl.store.writes import Store
from atlas_crawl.watch.changes import (
    WATCH_MANIFEST,
    Check,
    FileRow,
    Observation,
    ProviderState,
    UrlRow,
    Watch,
    WatchList,
    reconcile,
)

T0, T1 = "2026-09-01T06:00:00Z", "2026-10-01T06:00:00Z"
HUB = "https://www.imdi.no/bosetting/bosettingstall/"
XLSX = "https://www.imdi.no/contentassets/5f1c2a/bosettingstall-kommuner-2026.xlsx"
WATCH = WatchList([
    Watch("imdi_a", "imdi", HUB),
    Watch("imdi_a", "imdi", HUB + "nokkeltall-bosetting-*/"),
    Watch("imdi_a", "imdi", "https://www.imdi.no/contentassets/*/bosettingstall-*.xlsx"),
    Watch("nav_x", "nav", "https://www.nav.no/_/attachment/*/*PST302*.xlsx"),
])
TEST_MANIFESTS = PROJECT_DIR / "golden/sitemap_watch/manifests"


# -- watch patterns ---------------------------------------------------------------------------


def test_star_crosses_slashes_and_matches_the_whole_url():
    url = "https://www.nav.no/_/attachment/download/0e5c:9a1f/PST302%20Mottakere.xlsx"
    assert WATCH.sources_for(url) == ["nav_x"]
    assert WATCH.sources_for(url + "?x=1") == []  # whole URL: nothing may follow .xlsx
    assert WATCH.sources_for(url.replace("PST302", "PST301")) == []


def test_percent_decoded_form_also_matches():
    watch = WatchList([Watch("s", "nav", "https://www.nav.no/_/attachment/*/PST302 Mottakere*")])
    assert watch.matches("https://www.nav.no/_/attachment/d/u:h/PST302%20Mottakere%202026.xlsx")


def test_literal_and_glob_patterns():
    assert WATCH.literals("imdi") == [HUB]
    assert WATCH.sources_for(HUB) == ["imdi_a"]
    assert WATCH.sources_for(HUB + "nokkeltall-bosetting-2027/") == ["imdi_a"]
    assert WATCH.sources_for(HUB + "nokkeltall-bosetting-2027") == []  # trailing slash matters
    assert WATCH.sources_for(HUB.upper()) == []  # case-sensitive


def test_unmatched_patterns_are_reported_per_provider():
    left = WATCH.unmatched("imdi", [HUB + "nokkeltall-bosetting-2025/"])
    assert [w.pattern for w in left] == [
        "https://www.imdi.no/contentassets/*/bosettingstall-*.xlsx"]
    out = reconcile(observe(listed=[(XLSX, None)]), ProviderState(), WATCH, T0)
    pattern = HUB + "nokkeltall-bosetting-*/"
    assert out.unmatched == [(f"imdi: watch pattern {pattern!r} of imdi_a matched no URL in the "
                             "sitemaps or on the watched pages")]


def test_site_roots_from_the_table_or_the_landing_page():
    manifests = [load_manifest(p) for p in sorted(TEST_MANIFESTS.glob("*.yml"))]
    watch = WatchList.from_manifests(manifests)
    assert watch.providers == ["imdi", "lottstift"]
    assert watch.site_root("lottstift") == "https://lottstift.no"
    ssb = replace(manifests[0], source_id="ssb_x", tags={**manifests[0].tags, "provider": "ssb"},
                  upstream_landing_page="https://www.ssb.no/statbank/table/07459")
    assert WatchList.from_manifests([ssb]).site_root("ssb") == "https://www.ssb.no"
    with pytest.raises(KeyError, match="no site root known for provider 'fhi'"):
        WATCH.site_root("fhi")


# -- the diff ---------------------------------------------------------------------------------


def url_row(url, lastmod, gone=None, via="sitemap"):
    return UrlRow(url, "imdi", lastmod, T0, T0, gone, "https://www.imdi.no/s.xml", via)


def file_row(url, sha, *, content_type="application/x", gone=None, etag='"e1"'):
    return FileRow(url, "imdi", "[]", 200, etag, "Fri, 28 Aug 2026 12:30:00 GMT", sha, 10,
                   content_type, None, T0, T0, T0, gone)


def observe(listed=(), checks=(), failures=()):
    obs = Observation("imdi", "https://www.imdi.no")
    for url, lastmod in listed:
        obs.list(url, lastmod, "https://www.imdi.no/s.xml", "sitemap")
    for check in checks:
        obs.checks[check.url] = check
    obs.failures.extend(failures)
    return obs


def events(outcome):
    return {row[1]: (row[3], row[4], row[5]) for row in outcome.change_rows}


def test_added_changed_removed_by_sitemap():
    y2024, y2026, y2027 = (HUB + f"nokkeltall-bosetting-{y}/" for y in (2024, 2026, 2027))
    prior = ProviderState(urls={
        HUB: url_row(HUB, "2026-08-28"),
        y2024: url_row(y2024, "2025"),
        y2026: url_row(y2026, "2026-08-28"),
    })
    obs = observe(listed=[(HUB, "2026-08-28"), (y2026, "2026-09-29"), (y2027, None)])
    out = reconcile(obs, prior, WATCH, T1)
    assert events(out) == {
        y2024: ("removed", "sitemap", ("no longer listed by imdi's sitemaps or watched pages "
                                       "(last listed in https://www.imdi.no/s.xml)")),
        y2026: ("changed", "sitemap", "lastmod 2026-08-28 -> 2026-09-29"),
        y2027: ("added", "sitemap", "listed in https://www.imdi.no/s.xml"),
    }
    assert out.counts == {"added": 1, "changed": 1, "removed": 1}
    rows = {r[0]: r for r in out.url_rows}
    assert rows[y2024][5] == T1  # gone_since
    assert rows[y2027][3:6] == (T1, T1, None)  # first/last seen
    assert rows[HUB][3:6] == (T0, T1, None)
    change = next(r for r in out.change_rows if r[3] == "added")
    assert json.loads(change[10]) == ["imdi_a"] and change[11] == 0  # sources, not baseline


def test_missing_lastmod_is_not_a_change():
    prior = ProviderState(urls={HUB: url_row(HUB, "2026-08-28")})
    assert reconcile(observe(listed=[(HUB, None)]), prior, WATCH, T1).change_rows == []


def test_first_run_of_a_provider_is_a_baseline():
    out = reconcile(observe(listed=[(HUB, "2026-08-28")]), ProviderState(), WATCH, T0)
    assert [(r[3], r[11]) for r in out.change_rows] == [("added", 1)]


def test_replaced_file_is_noticed_by_its_hash_even_when_lastmod_stays():
    prior = ProviderState(urls={XLSX: url_row(XLSX, "2026-08-28")},
                          files={XLSX: file_row(XLSX, "a" * 64)})
    check = Check(XLSX, 200, etag='"e2"', last_modified="Tue, 29 Sep 2026 08:00:00 GMT",
                  sha256="b" * 64, bytes=12, content_type="application/x")
    out = reconcile(observe(listed=[(XLSX, "2026-08-28")], checks=[check]), prior, WATCH, T1)
    assert events(out) == {XLSX: ("changed", "fetch", ("content sha256 aaaaaaaaaaaa -> "
                                  "bbbbbbbbbbbb (sitemap lastmod still 2026-08-28)"))}
    row = out.file_rows[0]
    assert row[3:8] == (200, '"e2"', "Tue, 29 Sep 2026 08:00:00 GMT", "b" * 64, 12)
    assert (row[10], row[11], row[12]) == (T0, T1, T1)  # first_seen, checked_at, changed_at


def test_content_decides_over_a_moved_lastmod():
    prior = ProviderState(urls={XLSX: url_row(XLSX, "2026-08-28")},
                          files={XLSX: file_row(XLSX, "a" * 64)})
    for check in (Check(XLSX, 304), Check(XLSX, 200, sha256="a" * 64)):
        out = reconcile(observe(listed=[(XLSX, "2026-09-30")], checks=[check]), prior, WATCH, T1)
        assert out.change_rows == []


def test_not_modified_keeps_the_known_hash():
    prior = ProviderState(files={XLSX: file_row(XLSX, "a" * 64)})
    out = reconcile(observe(checks=[Check(XLSX, 304)]), prior, WATCH, T1)
    assert out.change_rows == []
    assert out.file_rows[0][3:7] == (304, '"e1"', "Fri, 28 Aug 2026 12:30:00 GMT", "a" * 64)
    assert out.file_rows[0][12] == T0  # changed_at stays


def test_html_pages_are_not_compared_by_hash():
    prior = ProviderState(files={HUB: file_row(HUB, "a" * 64, content_type="text/html")})
    check = Check(HUB, 200, sha256="b" * 64, content_type="text/html; charset=utf-8")
    assert reconcile(observe(checks=[check]), prior, WATCH, T1).change_rows == []


def test_gone_file_and_its_return():
    prior = ProviderState(files={XLSX: file_row(XLSX, "a" * 64)})
    out = reconcile(observe(checks=[Check(XLSX, 404)]), prior, WATCH, T1)
    assert events(out) == {XLSX: ("removed", "fetch", "HTTP 404")}
    assert out.file_rows[0][13] == T1  # gone_since
    back = ProviderState(files={XLSX: FileRow(*out.file_rows[0])})
    out2 = reconcile(observe(checks=[Check(XLSX, 200, sha256="a" * 64)]), back, WATCH,
                     "2026-11-01T06:00:00Z")
    assert events(out2) == {XLSX: ("added", "fetch",
                                   f"fetched: HTTP 200; back after being gone since {T1}")}
    assert out2.file_rows[0][13] is None


def test_failed_fetch_is_not_an_event():
    prior = ProviderState(files={XLSX: file_row(XLSX, "a" * 64)})
    out = reconcile(observe(checks=[Check(XLSX, None, error="TimeoutError: took too long")]),
                    prior, WATCH, T1)
    assert out.change_rows == []
    assert out.file_rows[0][3] is None and out.file_rows[0][9] == "TimeoutError: took too long"
    assert out.file_rows[0][6] == "a" * 64


def test_incomplete_run_infers_no_removal():
    prior = ProviderState(urls={HUB: url_row(HUB, "2026-08-28")})
    out = reconcile(observe(failures=["https://www.imdi.no/s.xml: refused"]), prior, WATCH, T1)
    assert out.change_rows == [] and out.url_rows == [] and not out.complete
    assert out.notes[0] == ("imdi: incomplete run, so the 1 URL(s) not listed this time are not "
                            "marked removed")


def test_removal_guard_against_a_truncated_sitemap():
    urls = [f"https://www.imdi.no/p{i}/" for i in range(40)]
    prior = ProviderState(urls={u: url_row(u, "2026") for u in urls})
    truncated = reconcile(observe(listed=[(u, "2026") for u in urls[:10]]), prior, WATCH, T1)
    assert truncated.counts["removed"] == 0
    assert "30 of 40 known URLs are missing from the sitemaps at once" in truncated.notes[0]
    normal = reconcile(observe(listed=[(u, "2026") for u in urls[:25]]), prior, WATCH, T1)
    assert normal.counts["removed"] == 15


# -- tables and the re-crawl view -------------------------------------------------------------


def write(store, outcome, run):
    store.conn.execute("INSERT OR IGNORE INTO _runs (run_id, spider, started, status) "
                       "VALUES (?, 'sitemap_watch', ?, 'ok')", (run, T0))
    store.begin()
    for batch in outcome.batches(Provenance("https://www.imdi.no/robots.txt", "d" * 64, T0)):
        store.write_batch(batch, run)
    make_source_views(store.conn, [WATCH_MANIFEST])
    store.commit()


def load_state(store, providers):
    return StoredState(store.path).watch_state(providers)


def add_run(store, run_id, source, started, status="ok"):
    store.conn.execute("INSERT INTO _runs (run_id, spider, source_ids, started, status) "
                       "VALUES (?, ?, ?, ?, ?)", (run_id, source, source, started, status))


def test_state_round_trip_through_the_store(tmp_path):
    store = Store(tmp_path / "atlas.db")
    assert load_state(store, ["imdi"])["imdi"].empty  # before the first run: no tables
    first = reconcile(observe(listed=[(HUB, "2026-08-28"), (XLSX, None)],
                              checks=[Check(XLSX, 200, etag='"e1"', sha256="a" * 64, bytes=3)]),
                      ProviderState(), WATCH, T0)
    write(store, first, "run-1")
    state = load_state(store, ["imdi", "nav"])
    assert set(state["imdi"].urls) == {HUB, XLSX} and state["nav"].empty
    assert state["imdi"].files[XLSX].etag == '"e1"'
    assert state["imdi"].urls[HUB] == url_row(HUB, "2026-08-28")
    assert state["imdi"].files[XLSX].sha256 == "a" * 64
    assert make_source_views(store.conn, [WATCH_MANIFEST]) == [
        "watched_changes", "recrawl_needed"]  # idempotent
    store.close()


def test_recrawl_needed_compares_with_the_last_successful_run(tmp_path):
    store = Store(tmp_path / "atlas.db")
    nokkeltall = HUB + "nokkeltall-bosetting-2026/"
    baseline = reconcile(observe(listed=[(HUB, "2026-08-28"), (nokkeltall, "2026-08-28")]),
                         ProviderState(), WATCH, T0)
    write(store, baseline, "monitor-1")
    view = "SELECT source_id, last_ok_run, reason, changes FROM recrawl_needed"
    assert store.conn.execute(view).fetchall() == [
        ("imdi_a", None, "never crawled successfully", 2)]

    add_run(store, "imdi-1", "imdi_a", "2026-09-15T00:00:00Z")
    assert store.conn.execute(view).fetchall() == []  # baseline events only say "exists"

    later = reconcile(observe(listed=[(HUB, "2026-08-28"), (nokkeltall, "2026-09-29")]),
                      load_state(store, ["imdi"])["imdi"], WATCH, T1)
    write(store, later, "monitor-2")
    assert store.conn.execute(view).fetchall() == [
        ("imdi_a", "2026-09-15T00:00:00Z",
         "watched URLs changed since its last successful run", 1)]

    add_run(store, "imdi-2", "imdi_a", "2026-10-02T00:00:00Z", status="failed")
    assert len(store.conn.execute(view).fetchall()) == 1  # a failed run does not count
    add_run(store, "imdi-3", "imdi_a,other", "2026-10-03T00:00:00Z")
    assert store.conn.execute(view).fetchall() == []
    store.close()
