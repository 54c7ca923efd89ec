"""atlas_crawl.formats.sitemap: robots.txt, sitemaps (plain, gzip, index), page links, and the
refusal of hostile or oversized sitemaps."""

import gzip

import pytest

from atlas_crawl.formats.sitemap import (
    Limits,
    SitemapRefused,
    decompress,
    is_file_url,
    normalize_lastmod,
    page_links,
    parse_sitemap,
    robots_sitemaps,
)

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
URLSET = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset {NS}>
  <url><loc> https://www.imdi.no/a?x=1&amp;y=2 </loc>
       <lastmod>2026-08-28T14:30:00+02:00</lastmod><changefreq>daily</changefreq></url>
  <url><loc>https://www.imdi.no/b</loc></url>
  <url><lastmod>2020-01-01</lastmod></url>
</urlset>""".encode()


def urls(n: int) -> bytes:
    body = "".join(f"<url><loc>https://x.no/{i}</loc></url>" for i in range(n))
    return f"<urlset {NS}>{body}</urlset>".encode()


def test_urlset_entries_lastmod_and_skipped():
    doc = parse_sitemap(URLSET, "https://www.imdi.no/s.xml")
    assert doc.kind == "urlset"
    assert [(e.loc, e.lastmod) for e in doc.entries] == [
        ("https://www.imdi.no/a?x=1&y=2", "2026-08-28T12:30:00Z"),
        ("https://www.imdi.no/b", None),
    ]
    assert doc.skipped == ["<url> #3 has no <loc>"]


def test_gzip_body_is_detected_by_its_magic_not_its_name():
    plain = parse_sitemap(URLSET, "u")
    zipped = parse_sitemap(gzip.compress(URLSET), "https://www.imdi.no/sitemap.xml")
    assert zipped.entries == plain.entries


def test_sitemap_index_without_namespace():
    doc = parse_sitemap(b"<sitemapindex><sitemap><loc>https://x.no/s1.xml.gz</loc>"
                        b"<lastmod>2026-09</lastmod></sitemap></sitemapindex>", "u")
    assert doc.kind == "sitemapindex"
    assert [(e.loc, e.lastmod) for e in doc.entries] == [("https://x.no/s1.xml.gz", "2026-09")]


@pytest.mark.parametrize("text, expected", [
    ("2026", "2026"),
    ("2026-08", "2026-08"),
    ("2026-08-28", "2026-08-28"),
    ("2026-08-28T14:30+02:00", "2026-08-28T12:30:00Z"),
    ("2026-08-28T14:30:00.250Z", "2026-08-28T14:30:00Z"),
    ("2026-12-31T23:30:00-01:00", "2027-01-01T00:30:00Z"),
    ("2026-08-28T14:30:00", "2026-08-28T14:30:00"),  # no zone: kept as written
    ("last tuesday", "last tuesday"),  # unreadable: kept verbatim, a change is still seen
    ("", None),
    (None, None),
])
def test_normalize_lastmod(text, expected):
    assert normalize_lastmod(text) == expected


def test_billion_laughs_is_refused_unread():
    body = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>
<urlset><url><loc>https://x.no/&lol2;</loc></url></urlset>"""
    with pytest.raises(SitemapRefused, match=r"https://x.no/s.xml: declares a DTD or entities"):
        parse_sitemap(body, "https://x.no/s.xml")


def test_external_entity_is_refused():
    body = (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b"<urlset><url><loc>&e;</loc></url></urlset>")
    with pytest.raises(SitemapRefused, match="DTD"):
        parse_sitemap(body, "u")


def test_undeclared_entity_is_malformed_not_expanded():
    with pytest.raises(SitemapRefused, match="malformed XML"):
        parse_sitemap(b"<urlset><url><loc>&nope;</loc></url></urlset>", "u")


def test_gzip_bomb_stops_at_the_limit():
    bomb = gzip.compress(b"<urlset>" + b" " * (8 * 2**20) + b"</urlset>")
    assert len(bomb) < 20_000
    with pytest.raises(SitemapRefused,
                       match=r"decompresses to more than the limit of 1,048,576 bytes"):
        parse_sitemap(bomb, "u", Limits(max_bytes=2**20))


