"""A worksheet's rows, read straight from its XML part with lxml.

openpyxl's read-only worksheet feeds every part through defusedxml's pure-Python ElementTree
parser and builds a dict per cell: on NAV's 2011-2024 workbook (12 MB of sheet XML, 310,000
cells) that was most of a crawl. Here openpyxl still opens the workbook and keeps everything but
the cells (the sheet list, the shared strings, which styles are dates, the 1900/1904 epoch),
and the part's ``<row>`` elements are streamed with lxml's ``iterparse`` (libxml2, in C), each
cell converted as openpyxl's ``WorkSheetParser.parse_cell`` converts it with ``data_only=True``:

- ``t`` absent or ``n``: ``int``, or ``float`` when the text holds ``.``, ``E`` or ``e``; a date
  style makes it a ``datetime`` (or ``time``/``timedelta``) through openpyxl's ``from_excel``,
  and a serial outside the dates becomes ``"#VALUE!"`` with openpyxl's warning;
- ``s``: the shared string; ``inlineStr``: the text of ``<is>``; ``b``: ``bool``;
  ``d``: openpyxl's ``from_ISO8601``; ``str``, ``e`` (``#N/A``) and the rest: the text as is;
- formula cells give their cached ``<v>`` (formulas are never evaluated); an empty ``<v/>`` or
  none is ``None``.

Rows are what ``ws.iter_rows(values_only=True)`` gives once the stale ``<dimension>`` is
dropped: row ``n`` is the ``n``-th tuple, a missing row is ``()``, a row is as wide as its last
written cell (an empty ``<c/>`` included), a row number already passed is skipped.
tests/formats/test_worksheet.py compares the two, cell by cell and type by type, on every
workbook the project keeps, so they cannot drift apart unseen.

The XML is read safely: no entity is expanded (``resolve_entities=False``), nothing is fetched
(``no_network``), no DTD is loaded, libxml2's limits on depth and text size stay on (no
``huge_tree``), and a part that declares a DOCTYPE is refused before any of its rows is used.
The part's declared size was checked when the workbook was opened (:mod:`.expansion`), and a
row number past Excel's last row is refused rather than padded with millions of empty rows.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.parsers import expat

from lxml import etree
from openpyxl.cell.text import Text
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.xml.constants import SHEET_MAIN_NS

ROW = f"{{{SHEET_MAIN_NS}}}row"
VALUE = f"{{{SHEET_MAIN_NS}}}v"
INLINE_STRING = f"{{{SHEET_MAIN_NS}}}is"
DIGITS = "0123456789"
MAX_ROW = 1_048_576  # Excel's last row
CLEAR_EVERY = 512  # rows read before the finished ones are dropped from the tree


class SheetXmlError(ValueError):
    """A workbook part that is not safe or not well-formed XML, named in one line."""


class _Prolog(Exception):
    """The first element of a part: its prolog held no DOCTYPE."""


def refuse_doctypes(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse a workbook any of whose XML parts declares a DOCTYPE, naming the file and the
    part. Excel never writes one; a DOCTYPE is where entities (and their expansion) are
    declared. Each part is read only up to its first element, where a DOCTYPE must come."""
    def doctype(*_: object) -> None:
        raise SheetXmlError(f"{name}: part {part} declares a DOCTYPE; a workbook never needs "
                            "one and its entities are not read: refused")

    def first_element(*_: object) -> None:
        raise _Prolog

    for info in archive.infolist():
        part = info.filename
        if not part.endswith((".xml", ".rels")):
            continue
        parser = expat.ParserCreate()
        parser.StartDoctypeDeclHandler = doctype
        parser.StartElementHandler = first_element
        with archive.open(info) as stream:
            try:
                while chunk := stream.read(4096):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
            except (_Prolog, expat.ExpatError):
                continue  # a part that is not XML is left to the reader that needs it


def iter_rows(ws: Any, *, file: str | None = None) -> Iterator[tuple[Any, ...]]:
    """The values of every row of a read-only worksheet, as tuples (see the module's doc).

    ``file`` names the workbook in errors. A worksheet that is not read from a file (one built
    in memory) is read by openpyxl itself."""
    archive = getattr(getattr(ws, "parent", None), "_archive", None)
    part = getattr(ws, "_worksheet_path", None)
    if archive is None or part is None:
        for row in ws.iter_rows(values_only=True):
            yield tuple(row)
        return
    where = f"{file or 'workbook'}: worksheet part {part} (sheet {ws.title!r})"
    with archive.open(part) as source:
        yield from _rows(source, _Cells(ws, where), where)


