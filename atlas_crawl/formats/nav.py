"""NAV's monthly kommune workbooks: PST302 (uføretrygd), AAP155 (AAP), HL060 (helt ledige).

Pure parsing, bytes in, rows out (SOURCE-FACTS §4). The three tables share a shape -- one
workbook per year, label column B, the month names repeated above every fylke block, ``*`` for
fewer than four persons -- and differ in everything else, which :data:`TABLES` records:

========  =================================================  ============================
table     kommune sheets (measure)                           period cell
========  =================================================  ============================
PST302    ``Kommune-bydel. Antall`` / ``… Andel``            ``"2026 : "`` (B6)
AAP155    ``1. Kommune. Antall`` / ``2. Kommune. Andel``     ``Periode: 2026 01 - 2026 08``
HL060     ``3. Kommune Antall`` / ``4. Kommune Prosent …``   ``Januar - august 2026``
========  =================================================  ============================

Rows are classified by the length of their code (2 fylke, 4 kommune, 6 bydel), never by
order or by an ``i alt`` suffix; rollups are kept and marked ``aggregate``; ``Ukjent`` is kept as
NAV's unknown-region bucket. Landing pages are read by :func:`find_workbook_links`, which also
looks inside a page's ``__NEXT_DATA__`` JSON, where PST302's link lives.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from urllib.parse import unquote, urljoin
from zipfile import BadZipFile

from atlas_crawl.formats.excel import (
    LayoutError,
    classify_region,
    get_sheet,
    open_workbook,
    read_wide,
    sheet_rows,
)
from atlas_crawl.formats.numbers import clean_text, parse_cell

NAV_BASE = "https://www.nav.no"
MONTHS = ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september",
          "oktober", "november", "desember")
MONTH_NUMBER = {name: n for n, name in enumerate(MONTHS, start=1)}
MONTH_HEADER = tuple(m.capitalize() for m in MONTHS)


@dataclass(frozen=True)
class NavTable:
    upstream_id: str
    sheets: dict[str, str]  # sheet name -> measure
    period_re: re.Pattern[str]
    link_re: re.Pattern[str]  # matches the workbook's file name in a landing-page link
    # sheets of one row per fylke (code, name, then the months), with the national total
    fylke_sheets: dict[str, str] = field(default_factory=dict)


TABLES: dict[str, NavTable] = {
    "PST302": NavTable(
        "PST302",
        {"Kommune-bydel. Antall": "antall", "Kommune-bydel. Andel": "andel"},
        re.compile(r"^(?P<year>\d{4})\s*:\s*$"),
        re.compile(r"PST302[^/]*\.xlsx$", re.IGNORECASE),
    ),
    "AAP155": NavTable(
        "AAP155",
        {"1. Kommune. Antall": "antall", "2. Kommune. Andel": "andel"},
        re.compile(r"^Periode:\s*(?P<y1>\d{4})\s*(?P<m1>\d{2})\s*-\s*(?P<year>\d{4})\s*"
                   r"(?P<m2>\d{2})$", re.IGNORECASE),
        re.compile(r"AAP155[^/]*\.xlsx$", re.IGNORECASE),
    ),
    "HL060": NavTable(
        "HL060",
        {"3. Kommune Antall": "antall", "4. Kommune Prosent av arbeidsstyrken": "prosent"},
        re.compile(r"^(?P<first>[a-zæøå]+)\s*-\s*(?P<last>[a-zæøå]+)\s+(?P<year>\d{4})$",
                   re.IGNORECASE),
        re.compile(r"\d{6}_HL060[^/]*\.xlsx$", re.IGNORECASE),
        fylke_sheets={"1. Fylke Antall": "antall",
                      "2. Fylke Prosent av arbeidsstyrken": "prosent"},
    ),
}

# NAV's own group codes in HL060's fylke sheets, which are not Klass's codes of the same number:
# 99 "Øvrige områder" (Svalbard and other areas outside the fylker; Klass 99 is "Uoppgitt").
# Such a row is placed by its name.
NAV_GROUP_CODES = {("99", "øvrige områder"), ("97", "svalbard og øvrige områder")}


@dataclass(frozen=True)
class NavRow:
    region: str  # the key: the code when there is one, else the label ("Ukjent", "I alt …")
    region_code: str | None
    region_name: str | None
    level: str | None  # national | fylke | kommune | bydel | unknown
    aggregate: bool
    measure: str
    period: str  # ISO year-month, "2026-08"
    value: int | float | None
    status: str | None
    sheet: str
    row: int


def _year_and_months(rows: list[tuple], table: NavTable, file: str | None,
                     sheet: str) -> tuple[int, range | None]:
    for row in rows[:15]:
        for value in row:
            if not isinstance(value, str):
                continue
            m = table.period_re.match(clean_text(value))
            if not m:
                continue
            year = int(m.group("year"))
            groups = m.groupdict()
            if groups.get("m1"):
                if int(groups["y1"]) != year:
                    raise LayoutError(file=file, sheet=sheet, expected="a period within one year",
                                      found=repr(value))
                return year, range(int(groups["m1"]), int(groups["m2"]) + 1)
            if groups.get("first"):
                first = MONTH_NUMBER.get(groups["first"].casefold())
                last = MONTH_NUMBER.get(groups["last"].casefold())
                if first is None or last is None:
                    raise LayoutError(file=file, sheet=sheet,
                                      expected="month names in the period cell",
                                      found=repr(value))
                return year, range(first, last + 1)
            return year, None
    raise LayoutError(file=file, sheet=sheet,
                      expected=f"a period cell matching {table.period_re.pattern!r} "
                               "in the first 15 rows",
                      found="none")


def parse_workbook(data: bytes, upstream_id: str, *, file: str | None = None) -> list[NavRow]:
    """Every data cell of a table's kommune sheets, and of its fylke sheets (HL060: one row per
    fylke, the national total, NAV's groups), as long rows. A region both kinds of sheet give
    (``Ukjent``) is kept once; if the two disagree the workbook is refused."""
    table = TABLES[upstream_id]
    wb = open_workbook(data)
    out: list[NavRow] = []
    try:
        for sheet_name, measure in table.sheets.items():
            ws = get_sheet(wb, sheet_name, file=file)
            rows = sheet_rows(ws)
            out.extend(_parse_sheet(rows, table, measure, ws.title, file))
        given = {(r.region, r.measure, r.period): r for r in out}
        for sheet_name, measure in table.fylke_sheets.items():
            ws = get_sheet(wb, sheet_name, file=file)
            for row in _parse_sheet(sheet_rows(ws), table, measure, ws.title, file,
                                    fylke_sheet=True):
                other = given.get((row.region, row.measure, row.period))
                if other is None:
                    out.append(row)
                elif (other.value, other.status) != (row.value, row.status):
                    raise LayoutError(
                        file=file, sheet=ws.title, expected=f"{row.region} {row.period} as in "
                        f"sheet {other.sheet!r} row {other.row}",
                        found=f"row {row.row}: {row.value if row.status is None else row.status}"
                              f" there, {other.value if other.status is None else other.status}"
                              f" in {other.sheet!r}")
    finally:
        wb.close()
    return out


def public_table_of(data: bytes) -> str | None:
    """Which of NAV's public monthly workbooks `data` is (its upstream id, such as HL060), told
    by its sheet names; None for any other workbook, or for bytes that are not one."""
    try:
        wb = open_workbook(data)
    except (OSError, ValueError, KeyError, BadZipFile):
        return None
    try:
        sheets = {name.strip() for name in wb.sheetnames}
    finally:
        wb.close()
    for upstream_id, table in TABLES.items():
        # Excel cuts sheet names at 31 characters ("4. Kommune Prosent av arbeidsst").
        if all(any(want.startswith(have) for have in sheets) for want in table.sheets):
            return upstream_id
    return None


def _fylke_label(rows: list[tuple], row: int, label_col: int, name: str) -> str:
    """A fylke sheet's region: its code (the column left of the name) and name, "03 Oslo";
    the name alone where there is no code ("I alt", the national total)."""
    cells = rows[row - 1]
    code = cells[label_col - 1] if label_col >= 1 and label_col - 1 < len(cells) else None
    code = clean_text(str(code)) if code is not None else ""
    return f"{code} {name}" if code.isdigit() else name


def _parse_sheet(rows: list[tuple], table: NavTable, measure: str, sheet: str,
                 file: str | None, *, fylke_sheet: bool = False) -> Iterator[NavRow]:
    year, months = _year_and_months(rows, table, file, sheet)
    seen: dict[tuple[str, str], int] = {}
    months_seen: set[int] = set()
    label_col = _label_column(rows) if fylke_sheet else None
    for cell in read_wide(None, MONTH_HEADER, min_match=1, file=file, rows=rows,
                          sheet=sheet):
        month = MONTH_NUMBER[cell.column.casefold()]
        months_seen.add(month)
        label = (_fylke_label(rows, cell.row, label_col, cell.label) if label_col is not None
                 else cell.label)
        try:
            region = classify_region(label)
        except ValueError as exc:
            raise LayoutError(file=file, sheet=sheet, expected="a region label",
                              found=f"row {cell.row}: {exc}") from None
        if fylke_sheet and region.level is None:  # a bare name on a fylke sheet is a fylke
            region = replace(region, level="fylke")
        key = region.code or region.raw
        period = f"{year}-{month:02d}"
        if seen.setdefault((key, period), cell.row) != cell.row:
            raise LayoutError(file=file, sheet=sheet, expected=f"one row per region ({key})",
                              found=f"rows {seen[(key, period)]} and {cell.row}")
        value = parse_cell(cell.raw)
        yield NavRow(key, region.code, region.name, region.level, region.aggregate, measure,
                     period, value.value, value.status, sheet, cell.row)
    if months is not None and months_seen and sorted(months_seen) != list(months):
        raise LayoutError(file=file, sheet=sheet,
                          expected=f"month columns {months.start}-{months.stop - 1} "
                                   "as the period cell says",
                          found=f"months {sorted(months_seen)}")


def _label_column(rows: list[tuple]) -> int | None:
    """The column just left of the first month header (where read_wide finds the labels)."""
    for row in rows:
        hits = [c for c, v in enumerate(row) if isinstance(v, str)
                and clean_text(v) in MONTH_HEADER]
        if hits:
            return min(hits) - 1
    return None


# --------------------------------------------------------------------------------------------
# Landing pages

_HREF = re.compile(r"""href\s*=\s*["']([^"']+\.xlsx)["']""", re.IGNORECASE)
_JSON_PATH = re.compile(r"""(/_/attachment/(?:download|inline)/[^"'\s<>\\]+?\.xlsx)""",
                        re.IGNORECASE)
_NEXT_DATA = re.compile(
    r"""<script[^>]*id=["']__NEXT_DATA__["'][^>]*>(.*?)</script>""", re.DOTALL | re.IGNORECASE)


class LinkError(ValueError):
    pass


def _strings(obj: object) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def find_workbook_links(page: bytes | str, upstream_id: str, *,
                        base_url: str = NAV_BASE) -> list[str]:
    """Absolute URLs of the table's workbook on a landing page, from ``<a href>`` and from the
    ``__NEXT_DATA__`` JSON; PDF siblings never match. Empty when there is none."""
    text = page.decode("utf-8", "replace") if isinstance(page, bytes) else page
    table = TABLES[upstream_id]
    candidates: list[str] = [html.unescape(h) for h in _HREF.findall(text)]
    m = _NEXT_DATA.search(text)
    if m:
        try:
            blob = json.loads(m.group(1))
        except json.JSONDecodeError:
            blob = None
        if blob is not None:
            for s in _strings(blob):
                candidates.extend(_JSON_PATH.findall(s))
    found: list[str] = []
    for href in candidates:
        url = urljoin(base_url, href.strip())
        name = unquote(url.rsplit("/", 1)[-1])
        if table.link_re.search(name) and url not in found:
            found.append(url)
    return found


def pick_workbook_link(page: bytes | str, upstream_id: str, *, base_url: str = NAV_BASE,
                       source: str = "") -> str:
    """The one workbook link; refuses to guess between several."""
    links = find_workbook_links(page, upstream_id, base_url=base_url)
    if len(links) == 1:
        return links[0]
    if not links:
        raise LinkError(f"{source or 'landing page'}: no {upstream_id} .xlsx link found")
    raise LinkError(f"{source or 'landing page'}: {len(links)} {upstream_id} links, "
                    f"refusing to guess: {links}")
