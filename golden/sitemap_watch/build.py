"""Build the constructed cassettes of the sitemap monitor (nothing here is a capture).

    .venv/bin/python golden/sitemap_watch/build.py

writes, from the sitemap protocol (https://www.sitemaps.org/protocol.html) and plain HTTP:

- golden/sitemap_watch/          run 1 (2026-09-01): IMDi and Lottstift, the baseline;
- golden/sitemap_watch_run2/     run 2 (2026-10-01): pages added, changed and removed, the
                                   watched xlsx replaced at the same URL, Lottstift's file 304;
- golden/sitemap_watch_hostile/  a later IMDi run whose sitemaps are hostile or oversized.

Re-running it rewrites the same bytes (gzip without a timestamp, workbooks with fixed dates).
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

GOLDEN = Path(__file__).resolve().parent.parent
IMDI = "https://www.imdi.no"
HUB = f"{IMDI}/bosetting/bosettingstall/"
XLSX = f"{IMDI}/contentassets/5f1c2a/bosettingstall-kommuner-2026.xlsx"
PDF = f"{IMDI}/contentassets/9b7e0d/arsrapport-2025.pdf"
LOTT = "https://lottstift.no"
LOTT_XLSX = f"{LOTT}/app/uploads/2026/06/Oversikt-over-tildelinger-momskompensasjon-2024.xlsx"
XML = {"Content-Type": "application/xml; charset=utf-8"}
GZ = {"Content-Type": "application/x-gzip"}
TXT = {"Content-Type": "text/plain; charset=utf-8"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ROBOTS_IMDI = (
    "# constructed for atlas_crawl's golden tests; not a capture of www.imdi.no\n"
    "User-agent: *\nDisallow: /sok/\n\nSitemap: https://www.imdi.no/sitemap.xml\n"
)
ROBOTS_LOTT = (
    "# constructed for atlas_crawl's golden tests; not a capture of lottstift.no\n"
    "User-agent: *\nDisallow: /wp-admin/\n"
)


def urlset(entries: list[tuple[str, str | None]]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for loc, lastmod in entries:
        lines.append(f"  <url><loc>{loc}</loc>"
                     + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>")
    return ("\n".join(lines) + "\n</urlset>\n").encode()


def index(entries: list[tuple[str, str]]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for loc, lastmod in entries:
        lines.append(f"  <sitemap><loc>{loc}</loc><lastmod>{lastmod}</lastmod></sitemap>")
    return ("\n".join(lines) + "\n</sitemapindex>\n").encode()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def hub(years: list[int]) -> bytes:
    links = "\n".join(f'    <li><a href="/bosetting/bosettingstall/nokkeltall-bosetting-{y}/">'
                      f"Nøkkeltall bosetting {y}</a></li>" for y in years)
    return f"""<!DOCTYPE html>
<html lang="nb"><head><meta charset="utf-8"><title>Bosettingstall | IMDi</title></head>
<body>
  <!-- constructed for atlas_crawl's golden tests; not a capture of www.imdi.no -->
  <nav><a href="/">IMDi</a> <a href="/om-imdi/">Om IMDi</a> <a href="/sok/">Søk</a></nav>
  <h1>Bosettingstall</h1>
  <ul>
{links}
  </ul>
  <p><a href="/contentassets/5f1c2a/bosettingstall-kommuner-2026.xlsx">Last ned (Excel)</a></p>
</body></html>
""".encode()


def workbook(rows: list[tuple]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Bosetting 2026"
    for row in rows:
        sheet.append(row)
    stamp = datetime(2026, 8, 28, 12, 0, 0)
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = "constructed"
    buffer = io.BytesIO()
    book.save(buffer)
    return stable_zip(buffer.getvalue())


def stable_zip(data: bytes) -> bytes:
    """The same workbook bytes on every build: fixed entry times and a fixed 'modified' stamp."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-08-28T12:00:00Z",
                                 content)
            dst.writestr(zipfile.ZipInfo(info.filename, (2026, 8, 28, 12, 0, 0)), content,
                         zipfile.ZIP_DEFLATED)
    return out.getvalue()


