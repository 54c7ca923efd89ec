"""DSB Kommuneundersøkelsen: the landing page, the year pages and each year's raw-data workbook.

What DSB publishes is known only from an unverified description (SOURCE-FACTS §9.2): a yearly
PDF report plus an Excel file of raw data at kommune level, whose columns change from year to
year, and not every kommune answers. So each year's workbook is read as its own raw upload, with
no mapping of one year's questions onto another's:

- the sheet(s) holding a kommune-number column (found by header text from the manifest);
- one long row per kommune and column: the header as written, the cell as text and, when it is
  a number, as a number;
- ``is_response``: from the workbook's own answered/not-answered column when it has one, else
  1 when the kommune's row has any answer. A kommune that did not answer keeps its rows with
  ``is_response`` 0 and empty answers, so "did not answer" is never read as a low score.

Pure: bytes in, rows out. A page that is a browser check is refused before anything is parsed
(`atlas_crawl.fetch.browser_check`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote, urljoin

from openpyxl.utils import get_column_letter
from parsel import Selector

from atlas_crawl.fetch.browser_check import ensure_not_challenge
from atlas_crawl.formats.excel import (
    LayoutError,
    normalise_label,
    open_workbook,
    restore_code,
    sheet_rows,
)
from atlas_crawl.formats.numbers import clean_text, parse_cell
from atlas_crawl.items import Quarantined

COLUMNS = ["year", "sheet", "kommune", "kommune_name", "column", "question", "answer",
           "answer_value", "is_response"]
KEY = ["year", "sheet", "kommune", "column"]
TYPES = {"year": int, "answer_value": float, "is_response": int}
EXCEL = re.compile(r"\.xlsx?$", re.IGNORECASE)


class DsbPageError(ValueError):
    """A page without what the crawl needs from it; the message names the page."""


@dataclass(frozen=True)
class Layout:
    """Header texts that identify the columns every year has (from the manifest)."""

    kommune: tuple[str, ...]
    name: tuple[str, ...]
    response: tuple[str, ...]
    response_yes: tuple[str, ...]
    data_words: tuple[str, ...]
    year_pattern: str

    @classmethod
    def from_manifest(cls, cfg: Mapping[str, Any]) -> Layout:
        def texts(key: str) -> tuple[str, ...]:
            return tuple(str(v) for v in cfg.get(key) or ())

        return cls(texts("kommune_headers"), texts("name_headers"), texts("response_headers"),
                   tuple(normalise_label(v) for v in cfg.get("response_yes") or ()),
                   tuple(normalise_label(v) for v in cfg.get("data_link_words") or ()),
                   str(cfg["year_page_pattern"]))


@dataclass(frozen=True)
class Link:
    url: str
    text: str
    year: int | None = None


# --------------------------------------------------------------------------------------------
# Pages


def _links(body: bytes, url: str) -> Iterator[Link]:
    ensure_not_challenge(url, body)
    sel = Selector(text=body.decode("utf-8", "replace"))
    for a in sel.css("a[href]"):
        href = a.attrib["href"].strip()
        text = clean_text(" ".join(a.css("::text").getall()))
        yield Link(urljoin(url, href), text)


def year_pages(body: bytes, url: str, layout: Layout) -> list[Link]:
    """The year pages the landing page links, newest first (one per year)."""
    found: dict[int, Link] = {}
    pattern = re.compile(layout.year_pattern)
    for link in _links(body, url):
        m = pattern.search(link.url.rstrip("/").rsplit("/", 1)[-1])
        if m:
            year = int(m.group(1))
            found.setdefault(year, Link(link.url, link.text, year))
    return [found[y] for y in sorted(found, reverse=True)]


def data_file(body: bytes, url: str, layout: Layout, year: int) -> Link:
    """The year's raw-data workbook on its page. One Excel link is taken; among several, the
    one whose text or name says it is the data; otherwise the page is refused, listing them."""
    candidates = [link for link in _links(body, url) if EXCEL.search(link.url.split("?")[0])]
    if not candidates:
        raise DsbPageError(f"{url}: no Excel link on the {year} page")
    if len(candidates) == 1:
        return Link(candidates[0].url, candidates[0].text, year)

    def says_data(link: Link) -> bool:
        words = normalise_label(f"{link.text} {unquote(link.url.rsplit('/', 1)[-1])}")
        return any(w in words for w in layout.data_words)

    named = [link for link in candidates if says_data(link)]
    if len(named) == 1:
        return Link(named[0].url, named[0].text, year)
    listed = "; ".join(f"{c.text!r} {c.url}" for c in candidates)
    raise DsbPageError(f"{url}: {len(candidates)} Excel links and no single raw-data one "
                       f"(refusing to guess): {listed}")


# --------------------------------------------------------------------------------------------
# The workbook


def _find(labels: list[str], wanted: Sequence[str]) -> int | None:
    for w in wanted:
        key = normalise_label(w)
        if key in labels:
            return labels.index(key)
    return None


def _header_row(rows: Sequence[Sequence[Any]], layout: Layout, max_scan: int = 20
                ) -> tuple[int, list[str]] | None:
    for i, row in enumerate(rows[:max_scan]):
        labels = [normalise_label(v) for v in row]
        if _find(labels, layout.kommune) is not None:
            return i, labels
    return None


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _answer(value: object) -> tuple[str | None, float | None]:
    """A cell as (text as shown, number or None)."""
    if _is_blank(value):
        return None, None
    if isinstance(value, bool):
        return ("ja" if value else "nei"), float(value)
    if isinstance(value, (int, float)):
        number = float(value)
        return (str(int(number)) if number.is_integer() else str(value)), number
    if isinstance(value, (datetime, date)):
        return value.isoformat(), None
    text = clean_text(str(value))
    cell = parse_cell(text)
    return text, (float(cell.value) if cell.value is not None else None)


def parse_workbook(data: bytes, year: int, layout: Layout, *, file: str | None = None
                   ) -> tuple[list[tuple], list[Quarantined]]:
    """Long rows (see :data:`COLUMNS`) from every sheet of the workbook with a kommune column."""
    wb = open_workbook(data)
    try:
        rows_out: list[tuple] = []
        rejected: list[Quarantined] = []
        seen_sheets = []
        for ws in wb.worksheets:
            rows = sheet_rows(ws)
            found = _header_row(rows, layout)
            first = next((r for r in rows if any(not _is_blank(v) for v in r)), ())
            seen_sheets.append(f"{ws.title!r}: {[clean_text(str(v)) for v in first if v]}")
            if found is None:
                continue
            at, labels = found
            before = len(rows_out) + len(rejected)
            _sheet_rows(ws.title, rows, at, labels, year, layout, rows_out, rejected)
            if len(rows_out) + len(rejected) == before:
                raise LayoutError(file=file, sheet=ws.title,
                                  expected=f"data rows under the header in row {at + 1}",
                                  found="none (the sheet holds only its header)")
        if not rows_out and not rejected:
            raise LayoutError(file=file, sheet=None,
                              expected=f"a sheet with a kommune column headed one of "
                                       f"{list(layout.kommune)}",
                              found="; ".join(seen_sheets) or "no sheets")
        return rows_out, rejected
    finally:
        wb.close()


def _sheet_rows(sheet: str, rows: Sequence[Sequence[Any]], at: int, labels: list[str],
                year: int, layout: Layout, out: list[tuple], rejected: list[Quarantined]) -> None:
    header = rows[at]
    code_col = _find(labels, layout.kommune)
    name_col = _find(labels, layout.name)
    flag_col = _find(labels, layout.response)
    fixed = {code_col, name_col, flag_col}
    questions = [(c, clean_text(str(header[c]))) for c in range(len(header))
                 if c not in fixed and not _is_blank(header[c])]
    for i in range(at + 1, len(rows)):
        row = list(rows[i]) + [None] * (len(header) - len(rows[i]))
        if all(_is_blank(v) for v in row):
            continue
        shown = {clean_text(str(header[c])) if c < len(header) and header[c] else f"col{c}": v
                 for c, v in enumerate(row) if not _is_blank(v)}
        shown["sheet_row"] = i + 1
        raw_code = row[code_col]
        try:
            code = restore_code(raw_code, "kommune")
        except (TypeError, ValueError):
            code = None
        if code is None:
            rejected.append(Quarantined("kommune", None if raw_code is None else str(raw_code),
                                     f"sheet {sheet!r} row {i + 1}: "
                                     f"{'no kommune number' if _is_blank(raw_code) else 'not a kommune number'}",
                                     shown))
            continue
        name = clean_text(str(row[name_col])) if name_col is not None and row[name_col] else None
        answers = [(header_col, question, *_answer(row[header_col]))
                   for header_col, question in questions]
        if flag_col is not None:
            is_response = int(normalise_label(row[flag_col]) in layout.response_yes)
        else:
            is_response = int(any(text is not None for _, _, text, _ in answers))
        for c, question, text, value in answers:
            out.append((year, sheet, code, name, get_column_letter(c + 1), question, text, value,
                        is_response))
