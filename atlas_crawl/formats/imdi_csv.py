"""IMDi's CSV exports of its kommune statistics (innvandringsgrunn, landbakgrunn, ...).

Pure parsing, bytes in, rows out. Facts the parser is built on (real exports in
golden/imdi_innvandringsgrunn/ and golden/imdi_landbakgrunn/):

- legacy 8-bit encodings, not always the same: the innvandringsgrunn export is ISO-8859-1, the
  landbakgrunn export of the same delivery is a DOS code page (cp865: "B\\x86tsfjord" is
  Båtsfjord). The encoding is detected (UTF-8 first, then the 8-bit candidates scored by the
  Norwegian letters they produce), never assumed;
- a file whose lines are in two encodings (ISO-8859-1 lines, then UTF-8 lines) is refused,
  naming the first garbled line, never stored with names such as `AskÃ¸y`;
- `;`-separated, CRLF; a header block of several rows before the first kommune row, and a line
  break inside a quoted header cell (`"Kommune\\nnavn"`);
- columns: "Kommune nr & navn" ("0101 Halden"), `kommune_nr` without the leading zero (`101`),
  the name, then one column per cell of the table, described by `dimension.value` tokens in
  the header rows (`innvgrunn_5.arbeid` / `kjonn.1` / `enhet.personer`; `landbakgrunn.101` /
  `enhet.personer`). The first header row names the measured dimension; the label of the other
  header rows is not reliable (the "Kjønn" row holds `enhet.*` tokens);
- numbers with a space as thousands separator in some cells only (`2 098` beside `1091`);
  `:` is suppressed (few persons), kept as status with no value;
- pre-2020 kommune codes (the export is from 2015): placed by the geography step with the year.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import NamedTuple

from atlas_crawl.formats.numbers import parse_cell
from atlas_crawl.formats.text import GarbledText, check_text

# 8-bit encodings IMDi's exports have been seen in, tried after UTF-8.
CANDIDATES = ("cp1252", "latin-1", "cp865")
NORWEGIAN = set("æøåÆØÅáÁéÉ")
# Characters a Norwegian statistics export does not contain: what a wrong code page makes of
# æøå (C1 controls, typographic marks, Greek, box drawing).
_UNLIKELY = re.compile("[\x80-\x9f†‡‰‹›¤°±²³¦¨´¸¹º¼½¾×÷ƒµ\u0370-\u03ff\u2500-\u259f]")
# `...-kommune-2014.csv` (or `..._EXCERPT.csv`); a range such as `1986_2015` names no one year.
_YEAR_IN_NAME = re.compile(r"(?<![\d_])((?:19|20)\d{2})(?:_[A-Za-z]+)?\.csv$", re.IGNORECASE)


class ImdiCsvError(ValueError):
    """An export the parser does not understand; the message names file, row and field."""


class CsvCell(NamedTuple):  # a tuple: an export has ~100,000 of them
    kommune_nr: str  # as written, e.g. "101"
    kommune_label: str  # the first column, e.g. "0101 Halden"
    name: str
    dimensions: dict[str, str]  # e.g. {"innvgrunn_5": "arbeid", "kjonn": "1", "enhet": "personer"}
    value: int | float | None
    status: str | None
    line: int  # 1-based CSV record number


@dataclass(frozen=True)
class CsvExport:
    encoding: str
    measure: str  # the dimension named by the first header row, e.g. "innvgrunn_5"
    cells: list[CsvCell]


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
        score = sum(ch in NORWEGIAN for ch in text) - 5 * len(_UNLIKELY.findall(text))
        if best is None or score > best[0]:
            best = (score, text, encoding)
    assert best is not None  # latin-1 decodes any bytes
    return best[1], best[2]


def year_from_name(name: str) -> int | None:
    """The year in an export's file name (`...-kommune-2014.csv`), if there is one."""
    m = _YEAR_IN_NAME.search(name)
    return int(m[1]) if m else None


def _tokens(cell: str) -> tuple[str, str] | None:
    dim, dot, value = cell.strip().partition(".")
    return (dim, value) if dot and dim and value else None


def parse_export(data: bytes, where: str = "<export>") -> CsvExport:
    text, encoding = decode(data)
    try:  # half ISO-8859-1, half UTF-8 decodes as 8-bit without error: AskÃ¸y
        check_text(text, where, encoding=encoding)
    except GarbledText as exc:
        raise ImdiCsvError(str(exc)) from None
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    if not records:
        raise ImdiCsvError(f"{where}: empty file")
    first_data = next((i for i, r in enumerate(records)
                       if len(r) > 3 and r[1].strip().isdigit()), None)
    if first_data is None or first_data == 0:
        raise ImdiCsvError(f"{where}: no header rows followed by kommune rows (column 2, "
                           "kommune_nr, is never a number)")
    header = records[:first_data]
    if header[0][1].strip() != "kommune_nr":
        raise ImdiCsvError(f"{where}: row 1, column 2: expected 'kommune_nr', "
                           f"found {header[0][1]!r}")
    width = len(header[0])
    columns: list[dict[str, str]] = []
    for col in range(3, width):
        dims: dict[str, str] = {}
        for n, row in enumerate(header, start=1):
            cell = row[col] if col < len(row) else ""
            if not cell.strip():
                continue
            token = _tokens(cell)
            if token is None:
                raise ImdiCsvError(f"{where}: header row {n}, column {col + 1}: expected "
                                   f"'dimension.value', found {cell!r}")
            dims[token[0]] = token[1]
        if not dims:
            raise ImdiCsvError(f"{where}: column {col + 1} has no header")
        columns.append(dims)
    measure = next(iter(columns[0])) if columns else ""
    if not measure or any(next(iter(c)) != measure for c in columns):
        raise ImdiCsvError(f"{where}: header row 1 names more than one measured dimension")

    cells: list[CsvCell] = []
    for line, row in enumerate(records[first_data:], start=first_data + 1):
        if not any(c.strip() for c in row):
            continue
        if len(row) != width:
            raise ImdiCsvError(f"{where}: row {line}: {len(row)} fields, the header has {width}")
        nr = row[1].strip()
        if not nr.isdigit():
            raise ImdiCsvError(f"{where}: row {line}, field kommune_nr: expected digits, "
                               f"found {row[1]!r}")
        label, name = row[0].strip(), row[2].strip()
        for dims, raw in zip(columns, row[3:], strict=True):
            if raw.isdigit():  # most cells: skip the general reader
                value, status = int(raw), None
            else:
                cell = parse_cell(raw)
                if cell.value is None and cell.status is None and raw.strip():
                    raise ImdiCsvError(f"{where}: row {line}, column {dims}: not a number or "
                                       f"a known symbol: {raw!r}")
                value, status = cell.value, cell.status
            cells.append(CsvCell(nr, label, name, dims, value, status, line))
    return CsvExport(encoding, measure, cells)
