"""SSB Klass v1: what to ask, how to read the answers, and the rows the ssb_klass spider stores.

Pure functions, no Scrapy here:

- :func:`plan` turns the spider's arguments into :class:`Ask` requests (URL and back);
- ``parse_*`` read one body (bytes or already-decoded JSON) into lists of dicts, and
  :func:`read` picks the one an :class:`Ask` calls for;
- :func:`dim_rows`, :func:`change_rows` and :func:`correspondence_rows` build the stored tables'
  row tuples from all the answers of a crawl, and :func:`snapshot_tables` the geography
  snapshot (``atlas_crawl/geo/data``) when the crawl covered the whole history.

Klass API shapes handled (https://data.ssb.no/api/klass/v1):

- ``/classifications/{id}/codes?from=&to=`` (range): ``{"codes": [{code, parentCode, level, name,
  shortName, presentationName, validFrom, validTo, validFromInRequestedRange,
  validToInRequestedRange, notes}]}``. ``validToInRequestedRange`` equals the requested ``to``
  when the code is still valid at the end of the range: that is a clipped range, not an end.
- ``/classifications/{id}/codesAt?date=``: same items, ``validFrom``/``validTo`` null.
- ``/classifications/{id}/changes?from=&to=``: ``{"codeChanges": [{oldCode, oldName,
  oldShortName, newCode, newName, newShortName, changeOccurred}]}``. ``to`` is exclusive: the
  changes of 1 January of year Y are in ``from=(Y-1)-01-01&to=Y-01-02``.
- ``/versions/{id}`` (one version of a classification, e.g. "Kommuneinndeling 1988"):
  ``{name, validFrom, validTo, classificationItems: [{code, parentCode, level, name, shortName,
  notes}], ...}``; every item is valid over the whole version.
- ``/classifications/{id}/corresponds?targetClassificationId=&from=&to=``:
  ``{"correspondenceItems": [{sourceCode, sourceName, sourceShortName, targetCode, targetName,
  targetShortName, validFrom, validTo}]}``.

Dates stay ISO strings (``"2020-01-01"``); ``valid_to`` is exclusive and ``None`` means open.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from atlas_crawl.items import Quarantined

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


def _texts(item: dict[str, Any], **keys: str) -> dict[str, Any]:
    """For each ``column=key``: the item's value under ``key``, as text (or None)."""
    return {column: _text(item.get(key)) for column, key in keys.items()}


def _code_row(item: dict[str, Any], valid_from: str | None, valid_to: str | None) -> dict:
    code = _text(item.get("code"))
    if code is None:
        raise KlassFormatError(f"Klass code item without a code: {item!r}")
    return {
        "code": code,
        **_texts(item, parent_code="parentCode", level="level", name="name",
                 short_name="shortName"),
        "valid_from": valid_from,
        "valid_to": valid_to,
        "notes": _text(item.get("notes")),
    }


