"""The sitemap monitor's fetch decisions and one-line summaries, tested function by function.

All inputs are CONSTRUCTED (there is no sitemap capture in realdata); the URLs follow the shapes
of the manifests' watch patterns.
"""

from __future__ import annotations

from atlas_crawl.formats.sitemap import parse_sitemap
from atlas_crawl.watch.changes import (
    Check,
    FileRow,
    Observation,
    Outcome,
    Watch,
    WatchList,
    conditional_headers,
    files_to_fetch,
)

NAV = "https://www.nav.no"
ETAG = '"abc123"'
LAST_MODIFIED = "Wed, 21 Oct 2025 07:28:00 GMT"


def prior(sha256: str | None = "f" * 64, etag: str | None = ETAG,
          last_modified: str | None = LAST_MODIFIED, gone_since: str | None = None) -> FileRow:
    return FileRow(url=f"{NAV}/a.xlsx", provider="nav", sources="nav_pst", status=200,
                   etag=etag, last_modified=last_modified, sha256=sha256, bytes=10,
                   content_type="application/vnd.ms-excel", error=None,
                   first_seen="2025-01-01T00:00:00Z", checked_at="2025-02-01T00:00:00Z",
                   changed_at=None, gone_since=gone_since)


def test_conditional_headers_only_for_known_present_content():
    assert conditional_headers(prior()) == {"If-None-Match": ETAG,
                                            "If-Modified-Since": LAST_MODIFIED}
    assert conditional_headers(prior(etag=None)) == {"If-Modified-Since": LAST_MODIFIED}
    assert conditional_headers(prior(last_modified=None)) == {"If-None-Match": ETAG}
    assert conditional_headers(None) == {}  # never fetched
    # without a known hash a 304 would leave nothing to compare with: fetch it whole
    assert conditional_headers(prior(sha256=None)) == {}
    # a file that was gone is fetched whole when it comes back
    assert conditional_headers(prior(gone_since="2025-03-01T00:00:00Z")) == {}


def watch_list() -> WatchList:
    return WatchList([
        Watch("nav_pst", "nav", f"{NAV}/_/attachment/*/*PST302*.xlsx"),
        Watch("nav_pst", "nav", f"{NAV}/statistikk/arbeidsledighet"),  # a literal page
        Watch("nav_pst", "nav", f"{NAV}/files/fast-tabell.csv"),  # a literal file
        Watch("imdi_x", "imdi", "https://www.imdi.no/files/tall.xlsx"),  # another provider's
    ])


def test_files_to_fetch_matching_files_then_literals_each_once():
    obs = Observation("nav", NAV)
    listed = [
        f"{NAV}/_/attachment/1/PST302_2025.xlsx",           # matches
        f"{NAV}/_/attachment/2/Annen_tabell.xlsx",           # a file no pattern matches
        f"{NAV}/statistikk/arbeidsledighet",                 # watched, but a page
        f"{NAV}/_/attachment/3/Tabell%20PST%3302.xlsx",   # matches once decoded
        f"{NAV}/files/fast-tabell.csv",                      # listed and literal: once
        f"{NAV}/_/attachment/4/PST302_2024.xlsx",            # matches, already fetched
    ]
    for url in listed:
        obs.list(url, None, f"{NAV}/sitemap.xml", "sitemap")
    obs.checks[listed[-1]] = Check(listed[-1], 200)
    assert files_to_fetch(obs, watch_list()) == [
        f"{NAV}/_/attachment/1/PST302_2025.xlsx",
        f"{NAV}/_/attachment/3/Tabell%20PST%3302.xlsx",
        f"{NAV}/files/fast-tabell.csv",
    ]


def test_files_to_fetch_literal_files_even_when_nothing_is_listed():
    assert files_to_fetch(Observation("nav", NAV), watch_list()) == [
        f"{NAV}/files/fast-tabell.csv"]
    assert files_to_fetch(Observation("imdi", "https://www.imdi.no"), watch_list()) == [
        "https://www.imdi.no/files/tall.xlsx"]
    assert files_to_fetch(Observation("dsb", "https://www.dsb.no"), watch_list()) == []


def test_outcome_summary_says_what_changed_and_whether_removals_count():
    out = Outcome("nav", counts={"added": 2, "changed": 1, "removed": 3}, listed=120, checked=4)
    assert out.summary() == ("nav: 120 URLs listed, 4 fetched directly; 2 added, 1 changed, "
                             "3 removed (complete)")
    out.complete = False
    assert out.summary() == ("nav: 120 URLs listed, 4 fetched directly; 2 added, 1 changed, "
                             "3 removed (incomplete, removals not inferred)")
    assert Outcome("dsb").summary() == ("dsb: 0 URLs listed, 0 fetched directly; 0 added, "
                                        "0 changed, 0 removed (complete)")


def sitemap_with_blank_entries(blank: int) -> bytes:
    entries = "".join("<url><lastmod>2025-01-01</lastmod></url>" for _ in range(blank))
    return (f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{NAV}/a</loc></url>{entries}</urlset>").encode()


def test_sitemap_skipped_summary_shows_a_few_and_counts_the_rest():
    assert parse_sitemap(sitemap_with_blank_entries(0)).skipped_summary() == ""
    assert parse_sitemap(sitemap_with_blank_entries(2)).skipped_summary() == (
        "<url> #2 has no <loc>; <url> #3 has no <loc>")
    five = parse_sitemap(sitemap_with_blank_entries(5))
    assert five.skipped_summary() == ("<url> #2 has no <loc>; <url> #3 has no <loc>; "
                                      "<url> #4 has no <loc> (+2 more)")
    assert five.skipped_summary(shown=1) == "<url> #2 has no <loc> (+4 more)"
    assert len(five.entries) == 1