XLSX_V1 = workbook([("Kommune", "Anmodet", "Vedtatt"), ("Oslo", 600, 600), ("Bergen", 350, 350)])
XLSX_V2 = workbook([("Kommune", "Anmodet", "Vedtatt"), ("Oslo", 600, 600), ("Bergen", 350, 360)])
LOTT_V1 = workbook([("Organisasjonsnummer", "Tildelt"), ("971277882", 125000)])


class Cassette:
    def __init__(self, name: str):
        self.folder = GOLDEN / name
        self.entries: list[dict] = []

    def add(self, url: str, body: bytes, file: str, status: int = 200,
            headers: dict | None = None) -> None:
        path = self.folder / "responses" / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        self.entries.append({"method": "GET", "url": url, "status": status,
                             "headers": headers or {}, "file": f"responses/{file}"})

    def save(self) -> None:
        self.entries.sort(key=lambda e: e["url"])
        (self.folder / "responses.json").write_text(
            json.dumps({"responses": self.entries}, indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8")


def imdi_common(c: Cassette) -> None:
    c.add(f"{IMDI}/robots.txt", ROBOTS_IMDI.encode(), "imdi_robots.txt", headers=TXT)
    c.add(f"{IMDI}/sitemap.xml", index([(f"{IMDI}/sitemap-pages.xml", "2026-08-28"),
                                        (f"{IMDI}/sitemap-files.xml.gz", "2026-08-28")]),
          "imdi_sitemap_index.xml", headers=XML)


def run1() -> None:
    c = Cassette("sitemap_watch")
    imdi_common(c)
    c.add(f"{IMDI}/sitemap-pages.xml", urlset([
        (f"{IMDI}/", "2026-08-31T08:00:00+02:00"),
        (HUB, "2026-08-28"),
        (f"{HUB}nokkeltall-bosetting-2024/", "2025-02-10"),
        (f"{HUB}nokkeltall-bosetting-2025/", "2026-01-15T09:00:00+01:00"),
        (f"{HUB}nokkeltall-bosetting-2026/", "2026-08-28T14:30:00+02:00"),
        (f"{IMDI}/om-imdi/", None),
    ]), "imdi_sitemap-pages.xml", headers=XML)
    c.add(f"{IMDI}/sitemap-files.xml.gz", gz(urlset([
        (XLSX, "2026-08-28"), (PDF, "2026-03-15"),
    ])), "imdi_sitemap-files.xml.gz", headers=GZ)
    c.add(HUB, hub([2024, 2025, 2026]), "imdi_hub.html", headers=HTML)
    c.add(XLSX, XLSX_V1, "imdi_bosettingstall-kommuner-2026_v1.xlsx",
          headers={"Content-Type": XLSX_TYPE, "ETag": '"imdi-xlsx-1"',
                   "Last-Modified": "Fri, 28 Aug 2026 12:30:00 GMT"})
    c.add(f"{LOTT}/robots.txt", ROBOTS_LOTT.encode(), "lottstift_robots.txt", headers=TXT)
    c.add(f"{LOTT}/sitemap.xml", b"<html><body>Not found</body></html>\n",
          "lottstift_sitemap_404.html", status=404, headers=HTML)
    c.add(LOTT_XLSX, LOTT_V1, "lottstift_momskompensasjon-2024.xlsx",
          headers={"Content-Type": XLSX_TYPE, "Last-Modified": "Mon, 15 Jun 2026 10:00:00 GMT"})
    c.save()


def run2() -> None:
    c = Cassette("sitemap_watch_run2")
    imdi_common(c)
    c.add(f"{IMDI}/sitemap-pages.xml", urlset([
        (f"{IMDI}/", "2026-09-30T08:00:00+02:00"),                      # changed, unwatched
        (HUB, "2026-08-28"),                                             # unchanged
        (f"{HUB}nokkeltall-bosetting-2025/", "2026-01-15T09:00:00+01:00"),  # unchanged
        (f"{HUB}nokkeltall-bosetting-2026/", "2026-09-29T10:00:00+02:00"),  # changed
        (f"{HUB}nokkeltall-bosetting-2027/", "2026-09-30"),              # added
        (f"{IMDI}/om-imdi/", None),                                      # 2024 page: removed
    ]), "imdi_sitemap-pages.xml", headers=XML)
    # The workbook is replaced at the same URL, but the sitemap's lastmod does not move.
    c.add(f"{IMDI}/sitemap-files.xml.gz", gz(urlset([
        (XLSX, "2026-08-28"), (PDF, "2026-03-15"),
    ])), "imdi_sitemap-files.xml.gz", headers=GZ)
    c.add(HUB, hub([2025, 2026, 2027]), "imdi_hub.html", headers=HTML)
    c.add(XLSX, XLSX_V2, "imdi_bosettingstall-kommuner-2026_v2.xlsx",
          headers={"Content-Type": XLSX_TYPE, "ETag": '"imdi-xlsx-2"',
                   "Last-Modified": "Tue, 29 Sep 2026 08:00:00 GMT"})
    c.add(f"{LOTT}/robots.txt", ROBOTS_LOTT.encode(), "lottstift_robots.txt", headers=TXT)
    c.add(f"{LOTT}/sitemap.xml", b"<html><body>Not found</body></html>\n",
          "lottstift_sitemap_404.html", status=404, headers=HTML)
    c.add(LOTT_XLSX, b"", "lottstift_momskompensasjon-2024_304.empty", status=304,
          headers={"Last-Modified": "Mon, 15 Jun 2026 10:00:00 GMT"})
    c.save()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://www.imdi.no/&lol9;</loc></url>
</urlset>
"""


def hostile() -> None:
    c = Cassette("sitemap_watch_hostile")
    c.add(f"{IMDI}/robots.txt", ROBOTS_IMDI.encode(), "imdi_robots.txt", headers=TXT)
    c.add(f"{IMDI}/sitemap.xml", index([
        (f"{IMDI}/sitemap-pages.xml", "2026-10-15"),
        (f"{IMDI}/sitemap-files.xml.gz", "2026-10-15"),
        (f"{IMDI}/sitemap-news.xml", "2026-10-15"),
    ]), "imdi_sitemap_index.xml", headers=XML)
    # Entity expansion ("billion laughs"): refused unread.
    c.add(f"{IMDI}/sitemap-pages.xml", BILLION_LAUGHS, "imdi_sitemap-pages_billion-laughs.xml",
          headers=XML)
    # A gzip bomb: 64 MiB of blanks inside <urlset>, about 64 KB compressed.
    bomb = b'<?xml version="1.0"?><urlset>' + b" " * (64 * 2**20) + b"</urlset>"
    c.add(f"{IMDI}/sitemap-files.xml.gz", gz(bomb), "imdi_sitemap-files_gzip-bomb.xml.gz",
          headers=GZ)
    # 50,001 URLs, one more than the protocol allows in one file.
    many = urlset([(f"{IMDI}/nyheter/{n}/", None) for n in range(50_001)])
    c.add(f"{IMDI}/sitemap-news.xml", gz(many), "imdi_sitemap-news_50001-urls.xml.gz",
          headers=GZ)
    c.add(HUB, hub([2025, 2026]), "imdi_hub.html", headers=HTML)
    c.add(XLSX, XLSX_V2, "imdi_bosettingstall-kommuner-2026_v2.xlsx",
          headers={"Content-Type": XLSX_TYPE, "ETag": '"imdi-xlsx-2"',
                   "Last-Modified": "Tue, 29 Sep 2026 08:00:00 GMT"})
    c.save()


if __name__ == "__main__":
    run1()
    run2()
    hostile()
    for name in ("sitemap_watch", "sitemap_watch_run2", "sitemap_watch_hostile"):
        folder = GOLDEN / name / "responses"
        print(name, sum(p.stat().st_size for p in folder.iterdir()), "bytes")
