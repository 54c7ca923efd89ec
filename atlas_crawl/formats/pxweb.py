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
from math import ceil, prod
from urllib.parse import quote

from atlas_crawl.formats.jsonstat import Dimension, read_dimensions

BASE_URL = "https://data.ssb.no/api/pxwebapi/v2"
MAX_URL_LENGTH = 2000
# SSB documents 30 calls per minute; /config has reported 0 ("not in use") since the limit moved
# to the x-ratelimit-policy header. Without either, stay at the documented limit.
DEFAULT_CALLS, DEFAULT_WINDOW = 30, 60.0
DEFAULT_MAX_CELLS = 800_000
# Calls are spaced 10 % wider than timeWindow / maxCalls: the spacing is measured where the
# requests leave, the limit where they arrive, and network jitter must not tip a call over.
PACING_MARGIN = 1.1


class PlanError(ValueError):
    """A selection the planner cannot turn into valid queries (unknown dimension or code)."""


@dataclass(frozen=True)
class ApiLimits:
    max_cells: int = DEFAULT_MAX_CELLS
    max_calls: int = DEFAULT_CALLS
    time_window: float = DEFAULT_WINDOW
    source: str = "documented default"

    @property
    def delay(self) -> float:
        """Seconds between calls that keeps within max_calls per time_window (with a margin)."""
        return self.time_window / self.max_calls * PACING_MARGIN


@dataclass(frozen=True)
class ConfigLimits:
    """What `/config` reports; `max_calls`/`time_window` are 0 when the API says "not in use"."""

    max_cells: int
    max_calls: int
    time_window: float


def parse_config(doc: dict | bytes | str) -> ConfigLimits:
    if isinstance(doc, (bytes, str)):
        doc = json.loads(doc)
    cells = int(doc.get("maxDataCells") or 0) or DEFAULT_MAX_CELLS
    calls = int(doc.get("maxCallsPerTimeWindow") or 0)
    window = float(doc.get("timeWindow") or 0)
    if calls <= 0 or window <= 0:
        calls, window = 0, 0.0
    return ConfigLimits(cells, calls, window)


def parse_ratelimit_policy(value: str | bytes | None) -> tuple[int, float] | None:
    """The strictest (calls, seconds) of an `x-ratelimit-policy` / `RateLimit-Policy` header.

    Accepts SSB's `40;w=60s`, lists such as `10;w=1, 1000;w=3600`, and the newer draft form
    `"default";q=100;w=60`. Returns None when absent or unreadable.
    """
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    best = None
    for item in text.split(","):
        parts = [p.strip() for p in item.split(";")]
        quota = window = None
        if parts and re.fullmatch(r"\d+", parts[0]):
            quota = int(parts[0])
        for param in parts[1:]:
            key, _, raw = param.partition("=")
            raw = raw.strip().strip('"').rstrip("sS")
            if key.strip() == "q" and raw.isdigit():
                quota = int(raw)
            elif key.strip() == "w" and re.fullmatch(r"\d+(?:\.\d+)?", raw):
                window = float(raw)
        if quota and window and (best is None or window / quota > best[1] / best[0]):
            best = (quota, window)
    return best


def effective_limits(config: ConfigLimits | None,
                     policy: tuple[int, float] | None) -> ApiLimits:
    """The pace to keep: the stricter of what /config and the rate-limit header say; SSB's
    documented 30 calls per 60 s when neither says anything."""
    cells = config.max_cells if config else DEFAULT_MAX_CELLS
    candidates = []
    if config and config.max_calls > 0:
        candidates.append((config.max_calls, config.time_window, "/config"))
    if policy:
        candidates.append((policy[0], policy[1], "x-ratelimit-policy"))
    if not candidates:
        return ApiLimits(cells, DEFAULT_CALLS, DEFAULT_WINDOW)
    calls, window, source = max(candidates, key=lambda c: c[1] / c[0])
    return ApiLimits(cells, calls, window, source)


@dataclass(frozen=True)
class TableStatus:
    """Whether SSB has closed a table, and the table it names as the replacement (if any)."""

    discontinued: bool
    replaced_by: str | None = None
    note: str | None = None  # the note that names the replacement


