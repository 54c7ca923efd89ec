"""NAV's delivered monthly workbooks (per fylke), recognised by their headers, not their names.

Pure parsing, bytes in, rows out. NAV generates these workbooks for a fylke each month
(``creator=SERVER``) -- they are not the public PST302/AAP155/HL060 files (see
:mod:`atlas_crawl.formats.nav`). Every sheet is one long table, often twice side by side (by
Kvinner/Menn on the left, Begge kjønn on the right), under a header row near the top. Four
layouts are known, each told by the labels of its header:

============  =======================================================  ==========================
layout        telling header labels                                     table
============  =======================================================  ==========================
ledighet      ``Arbeidsmarkedsstatus hovedgruppe``, ``% av              nav_ledighet_maned
              arbeidsstyrken``
yrkesbakgr.   ``Sum helt ledige, delvis ledige og arbeidssøkere på       nav_arbeidssokere_yrke
              tiltak``, ``Praksis yrke grovgruppe ISCO08``
stilling      ``Tilgang stillinger i perioden``                          nav_stillinger_yrke
nedsatt       ``Alder``, ``Beh personer i mnd``, ``V_Prosent…``          nav_nedsatt_arbeidsevne
============  =======================================================  ==========================

What varies between deliveries and is read either way: fewer sheets; the header cell over the
level column ("Landet", "Fylker", "Telemark kommuner") empty; percentages rounded (``2.3``) or
not (``6.88976427642862``); the region as ``"4001 Porsgrunn"`` or as a name only (``"Bamble"``,
then placed within the fylke the level column names). A region with a code is keyed by its
code: deliveries of 2025 list a fylke under its old and its current code (``01 Østfold`` and
``31 Østfold``) and carry rows of zeros under dissolved fylker named in another order (``38
Telemark og Vestfold``, ``54 Finnmark og Troms``); both are rows as NAV wrote them, placed by
the geography step. ``*`` (fewer than four persons) is kept as status with no value. A sheet that fits no layout fails the workbook with the sheets and the
headers found.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from atlas_crawl.formats.excel import (
    LayoutError,
    normalise_label,
    open_workbook,
    sheet_rows,
    split_code_name,
)
from atlas_crawl.formats.numbers import clean_text, parse_cell

HEADER_ROWS = 10  # the header is searched for in the first rows of a sheet
_norm = normalise_label


@dataclass(frozen=True)
class Layout:
    name: str
    table: str
    anchor: tuple[str, ...]  # the first label of every block (several spellings)
    telling: tuple[str, ...]  # labels that must all be in the header
    dimensions: dict[str, tuple[str, ...]]  # column -> header spellings
    measures: dict[str, tuple[str, ...]]  # measure -> header spellings
    region: tuple[str, ...] = ()  # header spellings of the region column (absent: national)


LAYOUTS = (
    Layout(
        "ledighet", "nav_ledighet_maned", anchor=("år-måned",),
        telling=("arbeidsmarkedsstatus hovedgruppe", "% av arbeidsstyrken"),
        dimensions={"arbeidsmarkedsstatus": ("arbeidsmarkedsstatus hovedgruppe",),
                    "kjonn": ("kjønn",)},
        measures={"personer": ("beh personer i mnd",),
                  "prosent_av_arbeidsstyrken": ("% av arbeidsstyrken",)},
        region=("nåværende fylke nr navn", "nåværende kommune nr navn"),
    ),
    Layout(
        "yrkesbakgrunn", "nav_arbeidssokere_yrke", anchor=("år-måned",),
        telling=("sum helt ledige, delvis ledige og arbeidssøkere på tiltak",
                 "praksis yrke grovgruppe isco08"),
        dimensions={"yrke": ("praksis yrke grovgruppe isco08",)},
        measures={"personer": ("sum helt ledige, delvis ledige og arbeidssøkere på tiltak",)},
        region=("nåværende fylke nr navn", "nåværende kommune nr navn"),
    ),
    Layout(
        "stilling", "nav_stillinger_yrke", anchor=("år-måned",),
        telling=("tilgang stillinger i perioden", "stilling yrke grovgruppe isco08"),
        dimensions={"yrke": ("stilling yrke grovgruppe isco08",)},
        measures={"nye_stillinger": ("tilgang stillinger i perioden",)},
        region=("arbeidssted fylkesnavn", "arbeidssted kommunenavn"),
    ),
    Layout(
        "nedsatt", "nav_nedsatt_arbeidsevne", anchor=("månednummer",),
        telling=("alder", "beh personer i mnd"),
        dimensions={"kjonn": ("kjønn",), "alder": ("alder",)},
        measures={"personer": ("beh personer i mnd",),
                  "prosent_av_befolkningen": ("v_prosent_av_befolkningen",
                                              "v_prosent av befolkningen total",
                                              "v_prosent av befolkningen")},
        region=("region",),
    ),
)
TABLES = {layout.table: layout for layout in LAYOUTS}

_PERIOD = re.compile(r"^(?P<year>\d{4})(?P<month>\d{2})$")


@dataclass(frozen=True)
class WorkbookRow:
    table: str
    area: str  # the level column as written: "Landet", "Fylker", "Telemark kommuner"
    level: str  # national | fylke | kommune
    fylke: str | None  # the fylke a kommune sheet is for ("Telemark"), to place bare names
    region: str  # the region cell as written, e.g. "4001 Porsgrunn", "Bamble", "Ukjent"
    region_code: str | None
    region_name: str
    period: str  # "2026-01"
    dimensions: tuple[str, ...]  # in the order of the layout's dimensions
    measure: str
    value: int | float | None
    status: str | None
    sheet: str
    row: int

    @property
    def place(self) -> str:
        """What the geography step places: the code when the cell has one, else the name."""
        return self.region_code or self.region_name


@dataclass(frozen=True)
class _Block:
    columns: dict[str, int]  # dimension/measure/"region"/"area"/"period"/"year"/"month" -> col


def _find(header: Sequence[str], spellings: Sequence[str], start: int, stop: int) -> int | None:
    for col in range(start, stop):
        if header[col] in spellings:
            return col
    return None


def _layout_of(header: Sequence[str]) -> Layout | None:
    labels = set(header)
    for layout in LAYOUTS:
        if all(t in labels for t in layout.telling) and any(a in labels for a in layout.anchor):
            return layout
    return None


def _blocks(layout: Layout, header: Sequence[str], sheet: str, file: str | None
            ) -> list[_Block]:
    anchors = [c for c, h in enumerate(header) if h in layout.anchor]
    first = next(c for c, h in enumerate(header) if h)
    lead = anchors[0] - first  # columns a block has before its anchor ("År")
    blocks = []
    for i, anchor in enumerate(anchors):
        start = anchor - lead if i else first
        stop = anchors[i + 1] - lead if i + 1 < len(anchors) else len(header)
        cols: dict[str, int] = {"period": anchor}
        if layout.name == "nedsatt":
            # Månednummer, then the year under an empty header (or "År"), and D_År-Måned.
            cols = {"month": anchor}
            if anchor + 1 < stop and header[anchor + 1] in ("", "år"):
                cols["year"] = anchor + 1
            found = _find(header, ("d_år-måned",), start, stop)
            if found is not None:
                cols["period"] = found
            area = _find(header, ("nivå",), start, stop)
        else:
            year = _find(header, ("år",), start, stop)
            if year is not None:
                cols["year"] = year
            area = None
        region = _find(header, layout.region, start, stop) if layout.region else None
        if region is not None:
            cols["region"] = region
            # The level column stands just before the region, its header often empty.
            cols["area"] = area if area is not None else region - 1
        for name, spellings in {**layout.dimensions, **layout.measures}.items():
            col = _find(header, spellings, start, stop)
            if col is None:
                raise LayoutError(file=file, sheet=sheet, expected=f"a {spellings[0]!r} column "
                                  f"in the {layout.name} block at column {anchor + 1}",
                                  found=[h for h in header[start:stop] if h])
            cols[name] = col
        blocks.append(_Block(cols))
    return blocks


def _area(text: str, where: str) -> tuple[str, str | None]:
    """(level, fylke) of the level column: Landet, Fylker, '<fylke> kommuner'."""
    low = text.casefold()
    if low == "landet":
        return "national", None
    if low == "fylker":
        return "fylke", None
    if low.endswith(" kommuner"):
        return "kommune", text[: -len(" kommuner")].strip()
    raise ValueError(f"{where}: level {text!r} is none of Landet, Fylker, '<fylke> kommuner'")


def _period(cells: Sequence[object], block: _Block, where: str) -> str:
    raw = cells[block.columns["period"]] if "period" in block.columns else None
    if raw is not None:
        m = _PERIOD.match(clean_text(str(raw)).removesuffix(".0"))
        if not m or not 1 <= int(m.group("month")) <= 12:
            raise ValueError(f"{where}: period {raw!r} is not a year-month like 202601")
        year, month = int(m.group("year")), int(m.group("month"))
    else:
        try:
            year, month = int(cells[block.columns["year"]]), int(cells[block.columns["month"]])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where}: no year-month (D_År-Måned, or År and Månednummer)"
                             ) from None
    for col, want in (("year", year), ("month", month)):
        given = cells[block.columns[col]] if col in block.columns else None
        if given not in (None, "") and int(given) != want:
            raise ValueError(f"{where}: {col} {given!r} disagrees with period {year}{month:02d}")
    return f"{year}-{month:02d}"


def _region(text: str) -> tuple[str | None, str]:
    code, name = split_code_name(text)
    return code, name or text


def read_sheet(rows: list[tuple], sheet: str, *, file: str | None = None
               ) -> tuple[Layout, list[WorkbookRow]] | None:
    """The rows of one sheet, or None when it is empty; LayoutError when it fits no layout."""
    for n, raw in enumerate(rows[:HEADER_ROWS]):
        header = [_norm(v) for v in raw]
        layout = _layout_of(header)
        if layout is not None:
            break
    else:
        if not any(v not in (None, "") for r in rows for v in r):
            return None
        raise _unknown(file, [(sheet, rows)])
    blocks = _blocks(layout, header, sheet, file)
    out: list[WorkbookRow] = []
    seen: dict[tuple, WorkbookRow] = {}
    for r, cells in enumerate(rows[n + 1:], start=n + 2):
        cells = tuple(cells) + (None,) * (len(header) - len(cells))
        for block in blocks:
            values = [cells[c] for c in block.columns.values()]
            if all(v in (None, "") for v in values):
                continue
            if all(_norm(cells[c]) == header[c] for c in block.columns.values()):
                continue  # the header again
            out.extend(_block_rows(layout, block, cells, sheet, r, file, seen))
    return layout, out


def _block_rows(layout: Layout, block: _Block, cells: Sequence[object], sheet: str, r: int,
                file: str | None, seen: dict[tuple, WorkbookRow]) -> Iterator[WorkbookRow]:
    where = f"row {r}"
    try:
        period = _period(cells, block, where)
        if "region" in block.columns:
            area = clean_text(str(cells[block.columns["area"]] or ""))
            region = clean_text(str(cells[block.columns["region"]] or ""))
            if not area or not region:
                raise ValueError(f"{where}: empty level or region cell")
        else:
            area = region = "Landet"  # a sheet with no region column is the whole country
        level, fylke = _area(area, where)
        code, name = _region(region)
        dims = tuple(clean_text(str(cells[block.columns[d]] or "")) for d in layout.dimensions)
        if not all(dims):
            raise ValueError(f"{where}: empty {', '.join(layout.dimensions)} cell")
        for measure in layout.measures:
            cell = parse_cell(cells[block.columns[measure]], allow_text=False)
            row = WorkbookRow(layout.table, area, level, fylke, region, code, name, period,
                              dims, measure, cell.value, cell.status, sheet, r)
            # Keyed by the code when the cell has one: a delivery lists a fylke under its old
            # and its current code ("01 Østfold", "31 Østfold") with other numbers.
            key = (area, code or name, period, dims, measure)
            if key in seen:
                if (seen[key].value, seen[key].status) != (cell.value, cell.status):
                    raise ValueError(f"{where}: {name} {period} {dims} {measure} is also in "
                                     f"row {seen[key].row} with another value")
                continue
            seen[key] = row
            yield row
    except (ValueError, TypeError) as exc:
        raise LayoutError(file=file, sheet=sheet, expected=f"a {layout.name} row",
                          found=str(exc)) from None


def _unknown(file: str | None, sheets: list[tuple[str, list[tuple]]]) -> LayoutError:
    found = []
    for name, rows in sheets:
        header = next((r for r in rows[:HEADER_ROWS] if sum(v is not None for v in r) >= 2), ())
        found.append(f"{name!r}: {[clean_text(str(v)) for v in header if v is not None]}")
    known = "; ".join(f"{lay.name} ({', '.join(lay.telling)})" for lay in LAYOUTS)
    return LayoutError(file=file, sheet=None,
                       expected=f"a NAV workbook sheet of a known layout: {known}",
                       found="; ".join(found))


def parse_workbook(data: bytes, *, file: str | None = None) -> dict[str, list[WorkbookRow]]:
    """Rows per table of every sheet; any sheet of an unknown layout fails the workbook,
    naming every sheet and the headers found."""
    with warnings.catch_warnings():
        # NAV's server writes workbooks without a default style; openpyxl says so every time.
        warnings.filterwarnings("ignore", "Workbook contains no default style")
        wb = open_workbook(data)
        try:
            sheets = [(ws.title, sheet_rows(ws)) for ws in wb.worksheets]
        finally:
            wb.close()
    tables: dict[str, list[WorkbookRow]] = {}
    unknown = []
    for name, rows in sheets:
        try:
            read = read_sheet(rows, name, file=file)
        except LayoutError as exc:
            if exc.sheet is None:  # fits no layout at all
                unknown.append((name, rows))
                continue
            raise
        if read is not None:
            tables.setdefault(read[0].table, []).extend(read[1])
    if unknown or not tables:
        raise _unknown(file, unknown or sheets)
    return tables
