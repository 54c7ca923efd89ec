"""Udir statistics: the USS JSON API and the statistikkbank export (Excel or UTF-16 text).

Pure parsing and URL building; no Scrapy. Facts the code is built on (SOURCE-FACTS §8):

- ``Rapportside/<name>`` names the report's endpoints (``rest/v1/Statistikk/GSK/GSI/1/8/data``;
  versions advance) and its default filter values; its JSON has a duplicate key
  (``rapportelementtypenavn``) that :mod:`json` resolves harmlessly (last wins);
- ``filterVerdier`` lists every filter's values in one call: the years, and ``EnhetID`` as a
  flattened tree (nivaa 1 "Hele landet" ``-12`` / "Utlandet" ``-13``, 2 fylke, 3 kommune,
  4 school with its organisasjonsnummer as ``kode``);
- ``data`` answers ``{"metadata": {"rowHierarchy", "columns"}, "rows": [{navn, kode, id, data}]}``:
  ``id`` is a dot path whose depth says the level, values are strings with decimal commas and
  space thousands, ``*`` is suppressed, and an empty answer (``"rows": []``) means *absent*;
- period codes differ by report: ``TidID`` YYYY10 (GSI), YYYY12 (Elevundersøkelsen), YYYY06
  (fravær, meaning the school year that *ends* in YYYY), ``SkoleAarID`` YYYYYYYY (nasjonale prøver).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from atlas_crawl.formats import jsonstream
from atlas_crawl.formats.excel import (
    LayoutError,
    find_header,
    open_workbook,
    read_records,
    restore_code,
    sheet_rows,
)
from atlas_crawl.formats.numbers import clean_text, parse_cell
from atlas_crawl.formats.text import GarbledText, check_text

API_ROOT = "https://statistikkportalen.udir.no/api/rapportering/"
HELE_LANDET = -12
UTLANDET = -13
ALLE = -10


class UdirFormatError(ValueError):
    """A Udir response does not have the shape the parser knows."""


def _load(data: bytes | str | Mapping[str, Any]) -> Any:
    if isinstance(data, Mapping):
        return data
    return jsonstream.loads(data, UdirFormatError)


# --------------------------------------------------------------------------------------------
# Rapportside


@dataclass(frozen=True)
class Report:
    code: str  # Rapportside name, e.g. "GSK_Elev_Skol"
    name: str
    base: str  # endpoint path without the trailing /data
    filters: tuple[str, ...]  # gyldigeFiltre
    defaults: dict[str, list[int]]  # filterDefaultVerdier

    @property
    def period_filter(self) -> str:
        return "SkoleAarID" if "SkoleAarID" in self.filters or "SkoleAarID" in self.defaults \
            else "TidID"

    @property
    def default_periods(self) -> list[int]:
        return list(self.defaults.get(self.period_filter, []))

    def url(self, endpoint: str, query: str) -> str:
        return f"{API_ROOT}{self.base}/{endpoint}?{query}"


def rapportside_url(code: str) -> str:
    return f"{API_ROOT}rest/v1/Rapportside/{code}"


def parse_rapportside(data: bytes | str | Mapping[str, Any]) -> Report:
    doc = _load(data)
    page = doc.get("rappside") if isinstance(doc, dict) else None
    if not isinstance(page, dict):
        raise UdirFormatError("Rapportside: no 'rappside' object")
    elements = page.get("rapportElementer") or []
    endpoint = elements[0].get("dataEndepunkt") if elements else None
    if not isinstance(endpoint, str) or not endpoint.endswith("/data"):
        raise UdirFormatError(
            f"Rapportside {page.get('kode')!r}: rapportElementer[0].dataEndepunkt should end in "
            f"'/data', found {endpoint!r}")
    defaults = {k: list(v) for k, v in (page.get("filterDefaultVerdier") or {}).items()}
    return Report(
        code=str(page.get("kode", "")), name=str(page.get("navn", "")),
        base=endpoint[: -len("/data")],
        filters=tuple(page.get("gyldigeFiltre") or elements[0].get("gyldigeFiltre") or ()),
        defaults=defaults,
    )


def filter_string(filters: Mapping[str, object] | Iterable[tuple[str, object]]) -> str:
    """``{"TidID": 202410, "TrinnID": -10}`` -> ``TidID(202410)_TrinnID(-10)``."""
    items = filters.items() if isinstance(filters, Mapping) else filters
    parts = []
    for name, value in items:
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        parts.append(f"{name}({value})")
    return "_".join(parts)


def filterverdier_url(report: Report, period: int | None = None) -> str:
    period = period if period is not None else (report.default_periods or [None])[-1]
    if period is None:
        raise UdirFormatError(f"{report.code}: no default period to ask filterVerdier with")
    return report.url("filterVerdier",
                      "filter=" + filter_string({report.period_filter: period, "EnhetID": "*"}))


def data_url(report: Report, filters: Mapping[str, object], rad_sti: str) -> str:
    return report.url("data", f"filter={filter_string(filters)}&radSti={rad_sti}"
                              "&inkluderKoder=true")


# --------------------------------------------------------------------------------------------
# filterVerdier


@dataclass(frozen=True)
class Option:
    indeks: int
    id: int
    kode: str
    navn: str
    nivaa: int | None = None
    forelder: int | None = None
    hidden: bool = False


@dataclass(frozen=True)
class FilterValues:
    lists: dict[str, list[Option]]

    def options(self, name: str) -> list[Option]:
        if name not in self.lists:
            raise UdirFormatError(f"filterVerdier has no {name!r} (has {sorted(self.lists)})")
        return self.lists[name]

    def periods(self, name: str) -> list[Option]:
        return self.options(name)

    def units(self) -> dict[int, Option]:
        """EnhetID options by ``indeks`` (the tree is sparse: not every child is listed)."""
        return {o.indeks: o for o in self.options("EnhetID")}


def parse_filterverdier(data: bytes | str | Mapping[str, Any]) -> FilterValues:
    doc = _load(data)
    if not isinstance(doc, dict):
        raise UdirFormatError("filterVerdier: expected an object of lists")
    lists: dict[str, list[Option]] = {}
    for name, values in doc.items():
        if not isinstance(values, list):
            continue
        lists[name] = [
            Option(indeks=int(v["indeks"]), id=int(v["id"]), kode=str(v.get("kode", "")).strip(),
                   navn=clean_text(str(v.get("navn", ""))), nivaa=v.get("nivaa"),
                   forelder=v.get("forelder"), hidden=bool(v.get("skjult")))
            for v in values
        ]
    return FilterValues(lists)


@dataclass(frozen=True)
class School:
    school_id: str  # the EnhetID kode: an organisasjonsnummer, or U900990xx for schools abroad
    organisasjonsnummer: str | None
    name: str
    kommune_code: str | None  # the kommune the school is registered under in the report
    kommune_name: str | None
    fylke_code: str | None
    enhet_id: int


def schools(values: FilterValues) -> list[School]:
    """Every school (nivaa 4) of the EnhetID tree with the kommune it hangs under."""
    units = values.units()
    out = []
    for unit in units.values():
        if unit.nivaa != 4:
            continue
        kommune = units.get(unit.forelder) if unit.forelder is not None else None
        fylke = units.get(kommune.forelder) if kommune and kommune.forelder is not None else None
        orgnr = unit.kode if re.fullmatch(r"\d{9}", unit.kode) else None
        out.append(School(
            school_id=unit.kode, organisasjonsnummer=orgnr, name=unit.navn,
            kommune_code=kommune.kode if kommune and kommune.nivaa == 3 else None,
            kommune_name=kommune.navn if kommune and kommune.nivaa == 3 else None,
            fylke_code=fylke.kode if fylke and fylke.nivaa == 2 else None,
            enhet_id=unit.id,
        ))
    return out


def regions(values: FilterValues, nivaa: int = 3) -> list[Option]:
    """The region nodes at one level (3 = kommune), under Hele landet and Utlandet alike."""
    return [u for u in values.options("EnhetID") if u.nivaa == nivaa]


# --------------------------------------------------------------------------------------------
# data


LEVELS = {"Nasjonalt": "national", "Fylke": "fylke", "Kommune": "kommune", "Enhet": "skole"}


@dataclass(frozen=True)
class DataCell:
    row_kode: str
    row_navn: str
    row_id: str
    level: str  # from rowHierarchy and the depth of the row's id path
    column: tuple[str, ...]  # the column header path, outermost first; the measure is last
    value: int | float | None
    status: str | None

    @property
    def measure(self) -> str:
        return self.column[-1]


def leaf_columns(columns: Sequence[Sequence[Mapping[str, Any]]]) -> list[tuple[str, ...]]:
    """Expand the nested column header into one label path per data position."""
    if not columns:
        return []
    width = max(sum(int(c.get("columnCount", 1)) for c in level) for level in columns)
    paths: list[list[str]] = [[] for _ in range(width)]
    for level in columns:
        position = 0
        spans = [(clean_text(str(c.get("name", ""))), int(c.get("columnCount", 1)))
                 for c in level]
        total = sum(span for _, span in spans)
        repeat = width // total if total else 0
        if total == 0 or width % total:
            raise UdirFormatError(f"column level spans {total} columns, leaves are {width}")
        for _ in range(repeat):
            for name, span in spans:
                for p in range(position, position + span):
                    paths[p].append(name)
                position += span
    return [tuple(p) for p in paths]


def parse_data(data: bytes | str | Mapping[str, Any], *, where: str = "") -> list[DataCell]:
    """Every cell of a data answer; an empty answer gives ``[]`` (absent, not suppressed)."""
    doc = _load(data)
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    rows = doc.get("rows") if isinstance(doc, dict) else None
    if not isinstance(meta, dict) or not isinstance(rows, list):
        raise UdirFormatError(f"{where or 'data'}: expected metadata and rows")
    if not rows:
        return []
    hierarchy = list(meta.get("rowHierarchy") or [])
    paths = leaf_columns(meta.get("columns") or [])
    out: list[DataCell] = []
    for row in rows:
        values = row.get("data") or []
        if len(values) != len(paths):
            raise UdirFormatError(
                f"{where or 'data'}: row {row.get('navn')!r} has {len(values)} values for "
                f"{len(paths)} columns")
        row_id = str(row.get("id", ""))
        depth = len(row_id.split(".")) if row_id else 0
        level = hierarchy[depth - 1] if 0 < depth <= len(hierarchy) else f"depth {depth}"
        for path, raw in zip(paths, values):
            cell = parse_cell(raw, allow_text=False)
            out.append(DataCell(str(row.get("kode", "")).strip(), clean_text(str(row.get("navn"))),
                                row_id, level, path, cell.value, cell.status))
    return out


def region_cells(cells: Iterable[DataCell]) -> Iterator[DataCell]:
    """Fylke and kommune cells (Udir lists both; the level keeps them apart)."""
    for cell in cells:
        if LEVELS.get(cell.level) in ("fylke", "kommune"):
            yield cell


# --------------------------------------------------------------------------------------------
# Periods


def school_year(period: int | str, kind: str) -> str:
    """The school year a report's period code means, as ``"2024-25"``.

    ``kind`` is the code's shape: ``"YYYY10"`` (GSI, counted 1 October), ``"YYYY12"``
    (Elevundersøkelsen), ``"YYYY06"`` (fravær: 202506 is 2024-25) or ``"YYYYYYYY"``
    (nasjonale prøver: 20252026).
    """
    text = str(period)
    if kind == "YYYYYYYY":
        if not re.fullmatch(r"\d{8}", text) or int(text[4:]) != int(text[:4]) + 1:
            raise UdirFormatError(f"{text!r} is not a SkoleAarID like 20252026")
        start = int(text[:4])
    else:
        month = kind[-2:]
        if not re.fullmatch(rf"\d{{4}}{month}", text):
            raise UdirFormatError(f"{text!r} is not a period code of the shape {kind}")
        start = int(text[:4]) - (1 if month == "06" else 0)
    return f"{start}-{(start + 1) % 100:02d}"


def checked_school_year(period: Option, kind: str) -> str:
    """The school year of a period option, checked against the name Udir gives it."""
    year = school_year(period.id, kind)
    if period.navn and period.navn != year:
        raise UdirFormatError(
            f"period {period.id} should be school year {year} but Udir calls it {period.navn}")
    return year


def pick_periods(options: list[Option], years: str) -> list[Option]:
    """The periods `years` asks for: "all", "latest" (the first listed) or a comma-separated
    list of school years or period codes ("2024-25,202310")."""
    if years == "all":
        return list(options)
    if years == "latest":
        return options[:1]
    wanted = {p.strip() for p in years.split(",") if p.strip()}
    return [o for o in options if o.navn in wanted or o.kode in wanted]


# --------------------------------------------------------------------------------------------
# dim_school

SCHOOL_COLUMNS = ["school_id", "kommune_code", "organisasjonsnummer", "name", "kommune_name",
                  "fylke_code"]
SCHOOL_KEY = ["school_id", "kommune_code"]


def school_rows(schools: Iterable[School]) -> list[tuple]:
    """dim_school rows of the schools that hang under a kommune, once per school and kommune."""
    rows = {(s.school_id, s.kommune_code): (s.school_id, s.kommune_code, s.organisasjonsnummer,
                                            s.name, s.kommune_name, s.fylke_code)
            for s in schools if s.kommune_code}
    return list(rows.values())


# --------------------------------------------------------------------------------------------
# Statistikkbank Excel export

EXPORT_IDS = ("EnhetNivaa", "Fylkekode", "Organisasjonsnummer", "EnhetNavn")
# With a Kommunekode column EnhetNivaa 3 is the kommune; upper-secondary reports ("Slutta i
# VGO") are per fylke, have no Kommunekode, and their EnhetNivaa 3 is the school.
EXPORT_LEVELS = {1: "national", 2: "fylke", 3: "kommune", 4: "skole"}
FYLKE_EXPORT_LEVELS = {1: "national", 2: "fylke", 3: "skole"}
_EXPORT_COLUMN = re.compile(r"^(?P<year>\d{4}-\d{2})\.(?P<dims>.+?)(?P<brudd>\.Brudd)?$")
# "Alle eierformer.Alle trinn.Begge kjønn.Andel sluttet": a dot between parts, never the dot of
# "10. trinn" (followed by a space).
_PART = re.compile(r"\.(?! )")


@dataclass(frozen=True)
class ExportRow:
    level: str  # national | fylke | kommune | skole
    fylke_code: str | None
    kommune_code: str | None
    organisasjonsnummer: str | None
    name: str
    school_year: str
    eierform: str
    kjonn: str
    measure: str
    value: int | float | None
    status: str | None
    brudd: str | None  # the break note Udir attaches to this year and measure, if any
    row: int
    trinn: str | None = None  # the export's trinn part, when its columns have one
    abroad: bool = False  # Nasjonaltkode U: Utlandet (Norwegian schools abroad)


def export_rows_of(data: bytes, *, file: str | None = None) -> tuple[list[tuple], str | None]:
    """The cells of an export, row by row, and the sheet they come from: the first sheet of an
    Excel export, or a text export (UTF-16 or UTF-8, tab- or semicolon-separated, an optional
    first line ``sep=\\t``). Garbled text refuses the file naming its line."""
    if data[:2] == b"PK":
        wb = open_workbook(data)
        try:
            ws = wb.worksheets[0]
            return sheet_rows(ws), ws.title
        finally:
            wb.close()
    text = _export_text(data, file)
    lines = text.splitlines()
    delimiter = "\t"
    if lines and lines[0].lower().startswith("sep="):
        delimiter = lines[0][4:5] or "\t"
        lines = lines[1:]
    elif lines and "\t" not in lines[0] and ";" in lines[0]:
        delimiter = ";"
    rows = [tuple(None if c == "" else c for c in row)
            for row in csv.reader(lines, delimiter=delimiter)]
    return rows, None


def _export_text(data: bytes, file: str | None) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif len(data) > 1 and data[1] == 0 and data[0] != 0:
        encoding = "utf-16-le"  # Udir's export: UTF-16 without a byte order mark
    elif len(data) > 1 and data[0] == 0 and data[1] != 0:
        encoding = "utf-16-be"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise LayoutError(file=file, sheet=None, expected="an Excel export or text in UTF-16 "
                          "or UTF-8", found=f"{encoding} fails at byte {exc.start}") from None
    try:
        check_text(text, file or "<export>", encoding=encoding)
    except GarbledText as exc:
        raise LayoutError(file=file, sheet=None, expected="text in one encoding",
                          found=str(exc).split(": ", 1)[-1]) from None
    return text


def parse_statistikkbank_export(data: bytes, *, file: str | None = None) -> list[ExportRow]:
    """Udir statistikkbank's export (Excel, or UTF-16 tab-separated text), one row per place x
    year x measure.

    Codes come back as numbers that lost their leading zeros (``122``, ``1``): they are
    restored by the column's level. ``<year>.<eierform>[.<trinn>].<kjønn>.<measure>.Brudd``
    columns hold a note, attached to the value it belongs to. Blank cells (a fylke that did not
    exist yet, a school that had closed) are absent observations and give no row. Per-fylke
    reports have no ``Kommunekode``: their schools are placed in their fylke.
    """
    rows, sheet = export_rows_of(data, file=file)
    header = find_header(rows, EXPORT_IDS, file=file, sheet=sheet)
    written = header.blocks[0].labels
    has_kommune = any(_norm_id(t) == "kommunekode" for t in written.values())
    levels = EXPORT_LEVELS if has_kommune else FYLKE_EXPORT_LEVELS
    columns = {}
    for lab, text in written.items():
        m = _EXPORT_COLUMN.match(text)
        if not m:
            continue
        parts = _PART.split(m["dims"])
        if len(parts) not in (3, 4):
            raise LayoutError(file=file, sheet=sheet,
                              expected="columns named <skoleår>.<eierform>[.<trinn>].<kjønn>."
                                       "<måltall>", found=repr(text))
        trinn = parts[1] if len(parts) == 4 else None
        columns[lab] = (m["year"], parts[0], trinn, parts[-2], parts[-1], bool(m["brudd"]))
    if not columns:
        raise LayoutError(file=file, sheet=sheet,
                          expected="columns named <skoleår>.<eierform>.<kjønn>.<måltall>",
                          found=sorted(written.values()))
    out = []
    seen: dict[tuple, tuple[str | None, int]] = {}
    for rec in read_records(None, EXPORT_IDS, file=file, rows=rows):
        try:
            level = levels.get(int(str(rec["EnhetNivaa"]).strip()))
        except ValueError:
            level = None
        if level is None:
            raise LayoutError(file=file, sheet=sheet, expected=f"EnhetNivaa {min(levels)}-"
                              f"{max(levels)}", found=f"row {rec.row}: {rec['EnhetNivaa']!r}")
        try:
            fylke = restore_code(rec["Fylkekode"], "fylke")
            kommune = restore_code(rec.get("Kommunekode"), "kommune")
        except ValueError as exc:
            raise LayoutError(file=file, sheet=sheet, expected="fylke/kommune codes",
                              found=f"row {rec.row}: {exc}") from None
        orgnr = None
        if level == "skole":
            raw = rec["Organisasjonsnummer"]
            orgnr = str(int(raw)) if isinstance(raw, (int, float)) else clean_text(str(raw))
        abroad = clean_text(str(rec.get("Nasjonaltkode") or "")).upper() == "U"
        notes = {key[:5]: rec.values.get(lab) for lab, key in columns.items() if key[5]}
        for lab, (year, eierform, trinn, kjonn, measure, brudd) in columns.items():
            if brudd:
                continue
            cell = parse_cell(rec.values.get(lab), allow_text=False)
            if cell.is_empty:
                continue  # no figure for this place and year: absent, not suppressed
            unit = (level, fylke, kommune, orgnr, abroad, year, eierform, kjonn, measure)
            if seen.setdefault(unit, (trinn, rec.row))[0] != trinn:
                raise LayoutError(file=file, sheet=sheet, expected="one trinn per column group "
                                  "(the table keeps no trinn apart)",
                                  found=f"row {rec.row}: {seen[unit][0]!r} and {trinn!r}")
            note = notes.get((year, eierform, trinn, kjonn, measure))
            out.append(ExportRow(
                level, fylke, kommune, orgnr, clean_text(str(rec["EnhetNavn"])),
                year, eierform, kjonn, measure, cell.value, cell.status,
                clean_text(note) if isinstance(note, str) and note.strip() else None,
                rec.row, trinn, abroad))
    return out


def _norm_id(text: str) -> str:
    return clean_text(text).casefold()


EXPORT_COLUMNS = [
    "unit_path", "level", "place_code", "fylke_code", "kommune_code", "organisasjonsnummer",
    "name", "school_year", "eierform", "kjonn", "measure", "value", "status", "brudd", "trinn"]
EXPORT_KEY = ["unit_path", "school_year", "eierform", "kjonn", "measure"]


def export_row(r: ExportRow) -> tuple:
    """One export value as a row of EXPORT_COLUMNS: the unit path is fylke/kommune/orgnr ("0"
    for the nation), the place code the level's own code (an upper secondary school's is its
    fylke: those exports name no kommune)."""
    parts = [p for p in (r.fylke_code, r.kommune_code, r.organisasjonsnummer) if p]
    # Utlandet (Nasjonaltkode U) beside Hele landet: its own unit, placed as Udir's fylke 25.
    unit_path = "/".join(parts) or ("U" if r.abroad else "0")
    national = "25" if r.abroad else "0"
    # a school of a per-fylke report (no Kommunekode) is placed in its fylke
    place = {"national": national, "fylke": r.fylke_code}.get(
        r.level, r.kommune_code or r.fylke_code)
    return (unit_path, r.level, place, r.fylke_code, r.kommune_code, r.organisasjonsnummer,
            r.name, r.school_year, r.eierform, r.kjonn, r.measure, r.value, r.status, r.brudd,
            r.trinn)


def export_school_rows(rows: Iterable[ExportRow]) -> list[tuple]:
    """dim_school rows of the schools in an export that have a kommune, once per school and
    kommune (the export names no kommune, so kommune_name is None)."""
    schools = {(r.organisasjonsnummer, r.kommune_code): (
        r.organisasjonsnummer, r.kommune_code, r.organisasjonsnummer, r.name, None, r.fylke_code)
        for r in rows if r.level == "skole" and r.kommune_code}
    return list(schools.values())


def iter_export_schools(rows: Iterable[ExportRow]) -> Iterator[tuple[str, str, str | None]]:
    """(organisasjonsnummer, name, kommune code) of each school in an export, once."""
    seen = set()
    for r in rows:
        if r.level == "skole" and r.organisasjonsnummer and r.organisasjonsnummer not in seen:
            seen.add(r.organisasjonsnummer)
            yield r.organisasjonsnummer, r.name, r.kommune_code


# --------------------------------------------------------------------------------------------
# Saved answers (-a file=)

_PERIOD_SHAPES = {"YYYY10": r"\d{4}10", "YYYY12": r"\d{4}12", "YYYY06": r"\d{4}06",
                  "YYYYYYYY": r"\d{8}"}
_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


def answer_kind(data: bytes | str | Mapping[str, Any]) -> str:
    """What a saved Udir answer is: ``"data"``, ``"filterVerdier"`` or ``"Rapportside"``.

    Raises :class:`UdirFormatError` naming what was found for anything else."""
    doc = _load(data)
    if not isinstance(doc, dict):
        raise UdirFormatError(f"a JSON {type(doc).__name__}, not an object")
    if "metadata" in doc and "rows" in doc:
        return "data"
    if isinstance(doc.get("rappside"), dict):
        return "Rapportside"
    if doc and all(isinstance(v, list) for v in doc.values()) and any(
            isinstance(v, list) and v and isinstance(v[0], dict) and "indeks" in v[0]
            for v in doc.values()):
        return "filterVerdier"
    raise UdirFormatError(f"an object with keys {sorted(doc)[:8]}")


def period_option(value: str, kind: str) -> Option:
    """The period a school year ("2025-26") or a period code ("202512", "20252026") means in
    a report whose codes have the shape ``kind``."""
    text = value.strip()
    m = _SCHOOL_YEAR.match(text)
    if m:
        start = int(m.group(1))
        if (start + 1) % 100 != int(m.group(2)):
            raise UdirFormatError(f"{text!r} is not a school year like 2025-26")
        code = {"YYYY10": f"{start}10", "YYYY12": f"{start}12",
                "YYYY06": f"{start + 1}06", "YYYYYYYY": f"{start}{start + 1}"}[kind]
    elif re.fullmatch(_PERIOD_SHAPES[kind], text):
        code = text
    else:
        raise UdirFormatError(
            f"{text!r} is neither a school year (2025-26) nor a period code of the shape {kind}")
    year = school_year(code, kind)
    return Option(indeks=0, id=int(code), kode=code, navn=year)


def answered_school_years(cells: Iterable[DataCell]) -> set[str]:
    """The school years a data answer's column headers name (Udir puts the year outermost)."""
    return {label for c in cells for label in c.column if _SCHOOL_YEAR.match(label)}