def test_plain_oversized_document_is_refused():
    with pytest.raises(SitemapRefused, match=r"2,000 bytes, over the limit of 1,000 bytes"):
        decompress(b"x" * 2000, 1000, "u")


def test_protocol_url_limit_50000():
    assert len(parse_sitemap(urls(50_000), "u").entries) == 50_000
    with pytest.raises(SitemapRefused, match=r"u: more than 50,000 entries"):
        parse_sitemap(urls(50_001), "u")


def test_entries_without_loc_count_towards_the_limit():
    body = b"<urlset>" + b"<url/>" * 11 + b"</urlset>"
    with pytest.raises(SitemapRefused, match="more than 10 entries"):
        parse_sitemap(body, "u", Limits(max_urls=10))


def test_truncated_gzip_is_refused():
    with pytest.raises(SitemapRefused, match="ends early"):
        parse_sitemap(gzip.compress(URLSET)[:-20], "u")


@pytest.mark.parametrize("body, what", [
    ((b"<!DOCTYPE html><html><head><title>Just a moment...</title>"
     b"<script>window._cf_chl_opt={}</script></head></html>"), "a Cloudflare challenge page"),
    (b"<html><body>Not found</body></html>", "an HTML page"),
    (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "root element <rss>"),
    (b"plain text", "no XML root element"),
])
def test_not_a_sitemap_says_what_it_is(body, what):
    with pytest.raises(SitemapRefused) as info:
        parse_sitemap(body, "https://www.dsb.no/sitemap.xml")
    assert str(info.value) == f"https://www.dsb.no/sitemap.xml: not a sitemap ({what})"


def test_robots_sitemap_lines():
    body = (b"User-agent: *\nDisallow: /sok/\n# Sitemap: https://x.no/commented.xml\n"
            b"SITEMAP: /sitemap.xml   # main\nSitemap:https://cdn.x.no/s2.xml.gz\n"
            b"sitemap: /sitemap.xml\n")
    assert robots_sitemaps(body, "https://www.imdi.no/robots.txt") == [
        "https://www.imdi.no/sitemap.xml", "https://cdn.x.no/s2.xml.gz"]
    assert robots_sitemaps(b"User-agent: *\nDisallow:\n", "https://x.no/robots.txt") == []


def test_page_links_from_attributes_and_inline_json():
    page = b"""<html><body>
<a href="/_/attachment/download/a1:b2/PST302%20Mottakere.xlsx">xlsx</a>
<a href='https://www.nav.no/x?a=1&amp;b=2#frag'>q</a>
<a href="#top">top</a><a href="mailto:x@nav.no">mail</a><a href="javascript:void(0)">js</a>
<script id="__NEXT_DATA__">{"file":"\\/_\\/attachment\\/inline\\/u:h\\/AAP155 Mottakere.xlsx",
"page":"/no/side"}</script></body></html>"""
    assert page_links(page, "https://www.nav.no/no/statistikk") == [
        "https://www.nav.no/_/attachment/download/a1:b2/PST302%20Mottakere.xlsx",
        "https://www.nav.no/x?a=1&b=2",
        "https://www.nav.no/_/attachment/inline/u:h/AAP155%20Mottakere.xlsx",
        "https://www.nav.no/no/side",
    ]


@pytest.mark.parametrize("url, expected", [
    ("https://www.nav.no/_/attachment/inline/u:h/AAP155%20Mottakere.XLSX", True),
    ("https://lottstift.no/app/uploads/2026/06/moms.xlsx?ver=2", True),
    ("https://x.no/a.xls", True),
    ("https://x.no/data.csv", True),
    ("https://x.no/bundle.zip", True),
    ("https://x.no/rapport.pdf", True),
    ("https://x.no/bosettingstall/", False),
    ("https://x.no/deployconfig/config.js", False),
    ("https://x.no/xlsx/", False),
])
def test_is_file_url(url, expected):
    assert is_file_url(url) is expected
