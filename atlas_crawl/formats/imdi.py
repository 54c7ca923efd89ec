"""IMDi bosettingstall: the hub page and the one-page-per-year kommune tables.

Pure parsing, bytes in, rows out. Facts the parser is built on (SOURCE-FACTS §3):

- the hub links one page per year, ``/bosetting/bosettingstall/nokkeltall-bosetting-<YYYY>/``;
- a year page has a section whose ``h2`` starts with "Oversikt over bosettingen i kommunene i
  <year>" (the current year's adds "(oppdatert <date>)"), holding one table per fylke under an
  ``h3`` "<Fylke> - oversikt over bosettingen i <year>"; a fylke summary table sits under the
  ``h3`` "Oversikt over bosettingen i fylkene i <year>"; other tables (the "anmodning" section
  of the current year) are not bosetting tables and are left alone;
- kommune names only, no codes; IMDi writes its own disambiguations (``Os (Hedm.)``);
- metric columns are long sentences, mapped here by their text: 4 columns most years, 6 on
  Oslo's 2024 table and everywhere from 2026. An unknown header is layout drift, not a guess;
- ``:`` (suppressed, usually fewer than five persons), ``-`` (no decision where nothing was
  requested) and free text such as ``avventer vedtak`` are kept as ``status`` with no value;
  numbers may carry a thousands space (``1 924``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from atlas_crawl.formats.html_tables import HtmlTable, extract_tables, parse_document
from atlas_crawl.formats.numbers import clean_text, parse_cell

HUB_URL = "https://www.imdi.no/bosetting/bosettingstall/"
YEAR_PAGE_RE = re.compile(r"/bosetting/bosettingstall/nokkeltall-bosetting-(\d{4})/?$")

#: Header text (normalised, "kommuner i fylket" read as "kommunen") -> metric.
METRICS: dict[str, str] = {
    "antall personer kommunen har blitt anmodet om å bosette": "anmodet",
    "antall personer kommunen har vedtatt å bosette": "vedtatt",
    "antall bosatte personer": "bosatte",
    "antall bosatte personer med kollektiv beskyttelse": "bosatte_kollektiv_beskyttelse",
    "antall personer kommunen har avtalt å bosette": "avtalt",
    "antall personer med kollektiv beskyttelse kommunen har avtalt å bosette":
        "avtalt_kollektiv_beskyttelse",
}

KOMMUNE_SECTION = "oversikt over bosettingen i kommunene"
FYLKE_SECTION = "oversikt over bosettingen i fylkene"
_FYLKE_HEADING = re.compile(r"^(?P<fylke>.+?)\s+-\s+oversikt over bosettingen i (?P<year>\d{4})",
                            re.IGNORECASE)
_YEAR = re.compile(r"\b(20\d{2})\b")


class ImdiLayoutError(ValueError):
    """The page does not have the tables, headings or headers the parser knows."""

    def __init__(self, url: str | None, what: str, expected: object, found: object) -> None:
        self.url, self.what, self.expected, self.found = url, what, expected, found
        super().__init__(f"{url or '<page>'}: {what}: found {found}; expected {expected}")


@dataclass(frozen=True)
class YearPage:
    year: int
    url: str


@dataclass(frozen=True)
class BosettingRow:
    year: int
    level: str  # "kommune" (kommune tables) or "fylke" (the fylke summary table)
    name: str  # the place as IMDi wrote it
    group: str | None  # the fylke heading the kommune table sits under, as written
    metric: str
    value: int | float | None
    status: str | None
    table: int  # 0-based table index on the page
    line: int | None  # source line of the table


def parse_hub(data: bytes | str, base_url: str = HUB_URL) -> list[YearPage]:
    """Year pages linked from the hub, newest first, each once. No year range is hard-coded."""
    doc = parse_document(data)
    seen: dict[int, str] = {}
    for href in doc.xpath("//a/@href"):
        url = urljoin(base_url, href.strip())
        m = YEAR_PAGE_RE.search(url.split("?")[0].split("#")[0])
        if m and int(m.group(1)) not in seen:
            seen[int(m.group(1))] = url.split("#")[0]
    return [YearPage(year, seen[year]) for year in sorted(seen, reverse=True)]


def normalise_header(text: str) -> str:
    s = clean_text(text).rstrip(":").strip().casefold()
    return s.replace("kommuner i fylket", "kommunen")


def map_metrics(header: list[str], *, url: str | None, table: HtmlTable,
                first: str) -> list[str]:
    """The metric of every column after the first, by header text; unknown text raises."""
    where = f"table {table.index + 1} (line {table.line}, under {_title(table)!r})"
    if not header or normalise_header(header[0]) != first:
        raise ImdiLayoutError(url, where, f"first header {first.capitalize()!r}",
                              repr(header[:1]))
    metrics = []
    for text in header[1:]:
        metric = METRICS.get(normalise_header(text))
        if metric is None:
            raise ImdiLayoutError(url, where, f"a header among {sorted(METRICS)!r}", repr(text))
        metrics.append(metric)
    if len(set(metrics)) != len(metrics):
        raise ImdiLayoutError(url, where, "each metric once", repr(header))
    return metrics


def parse_year_page(data: bytes | str, *, year: int | None = None,
                    url: str | None = None) -> list[BosettingRow]:
    """Every kommune-table cell (and every fylke-summary cell) of one year page, long.

    ``year`` is the page's year from its URL; the kommune section heading must agree.
    """
    tables = extract_tables(data)
    rows: list[BosettingRow] = []
    kommune_tables = 0
    section_years: set[int] = set()
    for table in tables:
        h2 = clean_text(table.heading("h2") or "").casefold()
        h3 = clean_text(table.heading("h3") or "")
        if h2.startswith(KOMMUNE_SECTION):
            m = _YEAR.search(h2)
            if m:
                section_years.add(int(m.group(1)))
            group_match = _FYLKE_HEADING.match(h3)
            group = group_match.group("fylke") if group_match else (h3 or None)
            rows.extend(_table_rows(table, "kommune", group, year, url))
            kommune_tables += 1
        elif h3.casefold().startswith(FYLKE_SECTION):
            rows.extend(_table_rows(table, "fylke", None, year, url))
    if kommune_tables == 0:
        found = sorted({t.heading("h2") or "" for t in tables})
        raise ImdiLayoutError(url, "kommune tables",
                              f"tables under an h2 starting {KOMMUNE_SECTION!r}",
                              f"{len(tables)} tables under h2 {found!r}")
    page_year = year
    if page_year is None:
        if len(section_years) != 1:
            raise ImdiLayoutError(url, "year", "one year in the kommune section heading",
                                  sorted(section_years))
        page_year = section_years.pop()
    elif section_years and section_years != {page_year}:
        raise ImdiLayoutError(url, "year", page_year, sorted(section_years))
    return [r if r.year == page_year else _with_year(r, page_year) for r in rows]


def _with_year(row: BosettingRow, year: int) -> BosettingRow:
    return BosettingRow(year, row.level, row.name, row.group, row.metric, row.value,
                        row.status, row.table, row.line)


def _table_rows(table: HtmlTable, level: str, group: str | None, year: int | None,
                url: str | None) -> list[BosettingRow]:
    metrics = map_metrics(table.header, url=url, table=table, first=level)
    out = []
    for cells in table.rows:
        if len(cells) != len(metrics) + 1:
            raise ImdiLayoutError(url, f"table {table.index + 1} (line {table.line})",
                                  f"{len(metrics) + 1} cells per row", repr(cells))
        name = clean_text(cells[0])
        if not name:
            raise ImdiLayoutError(url, f"table {table.index + 1} (line {table.line})",
                                  "a place name in the first cell", repr(cells))
        for metric, text in zip(metrics, cells[1:]):
            cell = parse_cell(text)
            out.append(BosettingRow(year or 0, level, name, group, metric, cell.value,
                                    cell.status, table.index, table.line))
    return out


def _title(table: HtmlTable) -> str:
    return table.heading("h3") or table.heading("h2") or "no heading"
