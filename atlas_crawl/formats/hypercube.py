"""Qlik Sense hypercubes: the request definition, paging plan and the cells of a data page.

Pure: JSON in, rows out; the WebSocket lives in `atlas_crawl.fetch.qlik`.

A hypercube page is a `qMatrix`: one list per row, cells in the order of the cube's dimensions
then measures. A cell is ``{"qText": "0301", "qNum": 301, "qElemNumber": 73, "qState": "O"}``:

- ``qText`` is what Qlik shows: it keeps the zero-padded code ("0301") that ``qNum`` (301) lost,
  so codes are read from ``qText``;
- Qlik's null is ``{"qText": "-", "qNum": "NaN", "qIsNull": true}`` (``qNum`` is the *string*
  "NaN", JSON has no NaN);
- measure values are read from ``qNum``.

Husbanken's bostøtte cube (SOURCE-FACTS §9.1) is read by :func:`bostotte_rows`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from atlas_crawl.items import Quarantined

#: Qlik answers a page request larger than its cell limit with error 7009; pages of 1,000 rows of
#: a 7-column cube (7,000 cells) stay well inside it.
PAGE_ROWS = 1_000
MAX_PAGE_CELLS = 10_000


class QlikFormatError(ValueError):
    """A document that is not the hypercube shape expected; the message says what was found."""


# --------------------------------------------------------------------------------------------
# Requests


@dataclass(frozen=True)
class Measure:
    label: str  # the explicit qLabel (without it Qlik titles the column with the expression)
    expression: str
    unit: str = ""


def hypercube_definition(dimensions: Sequence[str], measures: Sequence[Measure]) -> dict:
    """The `CreateSessionObject` argument for a straight table of fields x measures.

    No data is fetched with the layout (`qInitialDataFetch` is empty): asking for the whole cube
    at once fails with 7009, so pages are requested with `GetHyperCubeData`.
    """
    return {
        "qInfo": {"qType": "atlas-crawl-table"},
        "qHyperCubeDef": {
            "qDimensions": [
                {"qDef": {"qFieldDefs": [name], "qFieldLabels": [name]},
                 "qNullSuppression": False}
                for name in dimensions
            ],
            "qMeasures": [
                {"qDef": {"qDef": m.expression, "qLabel": m.label}} for m in measures
            ],
            "qSuppressZero": False,
            "qSuppressMissing": False,
            "qMode": "S",
            "qInitialDataFetch": [],
        },
    }


def page_plan(rows: int, width: int, page_rows: int = PAGE_ROWS) -> list[dict]:
    """The `qArea`s covering a cube of ``rows`` x ``width``, ``page_rows`` rows at a time."""
    if page_rows < 1:
        raise ValueError(f"page_rows must be positive, got {page_rows}")
    if width * page_rows > MAX_PAGE_CELLS:
        raise ValueError(f"{page_rows} rows x {width} columns exceeds Qlik's "
                         f"{MAX_PAGE_CELLS:,}-cell page limit (error 7009)")
    return [{"qLeft": 0, "qTop": top, "qWidth": width, "qHeight": min(page_rows, rows - top)}
            for top in range(0, rows, page_rows)]


def cube_size(layout: dict) -> tuple[int, int]:
    """(columns, rows) of a `GetLayout` answer's hypercube."""
    try:
        size = layout["qHyperCube"]["qSize"]
        return int(size["qcx"]), int(size["qcy"])
    except (KeyError, TypeError) as exc:
        raise QlikFormatError(f"layout has no qHyperCube.qSize ({exc!r}); keys: "
                              f"{sorted(layout) if isinstance(layout, dict) else type(layout)}")


def column_titles(layout: dict) -> list[str]:
    """Dimension then measure titles of a layout (`qFallbackTitle`), in matrix column order."""
    cube = layout["qHyperCube"]
    return ([d.get("qFallbackTitle", "") for d in cube.get("qDimensionInfo", [])]
            + [m.get("qFallbackTitle", "") for m in cube.get("qMeasureInfo", [])])


# --------------------------------------------------------------------------------------------
# The app's deployment config


_CONFIG_VALUE = r"""["']?{key}["']?\s*[:=]\s*["']([^"']+)["']"""


def parse_deploy_config(text: str) -> tuple[str | None, str | None]:
    """``qlikUrl`` and ``qlikAppId`` from a dashboard's ``deployconfig/config.js``."""
    found = []
    for key in ("qlikUrl", "qlikAppId"):
        m = re.search(_CONFIG_VALUE.format(key=key), text)
        found.append(m.group(1).strip() if m else None)
    return found[0], found[1]


def engine_url(qlik_url: str, app_id: str) -> str:
    """The engine's WebSocket URL for an app: ``https://host/public/`` -> ``wss://host/public/app/<id>``."""
    parts = urlsplit(qlik_url.strip())
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss"):
        raise QlikFormatError(f"qlikUrl {qlik_url!r} is not an http(s) or ws(s) URL")
    path = parts.path.rstrip("/")
    if not re.search(r"/app/[^/]+$", path):
        path = f"{path}/app/{app_id}"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


# --------------------------------------------------------------------------------------------
# Answers


