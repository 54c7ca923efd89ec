"""Bufdir's kommunemonitors (barnefattigdom, barnevern): finding the ZIP of indicator workbooks
on the monitor page, and reading every workbook in it into long rows.

Pure: text and bytes in, rows out. Facts this is built on (SOURCE-FACTS §5, §12.4–5):

- the monitor page links one ZIP under the Strapi CMS's ``/uploads/`` path (the host has moved
  and may move again; the link sits in the page's HTML or in its embedded JSON/Markdown). The
  file name has changed (barnefattigdom became ``Filer_publisert_…`` in July 2026), so the link
  is found by shape: a known name first; else the only ZIP under ``/uploads/``; else the only
  ZIP on the page; several candidates are refused, listed;
- the two monitors differ: barnefattigdom workbooks are ``Indikator_<N>_….xlsx`` with sheet
  ``Data`` and header ``Region | Regionnavn | Enhet | Tallformat | <years>``; barnevern's are
  ``<code>_….xlsx`` with sheet ``Sheet1``, no ``Enhet`` column, so the years start one column
  earlier. The header row is found by its labels, never by number;
- ``Tallformat`` is kept exactly as written: barnefattigdom says ``antall``/``prosent``,
  barnevern ``Antall``/``Andel`` — and barnevern's ``Andel`` is sometimes kroner (2A: spending
  per child ``17689,64``), so it is never read as "percent";
- regions are codes in one column: ``0`` (Norge), 2-digit fylke, 4-digit kommune, 6-digit bydel,
  8-digit delbydel; a code stored as an Excel number lost its leading zero and gets it back;
- cells: numbers, Norwegian number text (``"   17,7"``), ``..``/``.`` (suppressed / not
  applicable: status, value NULL); a blank cell is no observation;
- ``._*`` entries (macOS resource forks) and ``__MACOSX/`` are not workbooks.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass, field
from posixpath import basename
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from parsel import Selector

from atlas_crawl.formats.excel import (
    LayoutError,
    find_header,
    get_sheet,
    normalise_label,
    open_workbook,
    sheet_rows,
)
from atlas_crawl.formats.expansion import Budget, ExpansionError, check_declared
from atlas_crawl.formats.numbers import clean_text, parse_cell
from atlas_crawl.formats.worksheet import SheetXmlError

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class BufdirError(ValueError):
    """The monitor page or its ZIP is not what the parser knows; the message says what to do."""


@dataclass(frozen=True)
class Monitor:
    name: str
    page_url: str
    zip_names: tuple[re.Pattern, ...]  # known ZIP file-name shapes, newest first
    sheet: str
    has_enhet: bool
    workbook_name: re.Pattern  # group "code": the indicator code in the file name
    tallformats: frozenset[str]  # the vocabulary seen so far (others are kept and reported)
    #: Workbooks known to carry an indicator twice in another layout: (file-name pattern, why).
    known_other_layouts: tuple[tuple[re.Pattern, str], ...] = ()

    @property
    def columns(self) -> list[str]:
        enhet = ["enhet"] if self.has_enhet else []
        return ["indicator", "region", "region_name", *enhet, "tallformat", "year", "value",
                "status"]

    @property
    def key(self) -> list[str]:
        enhet = ["enhet"] if self.has_enhet else []
        return ["indicator", "region", *enhet, "tallformat", "year"]

    @property
    def labels(self) -> list[str]:
        return ["Region", "Regionnavn", *(["Enhet"] if self.has_enhet else []), "Tallformat"]


MONITORS = {
    "barnefattigdom": Monitor(
        name="barnefattigdom",
        page_url="https://www.bufdir.no/statistikk-og-analyse/monitor/barnefattigdom/",
        zip_names=(re.compile(r"^Filer_publisert_.*\.zip$", re.IGNORECASE),
                   re.compile(r"^\d{4}_\d{2}_\d{2}_barnefattigdom_monitor_\w+\.zip$", re.IGNORECASE),
                   re.compile(r"barnefattigdom.*\.zip$", re.IGNORECASE)),
        sheet="Data",
        has_enhet=True,
        workbook_name=re.compile(r"^Indikator_(?P<code>\d+[a-z]?)_", re.IGNORECASE),
        tallformats=frozenset({"antall", "prosent"}),
    ),
    "barnevern": Monitor(
        name="barnevern",
        page_url="https://www.bufdir.no/statistikk-og-analyse/monitor/barnevern/",
        zip_names=(re.compile(r"^Kommunemonitor_barnevern_.*\.zip$", re.IGNORECASE),
                   re.compile(r"barnevern.*\.zip$", re.IGNORECASE)),
        sheet="Sheet1",
        has_enhet=False,
        workbook_name=re.compile(r"^(?P<code>\d+[A-Z])_"),
        tallformats=frozenset({"Antall", "Andel"}),
        known_other_layouts=((
            re.compile(r"^Turnover_", re.IGNORECASE),
            ("the turnover indicator again, in another layout (sheets 'Info' and 'Turnover "
            "saksbehandlere', year-range headers, code and name in one cell); "
            "3M_turnover_saksbehandlere.xlsx carries it in the standard layout")),),
    ),
}


# --------------------------------------------------------------------------------------------
# Finding the ZIP


@dataclass(frozen=True)
class ZipChoice:
    url: str
    tier: str  # "known name" | "only ZIP under /uploads/" | "only ZIP on the page"
    candidates: tuple[str, ...]


_URL_ZIP = re.compile(r"""(?:https?://|/)[^\s"'<>()\[\]\\`]*?\.zip(?:\?[^\s"'<>()\[\]\\`]*)?"""
                      r"""(?=$|[\s"'<>()\[\]\\`,;])""", re.IGNORECASE)


