"""FHI Statistikkbank's open API (statistikk-data.fhi.no): query bodies in, JSON-stat 2.0 out.

Pure functions, no Scrapy. Facts they are built on (FHI's own documentation,
github.com/folkehelseinstituttet/Fhi.Statistikk.OpenAPI, README and user guide):

- `GET /api/open/v1/{sourceId}/Table/{tableId}/query` answers the request body that asks for the
  whole table: `{"dimensions": [{"code", "filter": "item", "values": [every category]}],
  "response": {"format", "maxRowCount"}}`. Beside it: `/dimension` (labels, category tree),
  `/metadata` (editorial sections), `/flag` (the symbols used for hidden values).
- `POST /api/open/v1/{sourceId}/Table/{tableId}/data` with such a body (JSON) answers the data.
  Filters: `item` (these categories), `all` (glob patterns, `["*"]` for every category), `top`
  (the FIRST n categories: for years the OLDEST) and `bottom` (the LAST n: the NEWEST). SSB's
  `TOP(n)` means the newest: the words are opposite. `maxRowCount` left out means no limit.
- The JSON-stat 2.0 answer has `category.index` as a list, `"status": ""` when nothing is
  flagged, `role.metric` = `MEASURE_TYPE` (units with `label`, not `base`). Years are written
  `2020_2020` (a single year) or `2018_2020` (a three-year average). Regions (`GEO`): `0` the
  country, fylker, kommuner and bydeler (6 digits), and codes for "uoppgitt".
- A hidden value comes as a string in `value` (`"k"`, `":"`, `".."` ...); it is kept as status
  with value NULL, like SSB's status symbols. Answers may start with a UTF-8 byte order mark.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from math import prod

from atlas_crawl.formats import jsonstat, sniff

API = "https://statistikk-data.fhi.no/api/open/v1"
YEAR_DIMENSION = "AAR"
_YEARS = re.compile(r"^(\d{4})_(\d{4})$")


class FhiError(ValueError):
    """An answer or a query body the parser cannot use; the message names the field."""


def table_url(source: str, table: str | int, endpoint: str = "") -> str:
    return f"{API}/{source}/Table/{table}" + (f"/{endpoint}" if endpoint else "")


def load(data: bytes | str, where: str = "<answer>") -> object:
    """JSON, with or without a UTF-8 byte order mark; a large answer is read as a stream, its
    values into a compact array (jsonstat.read_document). Anything else (a maintenance page
    served with HTTP 200, an answer cut short) is an FhiError saying what arrived."""
    if isinstance(data, bytes) and len(data) >= jsonstat.STREAM_FROM_BYTES:
        try:
            return jsonstat.read_document(io.BytesIO(data))
        except jsonstat.JsonStatError as exc:
            raise FhiError(f"{where}: {exc}") from None
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        return json.loads(text.lstrip("\ufeff"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FhiError(f"{where}: expected FHI's JSON answer, got {sniff.what_is(data)}") \
            from None


def query_dimensions(data: bytes | str | dict, where: str = "<query>") -> dict[str, list[str]]:
    """{dimension code: every category} from the `/query` answer, in FHI's order."""
    doc = data if isinstance(data, dict) else load(data, where)
    dims = doc.get("dimensions") if isinstance(doc, dict) else None
    if not isinstance(dims, list) or not dims:
        raise FhiError(f"{where}: field 'dimensions': expected a non-empty list")
    out: dict[str, list[str]] = {}
    for n, dim in enumerate(dims):
        if not isinstance(dim, dict) or not dim.get("code"):
            raise FhiError(f"{where}: dimensions[{n}]: field 'code' is missing")
        out[str(dim["code"])] = [str(v) for v in dim.get("values") or []]
    return out


