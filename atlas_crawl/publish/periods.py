"""Period codes as the sources write them, read into one shape for `dim_period`.

Pure functions. A period is the text a source stored (`2022`, `2026-08`, `2024M08`, `2024K3`,
`2021-2023`); `parse_period` returns its grain (ISO 8601 duration), the calendar year it ends in,
its first and last day, and a label a person reads. A source whose years are events rather than
periods (an election year: the count of one day, not a sum over the year) says `period_grain:
event` in its manifest; its years then get the grain `event`. Anything else is `None`: the catalogue then
leaves that column without a period dimension instead of guessing.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")

_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})(?:-|M)(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})(?:K|-?Q)([1-4])$")
_YEARS = re.compile(r"^(\d{4})\s*[-–]\s*(\d{4})$")
_SCHOOL_YEAR = re.compile(r"^(\d{4})\s*[-/–]\s*(\d{2})$")


@dataclass(frozen=True)
class Period:
    period: str
    grain: str  # P1Y, P3M, P1M, P2Y, P3Y, ... or "event"
    year: int  # the calendar year the period ends in
    start: str  # first day, ISO
    end: str  # last day, ISO (inclusive)
    label: str


def _last_day(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"


EVENT = "event"
GRAINS = re.compile(r"^(P\d+[YMWD]|event)$")


def parse_period(value: object, hint: str | None = None) -> Period | None:
    """Read one period code; `hint` is the manifest's period grain or periodicity (P1M makes
    `2011-12` a month, otherwise a school year 2011/12; `event` makes `2025` the year of an
    event, such as an election, instead of a calendar year's total)."""
    if value is None or isinstance(value, float):
        return None
    text = str(value).strip()
    if hint == EVENT and (m := _YEAR.match(text)):
        y = int(m[1])
        return Period(text, EVENT, y, f"{y}-01-01", f"{y}-12-31", f"{text} (event)")
    if m := _YEAR.match(text):
        y = int(m[1])
        return Period(text, "P1Y", y, f"{y}-01-01", f"{y}-12-31", text)
    if m := _QUARTER.match(text):
        y, q = int(m[1]), int(m[2])
        return Period(text, "P3M", y, f"{y}-{3 * q - 2:02d}-01", _last_day(y, 3 * q),
                      f"{y} Q{q}")
    if (m := _MONTH.match(text)) and 1 <= int(m[2]) <= 12 and (
            hint == "P1M" or "M" in text or not _is_school_year(int(m[1]), int(m[2]))):
        y, mo = int(m[1]), int(m[2])
        return Period(text, "P1M", y, f"{y}-{mo:02d}-01", _last_day(y, mo),
                      f"{MONTHS[mo - 1]} {y}")
    if (m := _SCHOOL_YEAR.match(text)) and _is_school_year(int(m[1]), int(m[2])):
        y = int(m[1])
        return Period(text, "P1Y", y + 1, f"{y}-08-01", f"{y + 1}-07-31",
                      f"school year {y}/{(y + 1) % 100:02d}")
    if m := _YEARS.match(text):
        first, last = int(m[1]), int(m[2])
        if first < last:
            n = last - first + 1
            return Period(text, f"P{n}Y", last, f"{first}-01-01", f"{last}-12-31",
                          f"{first}–{last} ({n} years)")
    return None


def _is_school_year(first: int, second: int) -> bool:
    return (first + 1) % 100 == second


def dominant_grain(periods: list[Period | None]) -> str | None:
    """The most common grain among parsed periods (ties: the finer one sorts first)."""
    counts: dict[str, int] = {}
    for p in periods:
        if p is not None:
            counts[p.grain] = counts.get(p.grain, 0) + 1
    if not counts:
        return None
    return max(sorted(counts), key=lambda g: counts[g])
