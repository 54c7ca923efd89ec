"""Reading the spreadsheets that NAV, Udir and other providers publish.

Pure functions over openpyxl in read-only mode; no Scrapy here. The sheets are laid out for
people, not machines, so nothing is found by a fixed row number:

- :func:`find_header` locates the header row by its labels (NAV's deliveries put it in row 2
  starting at column B; Udir's exports in row 1 at column A) and reports every block when the
  same header repeats side by side.
- :func:`read_records` reads long tables (one observation per row) under such a header.
- :func:`read_wide` reads wide tables whose column header (months, years) repeats above every
  block of rows, and yields one cell per row x column: wide -> long.
- :func:`classify_region` splits ``"4001 Porsgrunn"`` / ``"030101 Gamle Oslo"`` cells into code
  and name, tells the level from the length of the code, and marks totals and rollups
  (``i alt``, ``I alt 03 Oslo - Oslove``, ``Hele landet``) as aggregates; NAV's ``Ukjent`` is
  kept as its own unknown-region bucket.
- :func:`restore_code` puts back the leading zeros a numeric cell lost (Udir's ``122`` -> ``0122``).

Layout drift raises :class:`LayoutError`, naming the file, the sheet, what was expected and
what was found, so a person can act on it.
"""

from __future__ import annotations

import io
import re
import weakref
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

from openpyxl import load_workbook as _load_workbook
from openpyxl.workbook.workbook import Workbook

from atlas_crawl.formats.expansion import check_declared
from atlas_crawl.formats.numbers import clean_text
from atlas_crawl.formats.worksheet import iter_rows, refuse_doctypes

# --------------------------------------------------------------------------------------------
# Errors and opening


class LayoutError(ValueError):
    """The spreadsheet does not look like the layout the parser was written for."""

    def __init__(
        self, *, file: str | None, sheet: str | None, expected: object, found: object
    ) -> None:
        self.file = file
        self.sheet = sheet
        self.expected = expected
        self.found = found
        where = f"{file or '<workbook>'}"
        if sheet is not None:
            where += f", sheet {sheet!r}"
        super().__init__(f"{where}: expected {expected}; found {found}")


#: The file each open workbook was read from, for errors raised while its sheets are read.
_FILES: weakref.WeakKeyDictionary[Workbook, str] = weakref.WeakKeyDictionary()


def open_workbook(data: bytes | str | PathLike[str], *, file: str | None = None) -> Workbook:
    """Open a workbook read-only with cached values (formulas are not evaluated).

    ``file`` names the workbook in refusals where the caller's own message would not (a
    workbook inside a bundle); a spider's line names the file it read, so it is "workbook"
    there.

    Read-only mode stops every sheet at the extent its ``<dimension>`` tag declares; a stale tag
    (``A1:F3`` on a sheet of 40 rows) would silently cut the sheet short. The tag is discarded
    (:func:`sheet_rows` never reads it), so every row and column actually written is read.
    Parts that would expand beyond the configured limits are refused before openpyxl reads
    them (:mod:`.expansion`).
    """
    source: Any = io.BytesIO(data) if isinstance(data, bytes) else data
    name = file or getattr(source, "name", None) or "workbook"
    check_parts(source, name)
    wb = _load_workbook(source, read_only=True, data_only=True)
    for ws in wb.worksheets:
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()
    _FILES[wb] = name
    return wb


def check_parts(source: Any, name: str) -> None:
    """Refuse a workbook whose parts declare more than the expansion limits (Python's zipfile
    never returns more of a part than it declares, and fails on a CRC mismatch, so the declared
    sizes bound what openpyxl and :func:`sheet_rows` can be made to read), or any of whose XML
    parts declares a DOCTYPE (:func:`.worksheet.refuse_doctypes`)."""
    try:
        with zipfile.ZipFile(source) as archive:
            check_declared(archive, name)
            refuse_doctypes(archive, name)
    except zipfile.BadZipFile:
        return  # not a ZIP at all: openpyxl says so in its own words
    finally:
        if hasattr(source, "seek"):
            source.seek(0)


def normalise_label(value: object) -> str:
    """Header text compared loosely: case, surrounding/inner whitespace and a trailing colon."""
    if value is None:
        return ""
    return clean_text(str(value)).rstrip(":").strip().casefold()