def data_bodies(dimensions: dict[str, list[str]], *, newest: int | None = None,
                max_cells: int = 500_000) -> list[dict]:
    """The POST bodies that fetch the table: every dimension with `all` / `*`, the years as
    `bottom` n when `newest` is given (FHI's bottom = the newest). A table larger than
    `max_cells` is asked for a few years at a time (`item`), so no answer is unbounded."""
    years = dimensions.get(YEAR_DIMENSION, [])
    if newest is not None and years:
        years = years[-newest:]  # FHI lists the years oldest first
    per_year = prod(len(v) or 1 for k, v in dimensions.items() if k != YEAR_DIMENSION)
    step = max(1, max_cells // max(per_year, 1))

    def body(year_filter: dict | None) -> dict:
        dims = []
        for code in dimensions:
            if code == YEAR_DIMENSION and year_filter is not None:
                dims.append({"code": code, **year_filter})
            else:
                dims.append({"code": code, "filter": "all", "values": ["*"]})
        return {"dimensions": dims, "response": {"format": "json-stat2"}}

    if not years or len(years) <= step:
        if newest is not None and YEAR_DIMENSION in dimensions:
            return [body({"filter": "bottom", "values": [str(newest)]})]
        return [body(None)]
    return [body({"filter": "item", "values": years[i:i + step]})
            for i in range(0, len(years), step)]


def _as_jsonstat(doc: dict) -> dict:
    """FHI's dialect in the shape the JSON-stat decoder reads: `"status": ""` is no status, and a
    unit's name is in `label` where SSB (and the decoder) use `base`."""
    doc = {**doc, "status": doc.get("status") or None}
    dims = doc.get("dimension")
    if isinstance(dims, dict):
        dims = dict(dims)
        for dim_id, dim in dims.items():
            units = ((dim or {}).get("category") or {}).get("unit")
            if isinstance(units, dict):
                fixed = {code: {**u, "base": u.get("base") or u.get("label")}
                         if isinstance(u, dict) else u for code, u in units.items()}
                dims[dim_id] = {**dim, "category": {**dim["category"], "unit": fixed}}
        doc["dimension"] = dims
    return doc


def period_of(code: str) -> str:
    """`2020_2020` -> `2020`; `2018_2020` -> `2018-2020` (a period the catalogue reads)."""
    m = _YEARS.match(code)
    if not m:
        return code
    return m[1] if m[1] == m[2] else f"{m[1]}-{m[2]}"


def dataset(data: bytes | str | dict, where: str = "<answer>") -> jsonstat.Dataset:
    """A data answer as a JSON-stat dataset whose hidden values (strings in `value`) are value
    None with the symbol as status (a status FHI gives itself is kept)."""
    doc = data if isinstance(data, dict) else load(data, where)
    if not isinstance(doc, dict):
        raise FhiError(f"{where}: not a JSON-stat dataset")
    doc = _as_jsonstat(doc)
    try:
        ds = jsonstat.decode(doc)
    except jsonstat.JsonStatError as exc:
        raise FhiError(f"{where}: {exc}") from None
    hide_string_values(ds)
    return ds


def hide_string_values(ds: jsonstat.Dataset) -> None:
    """Move the symbols FHI sends as values (`"k"`, `":"`) to the cells' status, value None."""
    values = ds.values
    if isinstance(values, jsonstat.Values):  # a large answer read as a stream: now read as null
        symbols = values.hide_strings()
    else:
        symbols = {n: v for n, v in enumerate(values) if v.__class__ is str}
        if symbols:
            ds.values = values = list(values)
            for n in symbols:
                values[n] = None
    if not symbols or isinstance(ds.status, str):  # a string is every cell's status already
        return
    if isinstance(ds.status, list):
        ds.status = status = list(ds.status)
        status += [None] * (len(values) - len(status))
        for n, symbol in symbols.items():
            if not status[n]:
                status[n] = symbol.strip()
    else:
        ds.status = status = dict(ds.status or {})
        for n, symbol in symbols.items():
            if not status.get(n):
                status[n] = symbol.strip()


def period_columns(columns: list[str]) -> dict[str, jsonstat.Derived]:
    """`periode` (the catalogue's period, from FHI's year code) after `aar`, when there is one."""
    return {"aar": ("periode", period_of)} if "aar" in columns else {}


def decode(data: bytes | str | dict, where: str = "<answer>") -> tuple[list[str], Iterator[tuple],
                                                                          list[str]]:
    """(columns, rows, key) of a data answer in the wide form: each dimension as code and label
    columns (the metric's unit and decimals beside it), `periode` after the year columns, then
    value, status and updated. String values become status with value NULL. (The spiders store
    the narrow form: `dataset()`, its `dimension_tables()` and `fact_rows(period_columns(..))`.)"""
    ds = dataset(data, where)
    columns = ds.columns
    year_at = columns.index("aar") if "aar" in columns else None
    out_columns = list(columns)
    if year_at is None:
        return out_columns, ds.rows(), ds.key
    out_columns.insert(year_at + 2, "periode")

    def rows() -> Iterator[tuple]:
        for row in ds.rows():
            yield (*row[:year_at + 2], period_of(row[year_at]), *row[year_at + 2:])

    return out_columns, rows(), ds.key
