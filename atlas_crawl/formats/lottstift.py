"""Lottstift's yearly momskompensasjon workbooks: one row per case, one workbook per year.

The sheet name, the organisation-number column and what the amount means change every year
(SOURCE-FACTS §6), so nothing about a year's layout lives in code: the manifest
(`lottstift_momskompensasjon.yml`, `years:`) maps each year to its sheet, its orgnr header, its
amount header and the amount's meaning. A workbook whose year has no map, or whose sheet and
headers do not match its map, fails with the sheets and headers it does have.

Rows are summed per recipient (an organisation with several cases in a year gets one row, as the
source intends); blank amounts (pending cases) are counted, never read as 0. Organisation numbers
arrive as numbers or text and are normalised to 9-digit text, checked with Brreg's mod-11 rule.
Geography comes from the recipient's forretningsadresse in Brreg (the view
lottstift_momskompensasjon_brreg, atlas_crawl/store/views.py).

Pure: bytes in, rows out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from atlas_crawl.formats.excel import (
    LayoutError,
    find_header,
    get_sheet,
    iter_sheet_rows,
    open_workbook,
    sheet_rows,
)
from atlas_crawl.formats.numbers import clean_text, parse_cell
from atlas_crawl.items import Quarantined

COLUMNS = ["organisasjonsnummer", "year", "amount_nok", "cases", "cases_without_amount",
           "amount_label", "amount_meaning"]
KEY = ["organisasjonsnummer", "year"]
TYPES = {"year": int, "amount_nok": float, "cases": int, "cases_without_amount": int}
_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


class ManifestMapError(ValueError):
    """The manifest's `years:` section is unusable; the message names the year and key."""


@dataclass(frozen=True)
class YearMap:
    """How one year's workbook is read (from the manifest)."""

    year: int
    url: str
    sheet: str
    orgnr: str  # header of the recipient's organisation number
    amount: str  # header of the amount
    amount_meaning: str  # what the amount means that year
    orgnr_note: str = ""


def year_maps(config: Mapping[Any, Any], *, where: str = "manifest years") -> dict[int, YearMap]:
    """Validate the manifest's ``years:`` mapping (year -> sheet, orgnr, amount, meaning)."""
    if not isinstance(config, Mapping) or not config:
        raise ManifestMapError(f"{where}: must map years to column maps")
    maps = {}
    for raw_year, entry in config.items():
        try:
            year = int(raw_year)
        except (TypeError, ValueError):
            raise ManifestMapError(f"{where}: {raw_year!r} is not a year") from None
        if not isinstance(entry, Mapping):
            raise ManifestMapError(f"{where}.{year}: must be a mapping")
        missing = [k for k in ("url", "sheet", "orgnr", "amount", "amount_meaning")
                   if not str(entry.get(k) or "").strip()]
        if missing:
            raise ManifestMapError(f"{where}.{year}: missing {missing}")
        maps[year] = YearMap(year, str(entry["url"]), str(entry["sheet"]), str(entry["orgnr"]),
                             str(entry["amount"]), clean_text(str(entry["amount_meaning"])),
                             clean_text(str(entry.get("orgnr_note") or "")))
    return maps


# --------------------------------------------------------------------------------------------
# Organisation numbers


def orgnr_checks(number: str) -> bool:
    """Brreg's mod-11 control digit (the 9th digit)."""
    if not re.fullmatch(r"\d{9}", number):
        return False
    rest = sum(int(d) * w for d, w in zip(number[:8], _WEIGHTS)) % 11
    control = 0 if rest == 0 else 11 - rest
    return control != 10 and control == int(number[8])


def normalise_orgnr(value: object) -> str:
    """A cell as a 9-digit organisasjonsnummer: ``987654321``, ``987654321.0``,
    ``"987 654 321"``, ``"NO 987 654 321 MVA"`` -> ``"987654321"``. A number that lost a
    leading zero gets it back. Raises ValueError naming the value otherwise."""
    if value is None or isinstance(value, bool):
        raise ValueError(f"{value!r} is not an organisation number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value!r} is not an organisation number")
        value = int(value)
    if isinstance(value, int):
        text = str(value)
        if len(text) > 9:
            raise ValueError(f"{value!r} has more than 9 digits")
        text = text.zfill(9)
    else:
        cleaned = clean_text(str(value)).upper()
        cleaned = re.sub(r"^NO\s*|\s*MVA$", "", cleaned)
        text = re.sub(r"[\s.]", "", cleaned)
        if not re.fullmatch(r"\d{9}", text):
            raise ValueError(f"{value!r} is not 9 digits")
    if not orgnr_checks(text):
        raise ValueError(f"{text} fails Brreg's mod-11 check")
    return text


# --------------------------------------------------------------------------------------------
# Workbooks