def get_sheet(wb: Workbook, name: str, *, file: str | None = None) -> Any:
    """The sheet called ``name``, tolerating stray spaces (NAV's ``" Om statistikken"``) and
    Excel's 31-character truncation (``"4. Kommune Prosent av arbeidsst"``)."""
    wanted = normalise_label(name)
    titles = wb.sheetnames
    for title in titles:
        if normalise_label(title) == wanted:
            return wb[title]
    for title in titles:
        got = normalise_label(title)
        if len(got) >= 20 and wanted.startswith(got):
            return wb[title]
    raise LayoutError(file=file, sheet=name, expected="a sheet with that name", found=titles)


def sheet_rows(ws: Any) -> list[tuple[Any, ...]]:
    """All rows of a sheet as value tuples (1-based row ``n`` is ``rows[n - 1]``, a row never
    written is ``()``): the values openpyxl's ``iter_rows(values_only=True)`` gives, read
    without openpyxl's slow worksheet parser (:mod:`.worksheet`)."""
    return list(iter_sheet_rows(ws))


def iter_sheet_rows(ws: Any) -> Iterator[tuple[Any, ...]]:
    """The rows of :func:`sheet_rows` one by one (to read only the top of a sheet)."""
    wb = getattr(ws, "parent", None)
    return iter_rows(ws, file=_FILES.get(wb) if wb is not None else None)


# --------------------------------------------------------------------------------------------
# Header detection


@dataclass(frozen=True)
class Block:
    """One table under a header row: ``columns`` maps a normalised label to a 0-based column."""

    index: int
    first_col: int
    columns: dict[str, int]
    labels: dict[str, str]  # normalised -> label as written

    def col(self, label: str) -> int:
        return self.columns[normalise_label(label)]


@dataclass(frozen=True)
class Header:
    row: int  # 1-based row number of the header
    blocks: list[Block] = field(default_factory=list)


def find_header(
    rows: Sequence[Sequence[Any]],
    required: Sequence[str],
    *,
    file: str | None = None,
    sheet: str | None = None,
    max_scan: int = 40,
) -> Header:
    """Find the first row (within ``max_scan``) carrying every ``required`` label.

    When the first required label occurs several times in that row, the row holds several
    tables side by side (NAV's deliveries put a by-sex and a both-sexes table next to each
    other): each occurrence starts a :class:`Block` running up to the next one.
    """
    wanted = [normalise_label(x) for x in required]
    best: tuple[int, int, list[str]] = (-1, 0, [])
    for i, row in enumerate(rows[:max_scan]):
        labels = [normalise_label(v) for v in row]
        present = set(labels)
        hits = sum(1 for w in wanted if w in present)
        if hits == len(wanted):
            require_data_rows(rows, i + 1, file=file, sheet=sheet)
            return Header(row=i + 1, blocks=_split_blocks(row, labels, wanted, file, sheet, i))
        if hits > best[1]:
            best = (i, hits, [clean_text(str(v)) for v in row if v not in (None, "")])
    if best[0] >= 0:
        missing = [r for r, w in zip(required, wanted) if w not in
                   {normalise_label(v) for v in rows[best[0]]}]
        found = f"closest row {best[0] + 1} {best[2]!r}, missing {missing!r}"
    else:
        found = f"none of them in the first {min(max_scan, len(rows))} rows"
    raise LayoutError(file=file, sheet=sheet, expected=f"a header row with {list(required)!r}",
                      found=found)