def data_pages(doc: Any) -> list[dict]:
    """The `qDataPages` of any saved answer: a `GetHyperCubeData` result, a `GetLayout` result
    (`{"qLayout": {"qHyperCube": ...}}`, as in Husbanken's sample), or either in its JSON-RPC
    envelope (`{"jsonrpc": "2.0", "result": ...}`)."""
    if isinstance(doc, (bytes, str)):
        try:
            doc = json.loads(doc)
        except json.JSONDecodeError as exc:
            raise QlikFormatError(f"not JSON: {exc}") from None
    if isinstance(doc, dict) and "result" in doc and "jsonrpc" in doc:
        doc = doc["result"]
    if isinstance(doc, dict) and "qDataPages" in doc:
        return list(doc["qDataPages"])
    cube = doc.get("qLayout", doc).get("qHyperCube") if isinstance(doc, dict) else None
    if isinstance(cube, dict) and "qDataPages" in cube:
        return list(cube["qDataPages"])
    keys = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
    raise QlikFormatError(f"no qDataPages (expected a GetHyperCubeData or GetLayout answer); "
                          f"found {keys}")


def layout_of(doc: Any) -> dict | None:
    """The layout inside a saved `GetLayout` answer, or None for a bare data page answer."""
    if isinstance(doc, (bytes, str)):
        doc = json.loads(doc)
    if isinstance(doc, dict) and "result" in doc and "jsonrpc" in doc:
        doc = doc["result"]
    if isinstance(doc, dict) and isinstance(doc.get("qLayout"), dict):
        return doc["qLayout"]
    return None


@dataclass(frozen=True)
class QCell:
    text: str | None
    num: float | None  # None for Qlik's "NaN"
    is_null: bool

    @classmethod
    def of(cls, cell: dict) -> QCell:
        text = cell.get("qText")
        raw = cell.get("qNum")
        num: float | None
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            num = None if isinstance(raw, float) and math.isnan(raw) else raw
        else:
            num = None  # "NaN" (string) or absent
        is_null = bool(cell.get("qIsNull")) or (num is None and text in (None, "-"))
        return cls(text, num, is_null)

    @property
    def number(self) -> int | float | None:
        """``qNum`` with whole numbers as ``int`` (counts and kroner are whole)."""
        if self.num is None:
            return None
        if isinstance(self.num, float) and self.num.is_integer():
            return int(self.num)
        return self.num


def matrix_rows(pages: Iterable[dict], width: int | None = None) -> Iterator[tuple[int, list[QCell]]]:
    """(row number in the cube, cells) over data pages; row numbers from each page's `qArea`."""
    for p, page in enumerate(pages):
        top = int(page.get("qArea", {}).get("qTop", 0))
        for i, row in enumerate(page.get("qMatrix", [])):
            if width is not None and len(row) != width:
                raise QlikFormatError(f"page {p} row {top + i}: {len(row)} cells, expected {width}")
            yield top + i, [QCell.of(c) for c in row]


# --------------------------------------------------------------------------------------------
# Husbanken bostøtte


BOSTOTTE_COLUMNS = ["kommune_nr", "year", "measure", "value", "status", "unit"]
BOSTOTTE_KEY = ["kommune_nr", "year", "measure"]
_CODE = re.compile(r"^\d{4}$")


def bostotte_rows(pages: Iterable[dict], measures: Sequence[Measure],
                  ) -> tuple[list[tuple], list[Quarantined]]:
    """Long rows ``(kommune_nr, year, measure, value, status, unit)`` from cube pages whose
    columns are ``KommuneNr, År, <measures...>``.

    - ``kommune_nr`` is Husbanken's code as published (``qText``): 4-digit kommune codes, and
      ``0311``-``0326`` for Oslo's bydeler in Husbanken's own numbering (geography maps them);
    - a row whose ``År`` is Qlik's null (``-``, ``qNum`` "NaN") has no year: it is rejected with
      its values, never stored under an invented year;
    - a measure cell that is Qlik's null keeps ``value`` NULL and ``status`` "-".
    """
    width = 2 + len(measures)
    rows: list[tuple] = []
    rejected: list[Quarantined] = []
    for n, cells in matrix_rows(pages, width):
        region, year_cell, values = cells[0], cells[1], cells[2:]
        shown = {"kommune_nr": region.text, "year": year_cell.text, "cube_row": n,
                 **{m.label: v.number if v.num is not None else v.text
                    for m, v in zip(measures, values)}}
        code = (region.text or "").strip()
        if not _CODE.match(code):
            rejected.append(Quarantined("kommune_nr", region.text,
                                     f"KommuneNr {region.text!r} is not a 4-digit code", shown))
            continue
        year_text = (year_cell.text or "").strip()
        if year_cell.is_null or not re.fullmatch(r"\d{4}", year_text):
            rejected.append(Quarantined(
                "year", year_cell.text,
                f"År is {year_cell.text!r} (Qlik's null: the row has no year)", shown))
            continue
        year = int(year_text)
        for m, v in zip(measures, values):
            if v.num is None:
                rows.append((code, year, m.label, None, v.text or "-", m.unit))
            else:
                rows.append((code, year, m.label, v.number, None, m.unit))
    return rows, rejected