@dataclass(frozen=True)
class Grant:
    organisasjonsnummer: str
    year: int
    amount_nok: float | None  # None when every case of the recipient had a blank amount
    cases: int
    cases_without_amount: int
    amount_label: str
    amount_meaning: str

    def row(self) -> tuple:
        return (self.organisasjonsnummer, self.year, self.amount_nok, self.cases,
                self.cases_without_amount, self.amount_label, self.amount_meaning)


def headers_found(wb: Any, max_scan: int = 10) -> str:
    """Every sheet's most header-like row (most text cells in the first rows), for messages."""
    parts = []
    for ws in wb.worksheets:
        rows = list(islice(iter_sheet_rows(ws), max_scan))
        best = max(rows, key=lambda r: sum(isinstance(v, str) and bool(v.strip()) for v in r),
                   default=())
        labels = [clean_text(str(v)) for v in best if v not in (None, "")]
        parts.append(f"sheet {ws.title!r}: {labels}")
    return "; ".join(parts) or "no sheets"


def year_from_name(name: str) -> int | None:
    """The data year in a file name: ``..._2019-1.xlsx`` -> 2019, ``...-belop-2022.xlsx`` -> 2022.
    (The upload folder ``/2021/07/`` is the publication month, so only the file name counts.)"""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    years = re.findall(r"(?<!\d)(20\d\d)(?!\d)", base)
    return int(years[0]) if len(set(years)) == 1 else None


def parse_workbook(data: bytes, year: int, maps: Mapping[int, YearMap], *,
                   file: str | None = None) -> tuple[list[Grant], list[Quarantined]]:
    """Grants per recipient from one year's workbook, and the rows that could not be used."""
    wb = open_workbook(data)
    try:
        ymap = maps.get(year)
        if ymap is None:
            raise LayoutError(
                file=file, sheet=None,
                expected=(f"a column map for {year} in the manifest's years: (maps exist for "
                          f"{sorted(maps)}; 2016-2018 name no recipient orgnr)"),
                found=headers_found(wb))
        try:
            ws = get_sheet(wb, ymap.sheet, file=file)
            rows = sheet_rows(ws)
            header = find_header(rows, [ymap.orgnr, ymap.amount], file=file, sheet=ws.title,
                                 max_scan=10)
        except LayoutError as exc:
            raise LayoutError(
                file=file, sheet=ymap.sheet,
                expected=(f"the {year} map: sheet {ymap.sheet!r} with headers {ymap.orgnr!r} "
                          f"and {ymap.amount!r} ({exc.found})"),
                found=headers_found(wb)) from None
        block = header.blocks[0]
        orgnr_col = block.col(ymap.orgnr)
        amount_col = block.col(ymap.amount)
        labels = {c: block.labels[lab] for lab, c in block.columns.items()}
        return _grants(rows[header.row:], header.row, year, ymap, orgnr_col, amount_col,
                       labels)
    finally:
        wb.close()


def _grants(rows: Sequence[Sequence[Any]], header_row: int, year: int, ymap: YearMap,
            orgnr_col: int, amount_col: int, labels: dict[int, str],
            ) -> tuple[list[Grant], list[Quarantined]]:
    totals: dict[str, list] = {}  # orgnr -> [sum, cases, blank cases, any amount]
    rejected: list[Quarantined] = []
    for offset, row in enumerate(rows):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        sheet_row = header_row + offset + 1
        shown = {labels.get(c, f"col{c}"): (v if isinstance(v, (int, float, str)) or v is None
                                            else str(v))
                 for c, v in enumerate(row) if v is not None}
        shown["sheet_row"] = sheet_row
        raw_org = row[orgnr_col] if orgnr_col < len(row) else None
        try:
            orgnr = normalise_orgnr(raw_org)
        except ValueError as exc:
            reason = ("no organisation number" if raw_org in (None, "")
                      else f"organisation number {exc}")
            rejected.append(Quarantined("organisasjonsnummer", _text(raw_org),
                                     f"{ymap.orgnr!r}, row {sheet_row}: {reason}", shown))
            continue
        raw_amount = row[amount_col] if amount_col < len(row) else None
        cell = parse_cell(raw_amount)
        if cell.value is None and cell.status is not None:
            rejected.append(Quarantined("amount_nok", _text(raw_amount),
                                     f"{ymap.amount!r}, row {sheet_row}: not an amount", shown))
            continue
        total = totals.setdefault(orgnr, [0.0, 0, 0, False])
        total[1] += 1
        if cell.value is None:
            total[2] += 1
        else:
            total[0] += float(cell.value)
            total[3] = True
    grants = [Grant(orgnr, year, round(s, 2) if any_amount else None, cases, blank,
                    ymap.amount, ymap.amount_meaning)
              for orgnr, (s, cases, blank, any_amount) in sorted(totals.items())]
    return grants, rejected


def _text(value: object) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------------------------
# Geography through Brreg