def _is_blank_row(row: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def require_data_rows(rows: Sequence[Sequence[Any]], header_row: int, *, file: str | None,
                      sheet: str | None) -> None:
    """A sheet with its header but nothing under it is an error, never an empty table: stored
    data must not be replaced by nothing because a delivery came out header-only."""
    if all(_is_blank_row(r) for r in rows[header_row:]):
        raise LayoutError(file=file, sheet=sheet,
                          expected=f"data rows under the header in row {header_row}",
                          found="none (the sheet holds only its header)")


def _split_blocks(
    row: Sequence[Any], labels: list[str], wanted: list[str],
    file: str | None, sheet: str | None, row_index: int,
) -> list[Block]:
    anchor = wanted[0]
    starts = [c for c, lab in enumerate(labels) if lab == anchor]
    # Columns left of the first anchor (NAV's "År" before "År-måned") belong to every block at
    # the same offset, so blocks are cut that far left of each anchor.
    lead = starts[0] - next(c for c, lab in enumerate(labels) if lab)
    blocks = []
    for n, anchor_col in enumerate(starts):
        start = anchor_col - lead
        end = starts[n + 1] - lead if n + 1 < len(starts) else len(labels)
        columns: dict[str, int] = {}
        written: dict[str, str] = {}
        for c in range(start, end):
            lab = labels[c]
            if lab and lab not in columns:
                columns[lab] = c
                written[lab] = clean_text(str(row[c]))
        missing = [w for w in wanted if w not in columns]
        if missing:
            raise LayoutError(
                file=file, sheet=sheet,
                expected=f"every repeated table in header row {row_index + 1} to have {wanted!r}",
                found=f"table {n + 1} lacks {missing!r}",
            )
        blocks.append(Block(index=n, first_col=start, columns=columns, labels=written))
    return blocks


# --------------------------------------------------------------------------------------------
# Long tables


@dataclass(frozen=True)
class Record:
    row: int  # 1-based sheet row
    block: int
    values: dict[str, Any]  # normalised header label -> raw cell value

    def __getitem__(self, label: str) -> Any:
        return self.values[normalise_label(label)]

    def get(self, label: str, default: Any = None) -> Any:
        return self.values.get(normalise_label(label), default)


def read_records(
    ws: Any,
    required: Sequence[str],
    *,
    file: str | None = None,
    max_scan: int = 40,
    rows: Sequence[Sequence[Any]] | None = None,
) -> Iterator[Record]:
    """Rows under the header found by ``required`` labels, block by block.

    A row whose cells in a block are all empty ends nothing (blank spacer rows are skipped);
    it just yields no record for that block.
    """
    sheet = getattr(ws, "title", None)
    rows = sheet_rows(ws) if rows is None else rows
    header = find_header(rows, required, file=file, sheet=sheet, max_scan=max_scan)
    for block in header.blocks:
        for i in range(header.row, len(rows)):
            row = rows[i]
            values = {lab: (row[c] if c < len(row) else None) for lab, c in block.columns.items()}
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values.values()):
                continue
            yield Record(row=i + 1, block=block.index, values=values)


# --------------------------------------------------------------------------------------------
# Wide tables (wide -> long)


@dataclass(frozen=True)
class WideCell:
    row: int  # 1-based sheet row
    label: str  # row label as written (cleaned of whitespace)
    column: str  # column header as written (e.g. "Januar")
    raw: Any  # the cell as read


def read_wide(
    ws: Any,
    header_labels: Sequence[str],
    *,
    min_match: int = 1,
    label_col: int | None = None,
    file: str | None = None,
    rows: Sequence[Sequence[Any]] | None = None,
    sheet: str | None = None,
) -> Iterator[WideCell]:
    """Melt a sheet whose column header repeats above each block (NAV's month rows).

    A row is a header when at least ``min_match`` of its cells are in ``header_labels``; it
    sets the column -> label map for the rows below it. The row label sits in ``label_col``
    (0-based) or, by default, in the column just left of the first header label. Rows with a
    label but no value in any header column (fylke titles, blank spacers) yield nothing.
    """
    sheet = sheet or getattr(ws, "title", None)
    rows = sheet_rows(ws) if rows is None else rows
    known = {normalise_label(x) for x in header_labels}
    columns: dict[int, str] | None = None
    lab_col = label_col
    cells_read = 0
    for i, row in enumerate(rows):
        hits = {c: clean_text(str(v)) for c, v in enumerate(row) if normalise_label(v) in known}
        if len(hits) >= max(min_match, 1):
            columns = hits
            if label_col is None:
                lab_col = min(hits) - 1
            continue
        if columns is None or lab_col is None or lab_col < 0:
            continue
        label = row[lab_col] if lab_col < len(row) else None
        if label is None or not str(label).strip():
            continue
        cells = [(c, row[c] if c < len(row) else None) for c in columns]
        if all(v is None or (isinstance(v, str) and not v.strip()) for _, v in cells):
            continue
        text = clean_text(str(label))
        for c, v in cells:
            cells_read += 1
            yield WideCell(row=i + 1, label=text, column=columns[c], raw=v)
    if columns is None:
        raise LayoutError(file=file, sheet=sheet,
                          expected=f"a header row with at least {min_match} of {list(header_labels)!r}",
                          found=f"no such row in {len(rows)} rows")
    if not cells_read:
        raise LayoutError(file=file, sheet=sheet, expected="data rows under the header",
                          found="none (the sheet holds only its header)")


def melt(
    records: Iterable[Record],
    id_labels: Sequence[str],
    value_label: Callable[[str], Any],
) -> Iterator[tuple[dict[str, Any], Any, Any]]:
    """Wide -> long for one header row of many value columns (Udir's statistikkbank export).

    ``value_label(header)`` returns a key for a value column or ``None`` to skip it; yields
    ``(ids, key, raw)`` per record and value column.
    """
    ids_wanted = [normalise_label(x) for x in id_labels]
    keys: dict[str, Any] | None = None
    for rec in records:
        if keys is None:
            keys = {lab: value_label(lab) for lab in rec.values if lab not in ids_wanted}
        ids = {lab: rec.values.get(lab) for lab in ids_wanted}
        for lab, key in keys.items():
            if key is not None:
                yield ids, key, rec.values.get(lab)


