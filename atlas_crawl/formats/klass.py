"""SSB Klass v1 responses -> plain rows.

Pure functions, bytes (or already-decoded JSON) in, lists of dicts out. No Scrapy here.

Klass API shapes handled (https://data.ssb.no/api/klass/v1):

- ``/classifications/{id}/codes?from=&to=`` (range): ``{"codes": [{code, parentCode, level, name,
  shortName, presentationName, validFrom, validTo, validFromInRequestedRange,
  validToInRequestedRange, notes}]}``. ``validToInRequestedRange`` equals the requested ``to``
  when the code is still valid at the end of the range: that is a clipped range, not an end.
- ``/classifications/{id}/codesAt?date=``: same items, ``validFrom``/``validTo`` null.
- ``/classifications/{id}/changes?from=&to=``: ``{"codeChanges": [{oldCode, oldName,
  oldShortName, newCode, newName, newShortName, changeOccurred}]}``. ``to`` is exclusive: the
  changes of 1 January of year Y are in ``from=(Y-1)-01-01&to=Y-01-02``.
- ``/classifications/{id}/corresponds?targetClassificationId=&from=&to=``:
  ``{"correspondenceItems": [{sourceCode, sourceName, sourceShortName, targetCode, targetName,
  targetShortName, validFrom, validTo}]}``.

Dates stay ISO strings (``"2020-01-01"``); ``valid_to`` is exclusive and ``None`` means open.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

CODE_COLUMNS = (
    "code", "parent_code", "level", "name", "short_name", "valid_from", "valid_to", "notes",
)
CHANGE_COLUMNS = ("changed_on", "old_code", "old_name", "new_code", "new_name")
CORRESPONDENCE_COLUMNS = (
    "source_code", "source_name", "target_code", "target_name", "valid_from", "valid_to",
)


class KlassFormatError(ValueError):
    """The body is not the Klass response shape the caller asked for."""


def _load(body: bytes | str | dict[str, Any], key: str) -> list[dict[str, Any]]:
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8")
    data = json.loads(body) if isinstance(body, str) else body
    if not isinstance(data, dict) or key not in data:
        found = sorted(data)[:6] if isinstance(data, dict) else type(data).__name__
        raise KlassFormatError(f"expected a Klass object with key {key!r}, found {found}")
    items = data[key]
    if not isinstance(items, list):
        raise KlassFormatError(f"Klass key {key!r} holds {type(items).__name__}, not a list")
    return items


def _text(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _iso(value: Any) -> str | None:
    """Klass dates are ``YYYY-MM-DD``; keep them as ISO strings after checking them."""
    text = _text(value)
    if text is None:
        return None
    date.fromisoformat(text[:10])
    return text[:10]


def parse_codes(
    body: bytes | str | dict[str, Any],
    requested_to: str | None = None,
) -> list[dict[str, Any]]:
    """Rows of a ``codes`` (range) response.

    ``valid_from``/``valid_to`` come from ``validFromInRequestedRange``/``validToInRequestedRange``
    (falling back to ``validFrom``/``validTo``). When ``requested_to`` is given, a ``valid_to``
    equal to it means "still valid when the range ended" and becomes ``None``.
    """
    rows = []
    for item in _load(body, "codes"):
        valid_from = _iso(item.get("validFromInRequestedRange")) or _iso(item.get("validFrom"))
        valid_to = _iso(item.get("validToInRequestedRange")) or _iso(item.get("validTo"))
        if requested_to is not None and valid_to == requested_to:
            valid_to = None
        rows.append(_code_row(item, valid_from, valid_to))
    return rows


def parse_codes_at(body: bytes | str | dict[str, Any], on: str) -> list[dict[str, Any]]:
    """Rows of a ``codesAt?date=`` response: each code is known to be valid on ``on`` only."""
    on = _iso(on)
    return [_code_row(item, on, None) for item in _load(body, "codes")]


def _code_row(item: dict[str, Any], valid_from: str | None, valid_to: str | None) -> dict:
    code = _text(item.get("code"))
    if code is None:
        raise KlassFormatError(f"Klass code item without a code: {item!r}")
    return {
        "code": code,
        "parent_code": _text(item.get("parentCode")),
        "level": _text(item.get("level")),
        "name": _text(item.get("name")),
        "short_name": _text(item.get("shortName")),
        "valid_from": valid_from,
        "valid_to": valid_to,
        "notes": _text(item.get("notes")),
    }


def parse_changes(body: bytes | str | dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of a ``changes`` response. A code that appears or disappears has a ``None`` side."""
    rows = []
    for item in _load(body, "codeChanges"):
        rows.append({
            "changed_on": _iso(item.get("changeOccurred")),
            "old_code": _text(item.get("oldCode")),
            "old_name": _text(item.get("oldName")),
            "new_code": _text(item.get("newCode")),
            "new_name": _text(item.get("newName")),
        })
    return rows


def parse_corresponds(
    body: bytes | str | dict[str, Any],
    requested_to: str | None = None,
) -> list[dict[str, Any]]:
    """Rows of a ``corresponds`` response (source code -> target code, with validity)."""
    rows = []
    for item in _load(body, "correspondenceItems"):
        valid_to = _iso(item.get("validTo"))
        if requested_to is not None and valid_to == requested_to:
            valid_to = None
        rows.append({
            "source_code": _text(item.get("sourceCode")),
            "source_name": _text(item.get("sourceName")),
            "target_code": _text(item.get("targetCode")),
            "target_name": _text(item.get("targetName")),
            "valid_from": _iso(item.get("validFrom")),
            "valid_to": valid_to,
        })
    return rows


def change_windows(first_year: int, last_year: int) -> list[tuple[str, str]]:
    """``(from, to)`` pairs that ask Klass for the changes of each 1 January, one year a call.

    ``to`` is exclusive, so the window for the changes that took effect on 1 January of year Y
    is ``((Y-1)-01-01, Y-01-02)``; neighbouring windows overlap by one day, so callers
    de-duplicate with :func:`dedupe_changes`.
    """
    return [(f"{y - 1}-01-01", f"{y}-01-02") for y in range(first_year, last_year + 1)]


def dedupe_changes(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop repeated change rows (overlapping windows), keeping the first, order preserved."""
    seen: set[tuple] = set()
    out = []
    for row in rows:
        key = tuple(row.get(c) for c in CHANGE_COLUMNS)
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def as_tuples(rows: Iterable[dict[str, Any]], columns: Iterable[str]) -> list[tuple]:
    """Row dicts -> tuples in ``columns`` order (what a Batch carries)."""
    columns = tuple(columns)
    return [tuple(row.get(c) for c in columns) for row in rows]
