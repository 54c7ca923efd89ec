"""IMDi's CSV exports of its kommune statistics, in the shape the innvandringsgrunn and
landbakgrunn spiders store: one cell per kommune and column, its header tokens as a dict.

A view of atlas_crawl.formats.imdi_export, the reader of the whole export family. Pure parsing,
bytes in, rows out. Facts the parser is built on (real exports in
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

import re
from dataclasses import dataclass
from typing import NamedTuple

from atlas_crawl.formats.imdi_export import ImdiExportError, decode, read_export

__all__ = ["CsvCell", "CsvExport", "ImdiCsvError", "decode", "parse_export", "year_from_name"]

# `...-kommune-2014.csv` (or `..._EXCERPT.csv`); a range such as `1986_2015` names no one year.
_YEAR_IN_NAME = re.compile(r"(?<![\d_])((?:19|20)\d{2})(?:_[A-Za-z]+)?\.csv$", re.IGNORECASE)

ImdiCsvError = ImdiExportError


class CsvCell(NamedTuple):  # a tuple: an export has ~100,000 of them
    kommune_nr: str  # as written, e.g. "101"
    kommune_label: str  # the first column, e.g. "0101 Halden"
    name: str
    dimensions: dict[str, str]  # e.g. {"innvgrunn_5": "arbeid", "kjonn": "1", "enhet": "personer"}
    value: int | float | None
    status: str | None
    line: int  # the file line of the kommune's row


@dataclass(frozen=True)
class CsvExport:
    encoding: str
    measure: str  # the dimension named by the first header row, e.g. "innvgrunn_5"
    cells: list[CsvCell]


def year_from_name(name: str) -> int | None:
    """The year in an export's file name (`...-kommune-2014.csv`), if there is one."""
    m = _YEAR_IN_NAME.search(name)
    return int(m[1]) if m else None


def _dims(column) -> dict[str, str]:
    dims = dict(token.split(".", 1) for token in (column.variable, *column.breakdowns))
    if column.unit:
        dims["enhet"] = column.unit
    return dims


def parse_export(data: bytes, where: str = "<export>") -> CsvExport:
    export = read_export(data, where)
    if export.geography != "kommune":
        raise ImdiCsvError(f"{where}: a {export.geography} export; this reads kommune exports")
    measures = {c.variable.split(".", 1)[0] for c in export.columns}
    if len(measures) != 1:
        raise ImdiCsvError(f"{where}: header row 1 names more than one measured dimension: "
                           f"{', '.join(sorted(measures))}")
    dims = {c.number: _dims(c) for c in export.columns}
    cells = [CsvCell(r.raw_code, r.label, r.name, dims[r.column.number], r.value, r.status,
                     r.line) for r in export.rows]
    return CsvExport(export.encoding, measures.pop(), cells)