class _Cells:
    """What turns one ``<c>`` into its value: the workbook's shared strings and date styles."""

    def __init__(self, ws: Any, where: str):
        wb = ws.parent
        self.where = where
        self.strings = ws._shared_strings
        self.dates = wb._date_formats  # style ids (ints) whose number format is a date
        self.timedeltas = wb._timedelta_formats
        self.epoch = wb.epoch
        self.columns: dict[str, int] = {}  # "AB" -> 28

    def column(self, coordinate: str) -> int:
        """The column of a cell reference, as openpyxl's coordinate_to_tuple reads it."""
        try:
            column = coordinate_to_tuple(coordinate)[1]
        except ValueError:
            raise SheetXmlError(f"{self.where}: cell reference {coordinate!r} is not a column "
                                "and row like 'B7'; refused") from None
        letters = coordinate.rstrip(DIGITS)
        if letters != coordinate and letters.isascii() and letters.isalpha():
            self.columns[letters] = column
        return column

    def date(self, value: float, style: int | str, coordinate: str | None) -> Any:
        """A number in a date style, as openpyxl converts it."""
        try:
            return from_excel(value, self.epoch, timedelta=style in self.timedeltas)
        except (OverflowError, ValueError):
            warnings.warn(f"Cell {coordinate} is marked as a date but the serial value {value} "
                          "is outside the limits for dates. The cell will be treated as an "
                          "error.", stacklevel=2)
            return "#VALUE!"

    def other(self, t: str, value: str) -> Any:
        """A value of a type other than a number or a shared string."""
        if t == "b":
            return bool(int(value))
        if t == "d":
            return from_ISO8601(value)
        return value  # "str", "e" (#N/A, #DIV/0!) and anything unknown: the text as written


def _row_number(r: str, where: str) -> int:
    try:
        number = int(r)
    except ValueError:
        try:
            as_float = float(r)
        except ValueError:
            as_float = 0.5
        if not as_float.is_integer():
            raise SheetXmlError(f"{where}: row number {r!r} is not a whole number; "
                                "refused") from None
        number = int(as_float)
    if number > MAX_ROW:
        raise SheetXmlError(f"{where}: row number {number:,} is past Excel's last row "
                            f"({MAX_ROW:,}); refused")
    return number


def _refuse_doctype(element: Any, where: str) -> None:
    info = element.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise SheetXmlError(f"{where} declares a DOCTYPE ({info.doctype or 'internal subset'}); "
                            "a worksheet never needs one and its entities are not read: refused")


def _rows(source: Any, cells: _Cells, where: str) -> Iterator[tuple[Any, ...]]:
    events = etree.iterparse(
        source, events=("end",), tag=ROW, resolve_entities=False, no_network=True,
        load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True)
    strings, dates, columns = cells.strings, cells.dates, cells.columns
    value_tag, digits = VALUE, DIGITS  # locals: looked up once per cell
    number = 0  # the row number the part is at (a <row> without r="" is the one after)
    expected = 1  # the row number the next tuple stands for
    read = 0
    try:
        for _, row in events:
            if not read:
                _refuse_doctype(row, where)
            read += 1
            r = row.get("r")
            number = _row_number(r, where) if r is not None else number + 1
            if number < expected:  # a row number already passed: openpyxl skips it too
                row.clear()
                continue
            while expected < number:
                yield ()
                expected += 1
            expected += 1
            values: list[Any] = []
            col = 0
            for c in row:
                coordinate = c.get("r")
                if coordinate:
                    letters = coordinate.rstrip(digits)
                    col = columns.get(letters) if letters != coordinate else None
                    if col is None:
                        col = cells.column(coordinate)
                else:
                    col += 1
                t = c.get("t")
                value = None
                if t == "inlineStr":
                    child = c.find(INLINE_STRING)
                    if child is not None:
                        value = Text.from_tree(child).content
                else:
                    for v in c:
                        if v.tag == value_tag:
                            value = v.text or None
                            break
                    if value is not None:
                        if t is None or t == "n":
                            if "." in value or "E" in value or "e" in value:
                                value = float(value)
                            else:
                                value = int(value)
                            if dates:
                                style = c.get("s", 0)
                                if style:
                                    style = int(style)
                                if style in dates:
                                    value = cells.date(value, style, coordinate)
                        elif t == "s":
                            value = strings[int(value)]
                        else:
                            value = cells.other(t, value)
                width = len(values)
                if col == width + 1:
                    values.append(value)
                elif col > width:
                    values.extend([None] * (col - width - 1))
                    values.append(value)
                else:
                    values[col - 1] = value
            if col < len(values):  # a row is as wide as its last cell, not its widest
                del values[col:]
            yield tuple(values)
            row.clear()
            if read % CLEAR_EVERY == 0:
                parent = row.getparent()
                if parent is not None:
                    del parent[:parent.index(row)]
        if not read and events.root is not None:
            _refuse_doctype(events.root, where)
    except etree.XMLSyntaxError as exc:
        raise SheetXmlError(f"{where} is not well-formed XML ({exc}); refused") from None