#: ProevetypeID in nasjonale prøver's filterVerdier: the code and the name the answer's columns give.
SUBJECT_NAMES = {"NPENG": "Engelsk", "NPLES": "Lesing", "NPREG": "Regning"}


def check_selection(cells: list[DataCell], *, school_year: str, grade: str | None = None,
                    subject: str | None = None) -> None:
    """A saved answer's column headers name its school year, grade ("5. årstrinn") and subject
    ("Lesing") where the report has them: they must be the ones the file was given with."""
    labels = {label for c in cells[:1] for label in c.column}
    named = answered_school_years(cells)
    if named and named != {school_year}:
        raise UdirFormatError(
            f"the answer is for {', '.join(sorted(named))}, -a years= says {school_year}")
    grades = {label for label in labels if label.endswith(". årstrinn")}
    if grade is not None and grades and f"{grade}. årstrinn" not in grades:
        raise UdirFormatError(
            f"the answer is for {', '.join(sorted(grades))}, -a grades= says {grade}")
    subjects = labels & set(SUBJECT_NAMES.values())
    if subject is not None and subjects and SUBJECT_NAMES.get(subject) not in subjects:
        raise UdirFormatError(
            f"the answer is for {', '.join(sorted(subjects))}, -a subjects= says {subject}")


def column_region(cells: list[DataCell], code: str, name: str | None) -> str:
    """The name an Elevundersøkelsen answer's column header gives the region `code` it was asked
    for (the region is pinned per call, so its name is one of the column levels): `name`, the
    one the geography knows ("Guovdageaidnu - Kautokeino", as Udir writes it too), or the first
    of its language forms. For an empty answer `name` (or the code); UdirFormatError when the
    header has neither."""
    names = [n for n in dict.fromkeys((name, (name or "").split(" - ")[0])) if n]
    if not cells:
        return name or code
    for label in cells[0].column:
        if label in names:
            return label
    raise UdirFormatError(f"-a regions={code} ({' / '.join(names) or 'unknown'}) is not among "
                          f"the answer's columns {list(cells[0].column)}")
