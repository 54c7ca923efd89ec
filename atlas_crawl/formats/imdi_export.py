"""IMDi's CSV exports of its integration statistics (integreringsdata), the whole family.

Pure parsing, bytes in, long rows out: one row per place and table cell, with the variable,
the breakdowns and the unit its header names. Every fact below was seen in the 107 real exports
(bengler/imdi-dataset, `import/files/`; copies in tests/data/imdi_integrering/ and golden/imdi_*):

- legacy 8-bit encodings, not always the same: most are ISO-8859-1, some a DOS code page
  (cp865: "Gr\\x81nerl\\x9bkka" is Grünerløkka). Detected (UTF-8 first, then the 8-bit
  candidates scored by the Norwegian letters they produce), never assumed; a file whose lines
  are in two encodings (ISO-8859-1, then UTF-8) is refused naming the first garbled line, never
  stored with names such as `AskÃ¸y`;
- `;`-separated, CRLF, every field optionally quoted (the population series quotes all);
- a header block of two to five rows before the first place row. Columns 1-3 are the place:
  a label ("0101 Halden", "01 Gamle Oslo"), the code (`kommune_nr` or `bydel_nr`, named in the
  first header row, or in the second: the introduction-programme status export), the name
  (the header cell may hold a line break: `"Kommune\\nnavn"`, `"Kommune\\r\\nnavn"`).
  From column 4 on, each header row holds a `dimension.value` token: the first row names the
  variable (`innvkat_5.innvandrere`, `bosetting.anmodning`; one export may mix groupings:
  `vreg_2.1` beside `vreg_9.asia`), the rows after it the breakdowns (`kjonn.alle`,
  `vreg_3.1`, `alder_grupper.16_19`), and a row of `enhet.*` tokens the unit (`personer`,
  `prosent`, `promille`, `kroner`) - the row labels ("Nedbrytninger", "Kjønn", "Alder", "Type
  tall") are not reliable, the tokens are. A column may lack a breakdown another column has;
- columns with no header at all: trailing empty ones, and one holding only `NA` (the Norwegian
  tests export): skipped, and anything but a symbol in one is an error;
- a header written again: the bydel school-points export repeats its all-groups columns in
  each block (columns 5, 28 and 46 are one variable), the bydel settlement-decisions export
  names `bosetting.vedtak` / `prosent` in columns 5 and 7. Such a column is read once, from
  the first; each repeat must hold the same cell or a symbol (a block suppresses, to protect
  its other cells, what the first block shows: `:` beside `30,2`), else it is an error;
- codes without the leading zero (`101` is 0101 Halden, `30101` is 030101 Gamle Oslo): restored
  to 4 digits (kommune) or 6 (bydel); a bydel export also has its city's own row (`301`);
- numbers: decimal commas (`62,86`), a space as thousands separator in some cells only
  (`341 500` beside `304200`, `99 999,99`), negative numbers (net moves; SSB's small random
  perturbation of small counts shows as `-2` persons in the population series);
- symbols, kept in `status` with the value NULL: `:` suppressed (few persons; also written
  ` : ` and `       :`), `.` not applicable (no denominator; a kommune code not in use that
  year in the population series), `-` nil (the bydel school-points export), `NA`;
- one defect of IMDi's own: in the introduction-programme completion export (51, kommune, 2014)
  three cells in every 25th row of one column hold header tokens (`kjonn.alle`) instead of a
  number; the reader gives them as status (the token verbatim), the value NULL, never guessed
  (the contract step then quarantines them: no publisher's symbol);
- blank cells in named columns (the "Uoppgitt kommune" row of the adult-education export) say
  nothing and yield no row; blank rows (after the bydel rows of two exports) and a row with
  neither code nor number (after the last kommune of one export) are skipped.

Errors name the file, the line and the column in one line (:class:`ImdiExportError`).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import NamedTuple

from atlas_crawl.formats.expansion import Budget, check_declared
from atlas_crawl.formats.numbers import clean_text, parse_number
from atlas_crawl.formats.text import GarbledText, check_text

# 8-bit encodings IMDi's exports have been seen in, tried after UTF-8.
CANDIDATES = ("cp1252", "latin-1", "cp865")
NORWEGIAN = set("æøåÆØÅáÁéÉüÜ")
# Characters a Norwegian statistics export does not contain: what a wrong code page makes of
# æøå (C1 controls, typographic marks, Greek, box drawing).
_UNLIKELY = re.compile("[\x80-\x9f†‡‰‹›¤°±²³¦¨´¸¹º¼½¾×÷ƒµ\u0370-\u03ff\u2500-\u259f]")
# `...-kommune-2014.csv`, `...-bydel-2011_2013.csv` (a pooled period), `..._EXCERPT.csv`.
_NAME = re.compile(r"^(?P<kind>.+?)-(?P<geo>kommune|bydel)-(?P<first>(?:19|20)\d{2})"
                   r"(?:_(?P<last>(?:19|20)\d{2}))?(?:_[A-Za-z]+)?\.csv$", re.IGNORECASE)
_TOKEN = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\.([^\s.;]+)$")  # alder_grupper.67+
CODE_COLUMNS = {"kommune_nr": "kommune", "bydel_nr": "bydel"}
_SIMPLE = re.compile(r"-?\d+(?:,\d+)?").fullmatch  # a number with no spaces or grouping
# The symbols the exports use instead of a number (see the module docstring).
SYMBOLS = frozenset({":", ".", "-", "NA"})


class ImdiExportError(ValueError):
    """An export the reader does not understand; the message names file, line and column."""


@dataclass(frozen=True)
class Column:
    """One value column of an export, described by its header tokens."""

    number: int  # 1-based column number in the file
    variable: str  # the first header row's token, e.g. "innvkat_5.innvandrere"
    breakdowns: tuple[str, ...]  # the other rows' tokens in order, e.g. ("kjonn.alle",)
    unit: str  # the enhet token's value ("personer"), "" when the export names none

    @property
    def breakdown(self) -> str:
        """The breakdowns as one text, e.g. "vreg_3.1, kjonn.0" ("" when there are none)."""
        return ", ".join(self.breakdowns)


class ExportRow(NamedTuple):  # a tuple: the population series has ~460,000 of them
    code: str  # 4 digits (kommune) or 6 (bydel), the leading zero restored
    level: str  # kommune | bydel
    name: str  # the place name as IMDi wrote it
    raw_code: str  # as written, e.g. "101"
    label: str  # the first column, e.g. "0101 Halden"
    column: Column
    value: int | float | None
    status: str | None
    line: int  # the file line the row is on


@dataclass(frozen=True)
class Export:
    encoding: str
    geography: str  # kommune | bydel: the export's code column (kommune_nr or bydel_nr)
    header_rows: int
    columns: tuple[Column, ...]
    rows: list[ExportRow]
    skipped_columns: tuple[int, ...] = ()  # unnamed and repeated columns (1-based)
    blank_cells: int = 0
    variables: tuple[str, ...] = field(default=())

    @property
    def units(self) -> set[str]:
        return {c.unit for c in self.columns}


class ExportName(NamedTuple):
    kind: str  # e.g. "09_1-bosatt_anmodede"
    geography: str  # kommune | bydel
    first_year: int
    last_year: int

    @property
    def period(self) -> str:
        """"2014", or "2011-2013" for a pooled period."""
        if self.first_year == self.last_year:
            return str(self.last_year)
        return f"{self.first_year}-{self.last_year}"


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 if the bytes are UTF-8, else the 8-bit code page whose reading
    has the most Norwegian letters and the fewest impossible characters."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    best: tuple[int, str, str] | None = None
    for encoding in CANDIDATES:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = sum(map(text.count, NORWEGIAN)) - 5 * len(_UNLIKELY.findall(text))
        if best is None or score > best[0]:
            best = (score, text, encoding)
    assert best is not None  # latin-1 decodes any bytes
    return best[1], best[2]


def parse_name(name: str) -> ExportName | None:
    """What an export's file name says: `09_1-bosatt_anmodede-kommune-2014.csv` is kind
    `09_1-bosatt_anmodede`, kommune, 2014; `...-bydel-2011_2013.csv` a pooled 2011-2013."""
    m = _NAME.match(name)
    if not m:
        return None
    first = int(m["first"])
    last = int(m["last"]) if m["last"] else first
    if last < first:
        return None
    return ExportName(m["kind"], m["geo"].lower(), first, last)


def restore_code(raw: str) -> tuple[str, str] | None:
    """(code, level) for a code written without its leading zero: "101" -> ("0101", kommune),
    "30101" -> ("030101", bydel); None for anything else."""
    if not raw.isdigit() or not 1 <= len(raw) <= 6:
        return None
    if len(raw) <= 4:
        return raw.zfill(4), "kommune"
    return raw.zfill(6), "bydel"


def _is_place_row(record: list[str]) -> bool:
    return len(record) > 3 and record[1].strip().isdigit()


def read_export(data: bytes, where: str = "<export>") -> Export:
    """Read one export into long rows (see the module docstring)."""
    text, encoding = decode(data)
    try:  # half ISO-8859-1, half UTF-8 decodes as 8-bit without error: AskÃ¸y
        check_text(text, where, encoding=encoding)
    except GarbledText as exc:
        raise ImdiExportError(str(exc)) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    records: list[tuple[int, list[str]]] = []  # (the line the record starts on, fields)
    start = 1
    try:
        for record in reader:
            records.append((start, record))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImdiExportError(f"{where}: line {reader.line_num}: not CSV: {exc}") from None
    if not records:
        raise ImdiExportError(f"{where}: empty file")
    first_data = next((i for i, (_, r) in enumerate(records) if _is_place_row(r)), None)
    if not first_data:
        raise ImdiExportError(f"{where}: no header rows followed by place rows (column 2, "
                              "kommune_nr or bydel_nr, is never a number)")
    header = [r for _, r in records[:first_data]]
    geography = next((CODE_COLUMNS[r[1].strip()] for r in header
                      if len(r) > 1 and r[1].strip() in CODE_COLUMNS), None)
    if geography is None:
        raise ImdiExportError(f"{where}: line 1, column 2: expected 'kommune_nr' or "
                              f"'bydel_nr' in a header row, found {header[0][1]!r}")
    width = len(header[0])
    columns, unnamed, repeats = _columns(header, records, width, where)

    rows: list[ExportRow] = []
    blank = 0
    for line, record in records[first_data:]:
        if not any(c.strip() for c in record):
            continue
        if len(record) != width:
            raise ImdiExportError(f"{where}: line {line}: {len(record)} fields, the header has "
                                  f"{width}")
        raw = record[1].strip()
        placed = restore_code(raw)
        if not raw and not any(parse_number(c) is not None for c in record[3:]):
            continue  # a row with neither place nor number (after the last kommune of one export)
        if placed is None:
            raise ImdiExportError(f"{where}: line {line}, column 2 ({geography}_nr): expected "
                                  f"a kommune or bydel number, found {record[1]!r}")
        code, level = placed
        label, name = clean_text(record[0]), clean_text(record[2])
        for col in columns:
            cell = record[col.number - 1]
            if cell.isdigit():  # most cells: skip the general reader
                rows.append(ExportRow(code, level, name, raw, label, col, int(cell), None, line))
                continue
            if _SIMPLE(cell):  # "62,86", "-2": the next most common
                number = float(cell.replace(",", ".")) if "," in cell else int(cell)
                rows.append(ExportRow(code, level, name, raw, label, col, number, None, line))
                continue
            value, status = read_cell(cell)
            if value is None and status is None:
                if cell.strip():
                    raise ImdiExportError(
                        f"{where}: line {line}, column {col.number} ({col.variable}"
                        f"{', ' + col.breakdown if col.breakdowns else ''}): not a number or a "
                        f"known symbol: {cell!r}")
                blank += 1
                continue
            rows.append(ExportRow(code, level, name, raw, label, col, value, status, line))
        for number in unnamed:
            cell = clean_text(record[number - 1])
            if cell and cell not in SYMBOLS:
                raise ImdiExportError(f"{where}: line {line}, column {number}: a value "
                                      f"({cell!r}) in a column with no header")
        for number, first in repeats.items():
            cell, same = clean_text(record[number - 1]), clean_text(record[first - 1])
            if cell != same and cell not in SYMBOLS:  # a block may suppress what another shows
                raise ImdiExportError(f"{where}: line {line}, column {number}: {cell!r}, but the "
                                      f"column has the header of column {first}, which holds "
                                      f"{same!r}")
    variables = tuple(dict.fromkeys(c.variable for c in columns))
    return Export(encoding, geography, first_data, tuple(columns), rows,
                  tuple(sorted([*unnamed, *repeats])), blank, variables)


def read_cell(cell: str) -> tuple[int | float | None, str | None]:
    """(value, status) of one data cell: a number, a symbol, a header token written where a
    number belongs (kept verbatim as status), or (None, None) for a blank or unknown text."""
    text = clean_text(cell)
    if not text:
        return None, None
    if text in SYMBOLS:
        return None, text
    number = parse_number(text)
    if number is not None:
        return number, None
    if _TOKEN.match(text):
        return None, text
    return None, None


def _columns(header: list[list[str]], records, width: int,
             where: str) -> tuple[list[Column], list[int], dict[int, int]]:
    """The value columns; the unnamed columns; the repeated ones (number -> the first)."""
    columns: list[Column] = []
    unnamed: list[int] = []
    header_lines = [line for line, _ in records[:len(header)]]
    for index in range(3, width):
        tokens: list[tuple[str, str]] = []
        for row, line in zip(header, header_lines, strict=True):
            cell = clean_text(row[index]) if index < len(row) else ""
            if not cell:
                continue
            m = _TOKEN.match(cell)
            if not m:
                raise ImdiExportError(f"{where}: line {line}, column {index + 1}: expected a "
                                      f"header token 'dimension.value', found {cell!r}")
            tokens.append((m[1], m[2]))
        if not tokens:
            unnamed.append(index + 1)
            continue
        units = [v for d, v in tokens if d == "enhet"]
        named = [f"{d}.{v}" for d, v in tokens if d != "enhet"]
        if len(units) > 1 or not named:
            raise ImdiExportError(f"{where}: column {index + 1}: the header names "
                                  f"{'several units' if named else 'no variable'}: "
                                  f"{', '.join(f'{d}.{v}' for d, v in tokens)}")
        columns.append(Column(index + 1, named[0], tuple(named[1:]),
                              units[0] if units else ""))
    if not columns:
        raise ImdiExportError(f"{where}: line 1: no value columns (no header tokens from "
                              "column 4 on)")
    seen: dict[tuple, int] = {}
    kept: list[Column] = []
    repeats: dict[int, int] = {}
    for col in columns:
        key = (col.variable, col.breakdowns, col.unit)
        if key in seen:  # a header written again: must repeat the first column's cells
            repeats[col.number] = seen[key]
            continue
        seen[key] = col.number
        kept.append(col)
    return kept, unnamed, repeats


def export_files(data: bytes, name: str) -> list[tuple[str, bytes]]:
    """The exports in one input: the file itself, or every `.csv` entry of a zip of exports
    (in name order; folders and other entries are left out), read within the zip limits of
    atlas_crawl.formats.expansion."""
    if not data.startswith(b"PK\x03\x04"):
        return [(name, data)]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ImdiExportError(f"{name}: not a readable zip: {exc}") from None
    with archive:
        check_declared(archive, name)
        budget = Budget(name)
        entries = sorted((i for i in archive.infolist()
                          if not i.is_dir() and i.filename.lower().endswith(".csv")
                          and not i.filename.startswith("__MACOSX/")),
                         key=lambda i: i.filename)
        if not entries:
            raise ImdiExportError(f"{name}: a zip with no .csv export in it")
        return [(f"{name}!{i.filename.rsplit('/', 1)[-1]}", budget.read_entry(archive, i))
                for i in entries]