def file_name(url: str) -> str:
    return unquote(basename(urlsplit(url).path))


def zip_candidates(page: str, page_url: str) -> list[str]:
    """Every ZIP the page links to, absolute, in page order: ``.zip`` URLs anywhere in the page
    (attributes, scripts, embedded JSON or Markdown, with ``\\/`` and ``\\u002F`` escapes
    undone), and links whose ``type`` says ZIP whatever their name."""
    text = (page.replace("\\/", "/").replace("\\u002F", "/").replace("\\u002f", "/"))
    text = html.unescape(text)
    found = [m.group(0) for m in _URL_ZIP.finditer(text)]
    try:
        found += Selector(text=page).xpath(
            '//a[contains(translate(@type, "ZIP", "zip"), "zip")]/@href').getall()
    except ValueError:  # not parseable as HTML: the text scan above is all there is
        pass
    seen: dict[str, None] = {}
    for url in found:
        seen.setdefault(urljoin(page_url, html.unescape(url.strip())), None)
    return list(seen)


def choose_zip(page: str, page_url: str, monitor: Monitor) -> ZipChoice:
    """The ZIP to download, or :class:`BufdirError` naming every candidate."""
    candidates = zip_candidates(page, page_url)
    for pattern in monitor.zip_names:
        named = [c for c in candidates if pattern.search(file_name(c))]
        if len(named) == 1:
            return ZipChoice(named[0], "known name", tuple(candidates))
        if len(named) > 1:
            raise BufdirError(
                f"{page_url}: {len(named)} ZIP links match the known {monitor.name} name "
                f"{pattern.pattern!r}; refusing to guess between {named}")
    uploads = [c for c in candidates if "/uploads/" in urlsplit(c).path]
    for tier, pool in (("only ZIP under /uploads/", uploads), ("only ZIP on the page", candidates)):
        if len(pool) == 1:
            return ZipChoice(pool[0], tier, tuple(candidates))
        if len(pool) > 1:
            raise BufdirError(
                f"{page_url}: no ZIP link has a known {monitor.name} name and there are "
                f"{len(pool)} candidates; refusing to guess between {pool}. Add the right "
                f"name to MONITORS[{monitor.name!r}].zip_names.")
    raise BufdirError(f"{page_url}: no ZIP link found on the {monitor.name} monitor page "
                      f"(has the page moved, or is the link now added by JavaScript?)")


def check_zip(body: bytes, content_type: str | None, url: str) -> None:
    """Refuse a download that is not a ZIP (an HTML error page, a moved file). The bytes
    decide; the content type is reported to help whoever reads the error."""
    if body[:4] in ZIP_MAGIC:
        return
    head = body[:60].decode("latin-1", "replace")
    raise BufdirError(f"{url}: expected a ZIP, got Content-Type {content_type or '(none)'!r} "
                      f"and a body starting {head!r}")


# --------------------------------------------------------------------------------------------
# Reading the workbooks


@dataclass
class Workbook:
    file: str
    indicator: str
    title: str
    sheet: str
    years: list[int]
    rows: list[tuple]
    blank_cells: int = 0
    note_rows: int = 0
    tallformats: dict[str, int] = field(default_factory=dict)  # as written -> rows