# --------------------------------------------------------------------------------------------
# Region labels and codes

LEVEL_WIDTH = {"fylke": 2, "kommune": 4, "bydel": 6, "delbydel": 8, "grunnkrets": 8}
WIDTH_LEVEL = {2: "fylke", 4: "kommune", 6: "bydel", 8: "grunnkrets"}

_TOTAL_PREFIX = re.compile(r"^i\s+alt\b\s*", re.IGNORECASE)
_TOTAL_SUFFIX = re.compile(r"\s*\bi\s+alt$", re.IGNORECASE)
_CODE_NAME = re.compile(r"^(\d+)(?:\s+(.*))?$")
_NATIONAL = {"hele landet", "landet", "norge", "i alt", "alle fylker", "alle kommuner"}
_UNKNOWN = {"ukjent", "uoppgitt"}


@dataclass(frozen=True)
class RegionLabel:
    raw: str
    code: str | None
    name: str | None
    level: str | None  # national | fylke | kommune | bydel | grunnkrets | unknown | None (name only)
    aggregate: bool  # a total or rollup row (``i alt``, ``Hele landet``)


def split_code_name(text: str) -> tuple[str | None, str | None]:
    """``"4001 Porsgrunn"`` -> ``("4001", "Porsgrunn")``; ``"Ukjent"`` -> ``(None, "Ukjent")``."""
    s = clean_text(text)
    m = _CODE_NAME.match(s)
    if m:
        return m.group(1), (m.group(2) or None)
    return None, (s or None)


def classify_region(label: object) -> RegionLabel:
    """Split a region label into code and name and say what kind of row it is.

    - the level comes from the number of digits (2 fylke, 4 kommune, 6 bydel, 8 grunnkrets),
      never from row order or from an ``i alt`` suffix (NAV's Oslo and Stavanger differ);
    - ``I alt 03 Oslo - Oslove``, ``03 Oslo - Oslove i alt``, ``I alt Oslo - Oslove`` are fylke
      rollups (``aggregate``); ``1103 Stavanger i alt`` is kommune 1103 marked as a rollup;
    - ``Hele landet`` / ``Landet`` is the national total, code ``"0"``;
    - ``Ukjent`` is NAV's unknown-region bucket: level ``unknown``, no code, kept;
    - a name without a code has level ``None`` and is left to the geography resolver.
    """
    raw = clean_text(str(label)) if label is not None else ""
    s = raw
    total = False
    if _TOTAL_PREFIX.match(s) and s.casefold() != "i alt":
        s, total = _TOTAL_PREFIX.sub("", s), True
    elif _TOTAL_SUFFIX.search(s) and s.casefold() != "i alt":
        s, total = _TOTAL_SUFFIX.sub("", s), True
    if s.casefold() in _NATIONAL:
        return RegionLabel(raw, "0", "Hele landet" if s.casefold() == "i alt" else s,
                           "national", True)
    code, name = split_code_name(s)
    if code is not None:
        level = WIDTH_LEVEL.get(len(code))
        if level is None:
            raise ValueError(f"region code {code!r} in {raw!r} has no known level")
        return RegionLabel(raw, code, name, level, total)
    if name is not None and name.casefold() in _UNKNOWN:
        return RegionLabel(raw, None, name, "fylke" if total else "unknown", total)
    return RegionLabel(raw, None, name, "fylke" if total else None, total)


def restore_code(value: object, level: str) -> str | None:
    """A region code as a zero-padded string for its level: ``122`` -> ``"0122"`` (kommune),
    ``1`` -> ``"01"`` (fylke), ``"301"`` -> ``"0301"``. ``None``/blank -> ``None``.

    Raises :class:`ValueError` when the value is not a whole number or is too long for the
    level (a 9-digit organisasjonsnummer in a kommune column is drift, not a code).
    """
    width = LEVEL_WIDTH[level]
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{value!r} is not a {level} code")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value!r} is not a {level} code")
        value = int(value)
    text = clean_text(str(value))
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(f"{value!r} is not a {level} code")
    if len(text) > width:
        raise ValueError(f"{value!r} is too long for a {level} code ({width} digits)")
    return text.zfill(width)