def parse_version(body: bytes | str | dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The version's name and its rows: every code valid over the version's whole validity."""
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8")
    data = json.loads(body) if isinstance(body, str) else body
    if not isinstance(data, dict) or "validFrom" not in data:
        raise KlassFormatError("expected a Klass version with validFrom and classificationItems")
    valid_from, valid_to = _iso(data.get("validFrom")), _iso(data.get("validTo"))
    items = _load(data, "classificationItems")
    return str(data.get("name") or ""), [_code_row(i, valid_from, valid_to) for i in items]


def parse_changes(body: bytes | str | dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of a ``changes`` response. A code that appears or disappears has a ``None`` side."""
    rows = []
    for item in _load(body, "codeChanges"):
        rows.append({
            "changed_on": _iso(item.get("changeOccurred")),
            **_texts(item, old_code="oldCode", old_name="oldName", new_code="newCode",
                     new_name="newName"),
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
            **_texts(item, source_code="sourceCode", source_name="sourceName",
                     target_code="targetCode", target_name="targetName"),
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


# -- what a crawl asks -----------------------------------------------------------------------

BASE_URL = "https://data.ssb.no/api/klass/v1"
HISTORY_START = "1950-01-01"
DEFAULT_CODES = "131,104,103,1"
DEFAULT_CHANGES = "131,104"
DEFAULT_CORRESPONDENCES = "104>131,103>131,131>128"
PLAN_ARGS = ("codes", "at", "changes", "change_years", "correspondences", "since", "until")


@dataclass(frozen=True)
class Ask:
    """One Klass request: what it asks, and therefore how its answer is read."""

    kind: str  # codes | codesAt | changes | corresponds
    classification: str
    start: str | None = None  # from, or the date of codesAt
    end: str | None = None  # to (exclusive); None = open
    target: str | None = None  # corresponds: targetClassificationId
    include_future: bool = False

    def url(self, base: str = BASE_URL) -> str:
        query: list[tuple[str, str]] = []
        if self.kind == "codesAt":
            query.append(("date", self.start or ""))
        else:
            if self.kind == "corresponds":
                query.append(("targetClassificationId", self.target or ""))
            query.append(("from", self.start or HISTORY_START))
            if self.end:
                query.append(("to", self.end))
            if self.include_future and self.kind in ("codes", "changes"):
                query.append(("includeFuture", "true"))
        return f"{base}/classifications/{self.classification}/{self.kind}?{urlencode(query)}"

    @classmethod
    def from_url(cls, url: str) -> Ask:
        parts = urlsplit(url)
        m = re.search(r"/classifications/(\d+)/(codesAt|codes|changes|corresponds)(?:\.json)?$",
                      parts.path)
        if not m:
            raise ValueError(f"{url} is not a Klass codes/codesAt/changes/corresponds URL")
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        kind = m.group(2)
        return cls(kind=kind, classification=m.group(1),
                   start=q.get("date") if kind == "codesAt" else q.get("from"),
                   end=q.get("to"), target=q.get("targetClassificationId"),
                   include_future=q.get("includeFuture", "").lower() == "true")

    @property
    def window(self) -> tuple[str | None, str | None]:
        if self.kind == "codesAt":
            return self.start, next_day(self.start)
        return self.start, self.end


def next_day(day: str | None) -> str | None:
    return None if day is None else (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def parse_window(text: str, since: str, until: str | None) -> tuple[str, str | None]:
    """``FROM..TO`` (either side may be empty) -> ``(from, to)``, ``since``/``until`` filling in."""
    if not text:
        return since, until
    start, sep, end = text.partition("..")
    if not sep:
        raise ValueError(f"window {text!r} is not FROM..TO (TO may be empty)")
    for d in (start, end):
        if d:
            date.fromisoformat(d)
    return start or since, end or None


def parse_years(text: str) -> list[int]:
    """``1951-2026`` or ``2019,2020`` (or a mix) -> the years."""
    years: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        lo, sep, hi = part.partition("-")
        years.extend(range(int(lo), int(hi) + 1) if sep else [int(lo)])
    return years


def plan(*, codes: str = DEFAULT_CODES, at: str = "", changes: str = DEFAULT_CHANGES,
         change_years: str = "", correspondences: str = DEFAULT_CORRESPONDENCES,
         since: str = HISTORY_START, until: str | None = None,
         include_future: bool = True, today: date | None = None) -> list[Ask]:
    """The requests a crawl makes, from the spider's arguments."""
    today = today or date.today()
    asks: list[Ask] = []
    for item in filter(None, (c.strip() for c in codes.split(","))):
        cid, _, win = item.partition(":")
        start, end = parse_window(win, since, until)
        asks.append(Ask("codes", cid, start, end, include_future=include_future))
    for item in filter(None, (c.strip() for c in at.split(","))):
        cid, _, day = item.partition(":")
        date.fromisoformat(day)
        asks.append(Ask("codesAt", cid, day))
    years = parse_years(change_years) if change_years else list(
        range(int(since[:4]) + 1, today.year + 1))
    for cid in filter(None, (c.strip() for c in changes.split(","))):
        for start, end in change_windows(min(years), max(years)) if years else []:
            if int(end[:4]) in years:
                asks.append(Ask("changes", cid, start, end, include_future=include_future))
    for item in filter(None, (c.strip() for c in correspondences.split(","))):
        pair, _, win = item.partition(":")
        source, sep, target = pair.partition(">")
        if not sep:
            raise ValueError(f"correspondence {item!r} is not SOURCE>TARGET[:FROM..TO]")
        start, end = parse_window(win, since, until)
        asks.append(Ask("corresponds", source, start, end, target))
    return asks


def read(ask: Ask, body: bytes | str | dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of one answer, read as its request calls for. A ``codesAt`` row is valid on
    its one day: ``valid_to`` is the day after."""
    if ask.kind == "codes":
        return parse_codes(body)
    if ask.kind == "codesAt":
        rows = parse_codes_at(body, ask.start)
        for r in rows:
            r["valid_to"] = next_day(ask.start)
        return rows
    if ask.kind == "changes":
        return parse_changes(body)
    return parse_corresponds(body)


# -- what a crawl stores ---------------------------------------------------------------------

Answer = tuple[Ask, list[dict[str, Any]]]  # a request and the rows read from its answer

LEVELS = {"131": "kommune", "104": "fylke", "103": "bydel", "1": "grunnkrets",
          "128": "sentralitet"}
DIM_TABLES = {"131": "dim_kommune", "104": "dim_fylke", "103": "dim_bydel", "1": "dim_grunnkrets"}
DIM_COLUMNS = ["code", "name", "short_name", "parent_code", "valid_from", "valid_to",
               "window_from", "window_to", "notes"]
DIM_EXTRA = {"dim_kommune": ["fylke", "sentralitet"], "dim_fylke": [],
             "dim_bydel": ["kommune"], "dim_grunnkrets": ["kommune"]}
DIM_KEY = ["code", "valid_from", "window_from"]
GEO_CHANGES_COLUMNS = ["classification", "level", "changed_on", "old_code", "old_name",
                       "new_code", "new_name", "kind"]
GEO_CHANGES_KEY = ["classification", "changed_on", "old_code", "new_code"]
GEO_CORRESPONDENCES_COLUMNS = ["source_classification", "target_classification", "source_code",
                               "source_name", "target_code", "target_name", "valid_from",
                               "valid_to"]
GEO_CORRESPONDENCES_KEY = ["source_classification", "target_classification", "source_code",
                           "target_code", "valid_from"]


def dim_columns(table: str) -> list[str]:
    return DIM_COLUMNS + DIM_EXTRA[table]


def correspondence_spans(answers: Iterable[Answer], source: str,
                         target: str) -> dict[str, list[tuple]]:
    """``(valid_from, valid_to, target_code)`` per source code, from the ``source>target``
    correspondences among ``answers``."""
    out: dict[str, list[tuple]] = defaultdict(list)
    for ask, rows in answers:
        if ask.kind == "corresponds" and (ask.classification, ask.target) == (source, target):
            for r in rows:
                out[r["source_code"]].append((r["valid_from"] or "", r["valid_to"],
                                              r["target_code"]))
    return out


def latest_overlap(spans: list[tuple], valid_from: str | None, valid_to: str | None):
    """The target of the latest correspondence that overlaps [valid_from, valid_to)."""
    lo, hi = valid_from or "", valid_to or "9999-12-31"
    hits = [s for s in spans if s[0] < hi and (s[1] is None or lo < s[1])]
    return max(hits, key=lambda s: s[0])[2] if hits else None


def dim_rows(table: str, ask: Ask, rows: Iterable[dict[str, Any]],
             sentralitet: dict[str, list[tuple]],
             bydel_kommune: dict[str, list[tuple]]) -> list[tuple]:
    """Row tuples in :func:`dim_columns` order for one ``codes``/``codesAt`` answer.
    ``sentralitet`` and ``bydel_kommune`` are the 131>128 and 103>131
    :func:`correspondence_spans`."""
    window_from, window_to = ask.window
    out = []
    for r in rows:
        extra: list = []
        if table == "dim_kommune":
            extra = [r["code"][:2], latest_overlap(
                sentralitet.get(r["code"], []), r["valid_from"], r["valid_to"])]
        elif table == "dim_bydel":
            extra = [latest_overlap(bydel_kommune.get(r["code"], []), r["valid_from"],
                                    r["valid_to"]) or r["code"][:4]]
        elif table == "dim_grunnkrets":
            extra = [r["code"][:4]]
        out.append((r["code"], r["name"], r["short_name"], r["parent_code"], r["valid_from"],
                    r["valid_to"], window_from, window_to, r["notes"], *extra))
    return out


def change_rows(ask: Ask, rows: Iterable[dict[str, Any]],
                kinds: dict[tuple, str]) -> tuple[list[tuple], list[Quarantined]]:
    """Row tuples in :data:`GEO_CHANGES_COLUMNS` order for one ``changes`` answer, and the rows
    without an old or a new code (a code appearing or disappearing), quarantined."""
    out, quarantine = [], []
    level = LEVELS.get(ask.classification, ask.classification)
    for r in rows:
        if not r["old_code"] or not r["new_code"]:
            quarantine.append(Quarantined(
                column="old_code" if not r["old_code"] else "new_code", raw_value=None,
                reason=f"Klass {ask.classification} change on {r['changed_on']} has no "
                       f"{'old' if not r['old_code'] else 'new'} code", row=dict(r)))
            continue
        kind = kinds.get((ask.classification, r["changed_on"], r["old_code"], r["new_code"]))
        out.append((ask.classification, level, r["changed_on"], r["old_code"], r["old_name"],
                    r["new_code"], r["new_name"], kind))
    return out, quarantine


def correspondence_rows(ask: Ask, rows: Iterable[dict[str, Any]]) -> list[tuple]:
    """Row tuples in :data:`GEO_CORRESPONDENCES_COLUMNS` order for one ``corresponds`` answer."""
    return [(ask.classification, ask.target, r["source_code"], r["source_name"], r["target_code"],
             r["target_name"], r["valid_from"], r["valid_to"]) for r in rows]