def region_code(raw: Any) -> str | None:
    """The region code as text. A code stored as an Excel number lost its leading zero: codes
    have 2, 4, 6 or 8 digits (``0`` is Norge), so an odd length gets its zero back."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, float):
        if not raw.is_integer():
            return str(raw)
        raw = int(raw)
    if isinstance(raw, int):
        text = str(raw)
        return text if text == "0" or len(text) % 2 == 0 else "0" + text
    text = clean_text(str(raw))
    return text or None


def _blank(value: Any) -> bool:
    return value is None or isinstance(value, str) and not value.strip()


def _year(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if 1900 <= value <= 2100 else None
    text = clean_text(str(value)) if value is not None else ""
    return int(text) if re.fullmatch(r"(19|20)\d\d", text) else None


def parse_workbook(data: bytes, file: str, monitor: Monitor) -> Workbook:
    """One indicator workbook as long rows; :class:`LayoutError` when the layout is not this
    monitor's (the message names the file, the sheet, what was expected and what was found)."""
    m = monitor.workbook_name.match(file)
    if not m:
        raise LayoutError(file=file, sheet=None,
                          expected=f"a {monitor.name} workbook name like "
                                   f"{monitor.workbook_name.pattern!r}", found=repr(file))
    indicator = m.group("code")
    try:
        wb = open_workbook(data, file=file)
    except (ExpansionError, SheetXmlError):  # refusals that name the workbook already
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise LayoutError(file=file, sheet=None, expected="an .xlsx workbook",
                          found=f"a file openpyxl cannot read ({exc})") from None
    try:
        ws = get_sheet(wb, monitor.sheet, file=file)
        rows = sheet_rows(ws)
    finally:
        wb.close()
    sheet = ws.title
    try:
        header = find_header(rows, monitor.labels, file=file, sheet=sheet)
    except LayoutError as exc:
        # Show what the top of the sheet does hold, so a person can map the new layout.
        top = [[clean_text(str(v)) for v in r if not _blank(v)] for r in rows[:12]]
        top = [r for r in top if r][:5]
        raise LayoutError(file=file, sheet=sheet, expected=exc.expected,
                          found=f"{exc.found}; the sheet begins {top}") from None
    block = header.blocks[0]
    head = rows[header.row - 1]
    if not monitor.has_enhet and "enhet" in block.columns:
        raise LayoutError(file=file, sheet=sheet, expected="no Enhet column (barnevern layout)",
                          found=f"header row {header.row} {[v for v in head if v is not None]}")
    c_region, c_name = block.col("Region"), block.col("Regionnavn")
    c_enhet = block.col("Enhet") if monitor.has_enhet else None
    c_format = block.col("Tallformat")
    first_year_col = max(c_region, c_name, c_format, c_enhet or 0) + 1
    year_cols: list[tuple[int, int]] = []
    for c in range(first_year_col, len(head)):
        if _blank(head[c]):
            continue
        year = _year(head[c])
        if year is None:
            raise LayoutError(file=file, sheet=sheet,
                              expected=f"a year in every header cell after Tallformat "
                                       f"(row {header.row})",
                              found=f"{head[c]!r} in column {c + 1}")
        year_cols.append((c, year))
    if not year_cols:
        raise LayoutError(file=file, sheet=sheet, expected="year columns after Tallformat",
                          found=f"header row {header.row} {[v for v in head if v is not None]}")
    title = " — ".join(clean_text(str(next(v for v in r if not _blank(v))))
                       for r in rows[:header.row - 1] if any(not _blank(v) for v in r))

    book = Workbook(file, indicator, title, sheet, [y for _, y in year_cols], [])
    seen: dict[tuple, int] = {}

    def at(row: tuple, c: int | None) -> Any:
        return row[c] if c is not None and c < len(row) else None

    for i in range(header.row, len(rows)):
        row, n = rows[i], i + 1
        cells = [at(row, c) for c, _ in year_cols]
        if all(map(_blank, cells)) and _blank(at(row, c_format)):
            if not (_blank(at(row, c_region)) and _blank(at(row, c_name))):
                book.note_rows += 1  # a footnote or source line under the table
            continue
        region = region_code(at(row, c_region))
        if region is None:
            raise LayoutError(file=file, sheet=sheet, expected=f"a Region code in row {n}",
                              found=f"values {[c for c in cells if not _blank(c)][:4]} "
                                    f"without one")
        fmt = at(row, c_format)
        enhet = at(row, c_enhet)
        if _blank(fmt) or (monitor.has_enhet and _blank(enhet)):
            raise LayoutError(file=file, sheet=sheet,
                              expected=f"Tallformat{' and Enhet' if monitor.has_enhet else ''} "
                                       f"in row {n}", found=f"{row[:first_year_col]!r}")
        fmt = clean_text(str(fmt))
        ids = (region, clean_text(str(enhet)), fmt) if monitor.has_enhet else (region, fmt)
        if ids in seen:
            raise LayoutError(file=file, sheet=sheet, expected="one row per region and format",
                              found=f"row {n} repeats {ids} from row {seen[ids]}")
        seen[ids] = n
        book.tallformats[fmt] = book.tallformats.get(fmt, 0) + 1
        name = at(row, c_name)
        name = clean_text(str(name)) if not _blank(name) else None
        lead = (indicator, region, name, *ids[1:])
        for (c, year), raw in zip(year_cols, cells):
            cell = parse_cell(raw)
            if cell.is_empty:
                book.blank_cells += 1
                continue
            value = float(cell.value) if cell.value is not None else None
            book.rows.append((*lead, year, value, cell.status))
    return book