# A note about a closed table: "Tabellen er avsluttet. Se tabell 13995", "erstattet av tabell …",
# "This table is discontinued, see table …", "videreføres i tabell …".
_CLOSED = re.compile(r"avslutt|discontinu|erstatt|replac|videref|continued in|no longer updated|"
                     r"ikke lenger oppdatert", re.IGNORECASE)
_TABLE_NUMBER = re.compile(r"\b(?:tabell|table)(?:ene|s|en)?\s*(?:nr\.?\s*)?(\d{5})\b",
                           re.IGNORECASE)


def _note_texts(doc: dict) -> list[str]:
    """The table's notes (JSON-stat2 `note`: strings; the v2 catalogue: objects with `text`)."""
    texts = []
    for note in doc.get("note") or doc.get("notes") or []:
        if isinstance(note, dict):
            note = note.get("text")
        if isinstance(note, str):
            texts.append(note)
    return texts


def table_status(doc: dict, table_id: str = "") -> TableStatus:
    """A v2 answer's `discontinued` flag (in `extension`, or at the top of the table catalogue
    entries) and the replacement table a note about the closure names."""
    flag = (doc.get("extension") or {}).get("discontinued", doc.get("discontinued"))
    discontinued = flag is True or str(flag).lower() == "true"
    for text in _note_texts(doc):
        if not _CLOSED.search(text):
            continue
        for number in _TABLE_NUMBER.findall(text):
            if number != table_id:
                return TableStatus(discontinued, number, text)
    return TableStatus(discontinued)


def is_table_info(doc: object) -> bool:
    """A v2 `/tables/{id}` answer: one table's description (id, label, periods, variable
    names, `discontinued`, links), no dimensions and no figures."""
    return (isinstance(doc, dict) and isinstance(doc.get("id"), str)
            and isinstance(doc.get("variableNames"), list) and "dimension" not in doc
            and "tables" not in doc and "class" not in doc)


def is_table_metadata(doc: object) -> bool:
    """A v2 `/metadata` answer: a JSON-stat2 dataset with categories but not one value."""
    return (isinstance(doc, dict) and doc.get("class") == "dataset"
            and isinstance(doc.get("dimension"), dict) and doc.get("value") in ([], {}, None)
            and prod(doc.get("size") or [0]) > 0)


@dataclass(frozen=True)
class TableMetadata:
    table_id: str
    label: str
    dimensions: list[Dimension]
    time_dimensions: tuple[str, ...]
    updated: str | None
    status: TableStatus = TableStatus(False)

    @property
    def cells(self) -> int:
        return prod(len(d.codes) for d in self.dimensions)

    def dimension(self, dim_id: str) -> Dimension:
        for dim in self.dimensions:
            if dim.id == dim_id:
                return dim
        raise PlanError(f"table {self.table_id} has no dimension {dim_id!r} "
                        f"(it has {[d.id for d in self.dimensions]})")


def parse_metadata(doc: dict | bytes, table_id: str = "") -> TableMetadata:
    """Metadata of a v2 table (`/tables/<id>/metadata`, JSON-stat2 with an empty value)."""
    if isinstance(doc, (bytes, str)):
        doc = json.loads(doc)
    dims = read_dimensions(doc)
    role = doc.get("role") or {}
    table = table_id or ((doc.get("extension") or {}).get("px") or {}).get("tableid") or ""
    return TableMetadata(str(table), str(doc.get("label", "")), dims,
                         tuple(role.get("time") or []), doc.get("updated"),
                         table_status(doc, str(table)))


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

    def fits_in_url(self, base: str = BASE_URL, lang: str = "no") -> bool:
        return len(self.get_url(base, lang)) <= MAX_URL_LENGTH

    def summary(self) -> str:
        """`Tid=2019..2020 (2), Region=*` — for log lines."""
        parts = []
        for dim_id, codes in self.selection.items():
            if codes is None:
                parts.append(f"{dim_id}=*")
            elif len(codes) <= 2:
                parts.append(f"{dim_id}={','.join(codes)}")
            else:
                parts.append(f"{dim_id}={codes[0]}..{codes[-1]} ({len(codes)})")
        return ", ".join(parts)


