"""SSB PxWebApi v2: API limits, table metadata and query planning. Pure functions, no I/O.

A table is fetched with every dimension selected explicitly (the API's default selection silently
returns only the latest period or a subset). When the full selection exceeds the API's cell limit
the planner splits it, time first, then dimensions that may be eliminated, then the rest, so that
every query stays within `maxDataCells`; long selections go in a POST body instead of the URL.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from math import prod
from urllib.parse import quote

from atlas_crawl.formats.jsonstat import Dimension, read_dimensions

BASE_URL = "https://data.ssb.no/api/pxwebapi/v2"
MAX_URL_LENGTH = 2000
# SSB documents 30 calls per minute; /config has reported 0 ("not in use") since the limit moved
# to the x-ratelimit-policy header. Without either, stay at the documented limit.
DEFAULT_CALLS, DEFAULT_WINDOW = 30, 60.0
DEFAULT_MAX_CELLS = 800_000


@dataclass(frozen=True)
class ApiLimits:
    max_cells: int = DEFAULT_MAX_CELLS
    max_calls: int = DEFAULT_CALLS
    time_window: float = DEFAULT_WINDOW

    @property
    def delay(self) -> float:
        """Seconds between calls that keeps within max_calls per time_window."""
        return self.time_window / self.max_calls


def parse_config(doc: dict | bytes) -> ApiLimits:
    if isinstance(doc, (bytes, str)):
        doc = json.loads(doc)
    cells = int(doc.get("maxDataCells") or 0) or DEFAULT_MAX_CELLS
    calls = int(doc.get("maxCallsPerTimeWindow") or 0)
    window = float(doc.get("timeWindow") or 0)
    if calls <= 0 or window <= 0:
        calls, window = DEFAULT_CALLS, DEFAULT_WINDOW
    return ApiLimits(cells, calls, window)


def parse_ratelimit_policy(value: str | bytes | None) -> tuple[int, float] | None:
    """`40;w=60s` (the x-ratelimit-policy header) -> (40, 60.0)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    match = re.match(r"\s*(\d+)\s*;\s*w=(\d+(?:\.\d+)?)s?", text)
    if not match:
        return None
    return int(match.group(1)), float(match.group(2))


@dataclass(frozen=True)
class TableMetadata:
    table_id: str
    label: str
    dimensions: list[Dimension]
    time_dimensions: tuple[str, ...]
    updated: str | None

    @property
    def cells(self) -> int:
        return prod(len(d.codes) for d in self.dimensions)

    def dimension(self, dim_id: str) -> Dimension:
        for dim in self.dimensions:
            if dim.id == dim_id:
                return dim
        raise KeyError(f"table {self.table_id} has no dimension {dim_id!r}")


def parse_metadata(doc: dict | bytes, table_id: str = "") -> TableMetadata:
    """Metadata of a v2 table (`/tables/<id>/metadata`, JSON-stat2 with an empty value)."""
    if isinstance(doc, (bytes, str)):
        doc = json.loads(doc)
    dims = read_dimensions(doc)
    role = doc.get("role") or {}
    table = table_id or ((doc.get("extension") or {}).get("px") or {}).get("tableid") or ""
    return TableMetadata(str(table), str(doc.get("label", "")), dims,
                         tuple(role.get("time") or []), doc.get("updated"))


@dataclass
class Query:
    """One data request: per dimension the codes to fetch; None means all of them (`*`)."""

    table_id: str
    selection: dict[str, list[str] | None]
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def cells(self) -> int:
        return prod(len(v) if v is not None else self.sizes[k] for k, v in self.selection.items())

    def with_codes(self, dim_id: str, codes: list[str]) -> Query:
        return Query(self.table_id, {**self.selection, dim_id: codes}, self.sizes)

    def codes(self, meta: TableMetadata, dim_id: str) -> list[str]:
        chosen = self.selection[dim_id]
        return list(meta.dimension(dim_id).codes) if chosen is None else chosen

    def get_url(self, base: str = BASE_URL, lang: str = "no") -> str:
        params = [f"lang={lang}", "outputFormat=json-stat2"]
        for dim_id, codes in self.selection.items():
            value = "*" if codes is None else ",".join(codes)
            params.append(f"valueCodes[{quote(dim_id)}]={quote(value, safe='*,()')}")
        return f"{base}/tables/{self.table_id}/data?" + "&".join(params)

    def post_url(self, base: str = BASE_URL, lang: str = "no") -> str:
        return f"{base}/tables/{self.table_id}/data?lang={lang}&outputFormat=json-stat2"

    def post_body(self) -> dict:
        return {"selection": [
            {"variableCode": dim_id, "valueCodes": ["*"] if codes is None else codes}
            for dim_id, codes in self.selection.items()
        ]}

    def fits_in_url(self, base: str = BASE_URL) -> bool:
        return len(self.get_url(base)) <= MAX_URL_LENGTH


def full_query(meta: TableMetadata, overrides: dict[str, list[str]] | None = None) -> Query:
    """Every dimension selected explicitly: all codes unless the manifest narrows one."""
    selection: dict[str, list[str] | None] = {d.id: None for d in meta.dimensions}
    for dim_id, codes in (overrides or {}).items():
        meta.dimension(dim_id)  # fail early on a dimension the table lacks
        selection[dim_id] = [str(c) for c in codes]
    return Query(meta.table_id, selection, {d.id: len(d.codes) for d in meta.dimensions})


def split_order(meta: TableMetadata) -> list[str]:
    """Time first, then dimensions that may be eliminated, then the rest; larger ones first."""
    def rank(dim: Dimension) -> tuple[int, int]:
        if dim.id in meta.time_dimensions:
            group = 0
        elif dim.elimination:
            group = 1
        else:
            group = 2
        return group, -len(dim.codes)
    return [d.id for d in sorted(meta.dimensions, key=rank)]


def plan(meta: TableMetadata, max_cells: int, overrides: dict[str, list[str]] | None = None,
         ) -> list[Query]:
    """Queries that together cover the selection, each within `max_cells`."""
    return split(meta, full_query(meta, overrides), max_cells)


def split(meta: TableMetadata, query: Query, max_cells: int) -> list[Query]:
    if query.cells <= max_cells:
        return [query]
    for dim_id in split_order(meta):
        codes = query.codes(meta, dim_id)
        if len(codes) < 2:
            continue
        per_code = query.cells // len(codes)
        chunk = max(1, max_cells // per_code)
        queries = []
        for start in range(0, len(codes), chunk):
            queries += split(meta, query.with_codes(dim_id, codes[start:start + chunk]),
                             max_cells)
        return queries
    raise ValueError(f"table {meta.table_id}: a single cell exceeds max_cells={max_cells}")


def halve(meta: TableMetadata, query: Query) -> list[Query]:
    """Split a query the server refused as too large into two, along the first splittable axis."""
    for dim_id in split_order(meta):
        codes = query.codes(meta, dim_id)
        if len(codes) >= 2:
            mid = len(codes) // 2
            return [query.with_codes(dim_id, codes[:mid]), query.with_codes(dim_id, codes[mid:])]
    raise ValueError(f"table {meta.table_id}: cannot split a one-cell query")


def problem_detail(body: bytes) -> str:
    """The `detail` (or `title`) of an RFC 7807 problem+json body, else the text."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body[:300].decode("utf-8", "replace")
    if isinstance(doc, dict):
        return str(doc.get("detail") or doc.get("title") or doc)[:500]
    return str(doc)[:500]