@dataclass
class Bundle:
    """What a ZIP held, workbook by workbook: nothing is left out without being named here."""

    workbooks: list[str] = field(default_factory=list)  # every .xlsx entry (the M of "N of M")
    parsed: list[Workbook] = field(default_factory=list)
    other_layouts: list[tuple[str, str]] = field(default_factory=list)  # (file, why skipped)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, what was wrong)
    not_workbooks: list[tuple[str, str]] = field(default_factory=list)  # (entry, why ignored)

    def summary(self) -> str:
        text = f"parsed {len(self.parsed)} of {len(self.workbooks)} workbooks"
        if self.other_layouts:
            text += "; known other layout, skipped: " + ", ".join(f for f, _ in self.other_layouts)
        if self.failed:
            text += "; not recognised: " + ", ".join(f for f, _ in self.failed)
        return text


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name; a name stored without the UTF-8 flag (Windows' zip) is read as UTF-8
    when it is valid UTF-8 (``ila_året.xlsx``), as the ZIP's own cp437 otherwise."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def read_bundle(body: bytes, monitor: Monitor, *, name: str = "<zip>") -> Bundle:
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except zipfile.BadZipFile as exc:
        raise BufdirError(f"{name}: not a readable ZIP ({exc})") from None
    bundle = Bundle()
    indicators: dict[str, str] = {}
    budget = Budget(name)
    try:
        with archive:
            check_declared(archive, name)
            _read_entries(archive, monitor, bundle, indicators, budget)
    except (ExpansionError, SheetXmlError) as exc:  # a hostile entry refuses the bundle
        raise BufdirError(str(exc)) from None
    except zipfile.BadZipFile as exc:  # an entry whose bytes do not match its header
        raise BufdirError(f"{name}: not a readable ZIP ({exc})") from None
    return bundle


def _read_entries(archive: zipfile.ZipFile, monitor: Monitor, bundle: Bundle,
                  indicators: dict[str, str], budget: Budget) -> None:
    """Every workbook entry into `bundle`; each read is counted against `budget`."""
    infos = sorted(archive.infolist(), key=entry_name)
    for info in infos:
        path = entry_name(info)
        base = basename(path.rstrip("/"))
        if info.is_dir():
            continue
        if path.startswith("__MACOSX/") or base.startswith("._"):
            bundle.not_workbooks.append((path, "macOS resource fork"))
            continue
        if base.startswith("~$"):
            bundle.not_workbooks.append((path, "Excel lock file"))
            continue
        if not base.lower().endswith(".xlsx"):
            bundle.not_workbooks.append((path, "not an .xlsx workbook"))
            continue
        bundle.workbooks.append(base)
        why = next((why for pattern, why in monitor.known_other_layouts
                    if pattern.search(base)), None)
        if why:
            bundle.other_layouts.append((base, why))
            continue
        try:
            book = parse_workbook(budget.read_entry(archive, info), base, monitor)
        except LayoutError as exc:
            bundle.failed.append((base, str(exc)))
            continue
        if book.indicator in indicators:
            bundle.failed.append((base, (f"{base}: indicator {book.indicator} again "
                                        f"(also in {indicators[book.indicator]})")))
            continue
        indicators[book.indicator] = base
        bundle.parsed.append(book)


INDICATOR_COLUMNS = ["indicator", "workbook", "title", "sheet", "first_year", "last_year",
                     "tallformats", "rows", "zip_url", "zip_last_modified"]
INDICATOR_TYPES = {"first_year": int, "last_year": int, "rows": int}


def indicator_row(book: Workbook, zip_url: str, last_modified: str | None) -> tuple:
    return (book.indicator, book.file, book.title, book.sheet, min(book.years), max(book.years),
            ", ".join(sorted(book.tallformats)), len(book.rows), zip_url, last_modified)


__all__ = [
    "MONITORS",
    "BufdirError",
    "Monitor",
    "check_zip",
    "choose_zip",
    "normalise_label",
    "parse_workbook",
    "read_bundle",
    "region_code",
]