def full_query(meta: TableMetadata, overrides: dict[str, list[str]] | None = None) -> Query:
    """Every dimension selected explicitly: all codes unless the manifest narrows one."""
    selection: dict[str, list[str] | None] = {d.id: None for d in meta.dimensions}
    for dim_id, codes in (overrides or {}).items():
        dim = meta.dimension(dim_id)  # fail early on a dimension the table lacks
        codes = [str(c) for c in codes]
        if codes == ["*"]:
            continue
        unknown = [c for c in codes if c not in dim.codes]
        if unknown:
            raise PlanError(f"table {meta.table_id}: dimension {dim_id} has no code(s) {unknown}")
        # Keep the table's own order, so a split reads like the table and URLs stay stable.
        wanted = set(codes)
        selection[dim_id] = [c for c in dim.codes if c in wanted]
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
    """Queries that together cover the selection exactly once, each within `max_cells`."""
    return split(meta, full_query(meta, overrides), max_cells)


def split(meta: TableMetadata, query: Query, max_cells: int) -> list[Query]:
    """Cut `query` along the first splittable dimension in `split_order` into as few, evenly
    sized pieces as fit; a piece that still does not fit (one code of that dimension is too
    large) is cut along the next dimension."""
    if max_cells < 1:
        raise PlanError(f"table {meta.table_id}: max_cells must be at least 1, got {max_cells}")
    if query.cells <= max_cells:
        return [query]
    for dim_id in split_order(meta):
        codes = query.codes(meta, dim_id)
        if len(codes) < 2:
            continue
        per_code = query.cells // len(codes)
        pieces = ceil(len(codes) / max(1, max_cells // per_code))
        size, bigger = divmod(len(codes), pieces)  # the first `bigger` pieces get one more
        queries, start = [], 0
        for n in range(pieces):
            end = start + size + (n < bigger)
            queries += split(meta, query.with_codes(dim_id, codes[start:end]), max_cells)
            start = end
        return queries
    raise PlanError(f"table {meta.table_id}: cannot split {query.summary()} below "
                    f"max_cells={max_cells}")


def halve(meta: TableMetadata, query: Query) -> list[Query]:
    """Split a query the server refused as too large into two, along the first splittable axis."""
    for dim_id in split_order(meta):
        codes = query.codes(meta, dim_id)
        if len(codes) >= 2:
            mid = len(codes) // 2
            return [query.with_codes(dim_id, codes[:mid]), query.with_codes(dim_id, codes[mid:])]
    raise PlanError(f"table {meta.table_id}: cannot split a one-cell query ({query.summary()})")


def problem_detail(body: bytes) -> str:
    """The `detail` (or `title`) of an RFC 7807 problem+json body, else the text, on one line.

    Not every refusal comes from the API: a GET URL too long for the web server in front of it
    (SSB's real answer to 839 region codes in one URL) is an IIS "404 - File or directory not
    found." XHTML page, named here by its title."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return text_summary(body)
    if isinstance(doc, dict):
        title, detail = str(doc.get("title") or ""), str(doc.get("detail") or "")
        if title and detail and title.lower() not in detail.lower():
            return f"{title}: {detail}"[:500]
        return str(detail or title or doc)[:500]
    return str(doc)[:500]


def text_summary(body: bytes) -> str:
    """A non-JSON answer in one line: an HTML page's title, else its first 300 characters."""
    text = body[:4000].decode("utf-8", "replace")
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title and title.group(1).strip():
        return f"an HTML page, not JSON: {' '.join(title.group(1).split())[:200]}"
    return " ".join(text[:300].split())


def is_problem(doc: object) -> bool:
    """A PxWebApi error answer (RFC 7807 problem+json: type, title, status), not data. Its
    `status` may disagree with the HTTP status (SSB answered HTTP 400 with `"status": 404`)."""
    return (isinstance(doc, dict) and "title" in doc and "status" in doc
            and "dimension" not in doc and "value" not in doc)


def too_many_cells(status: int, body: bytes) -> bool:
    """Did the API refuse a query as too large? SSB documents 403 for that; the PxWebApi 2 code
    answers 400 with the problem title "Too many cells selected"."""
    if status == 403:
        return True
    return status == 400 and "too many cells" in problem_detail(body).lower()
