"""Decode JSON-stat 2.0 datasets (SSB PxWebApi v2 and v0, FHI) into long rows.

Each dimension gives a code and a label column; the metric dimension (role `metric`, SSB's
ContentsCode) also gives `unit` and `decimals`. Then `value`, `status` and `updated`. A suppressed
or missing cell keeps value NULL and its symbol in `status` (`..`, `:`, `.`, `-`, `*`): nothing is
imputed. Cells are in row-major order: the last dimension varies fastest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, product
from math import prod


class JsonStatError(ValueError):
    pass


@dataclass(frozen=True)
class Dimension:
    id: str
    label: str
    codes: tuple[str, ...]
    labels: tuple[str, ...]
    units: tuple[tuple[str | None, int | None], ...] | None  # per code, for the metric dimension
    elimination: bool | None

    @property
    def column(self) -> str:
        return column_name(self.id)


@dataclass
class Dataset:
    label: str
    source: str
    updated: str | None
    table_id: str | None
    dimensions: list[Dimension]
    values: list
    status: dict[int, str] | list | str | None

    @property
    def size(self) -> int:
        return prod(len(d.codes) for d in self.dimensions)

    @property
    def columns(self) -> list[str]:
        cols = []
        for dim in self.dimensions:
            cols += [dim.column, f"{dim.column}_label"]
            if dim.units is not None:
                cols += ["unit", "decimals"]
        return cols + ["value", "status", "updated"]

    @property
    def key(self) -> list[str]:
        return [d.column for d in self.dimensions]

    def rows(self) -> Iterator[tuple]:
        """All cells as tuples in `columns` order."""
        per_dim = []
        for dim in self.dimensions:
            if dim.units is None:
                per_dim.append([(c, lab) for c, lab in zip(dim.codes, dim.labels)])
            else:
                per_dim.append([(c, lab, *u) for c, lab, u in
                                zip(dim.codes, dim.labels, dim.units)])
        if not per_dim:
            return
        values, status, updated = self.values, self.status, self.updated
        status_at = _status_lookup(status)
        inner = per_dim[-1]
        i = 0
        for outer in product(*per_dim[:-1]):
            prefix = tuple(chain.from_iterable(outer))
            for cell in inner:
                yield prefix + cell + (values[i], status_at(i), updated)
                i += 1


def column_name(dimension_id: str) -> str:
    """SQL-friendly column name for a dimension id: `ContentsCode` -> `contentscode`."""
    return re.sub(r"[^0-9a-z_]+", "_", dimension_id.lower()).strip("_") or "dim"


def _status_lookup(status):
    if status is None:
        return lambda i: None
    if isinstance(status, str):
        return lambda i: status
    if isinstance(status, list):
        return lambda i: status[i] if i < len(status) else None
    return status.get


def _ordered_codes(path: str, category: dict) -> list[str]:
    index = category.get("index")
    if index is None:
        labels = category.get("label") or {}
        if len(labels) == 1:
            return list(labels)
        raise JsonStatError(f"{path}: category has no index")
    if isinstance(index, list):
        return [str(c) for c in index]
    ordered = sorted(index.items(), key=lambda kv: kv[1])
    if [pos for _, pos in ordered] != list(range(len(ordered))):
        raise JsonStatError(f"{path}: category.index positions are not 0..{len(ordered) - 1}")
    return [str(code) for code, _ in ordered]


def _dense_values(value, size: int) -> list:
    if isinstance(value, list):
        if len(value) != size:
            raise JsonStatError(f"value has {len(value)} cells, dimensions give {size}")
        return value
    if isinstance(value, dict):
        dense = [None] * size
        for k, v in value.items():
            dense[int(k)] = v
        return dense
    raise JsonStatError(f"value must be an array or an object, found {type(value).__name__}")


def _status(status, size: int):
    if status is None or isinstance(status, str):
        return status
    if isinstance(status, list):
        if len(status) == 1:
            return status[0]
        return status
    if isinstance(status, dict):
        return {int(k): v for k, v in status.items()}
    raise JsonStatError(f"status must be an object, array or string, found {type(status).__name__}")


def read_dimensions(doc: dict) -> list[Dimension]:
    ids = doc.get("id")
    sizes = doc.get("size")
    dims = doc.get("dimension")
    if not isinstance(ids, list) or not isinstance(dims, dict):
        raise JsonStatError("not a JSON-stat 2.0 dataset: 'id' and 'dimension' are required")
    metric = set((doc.get("role") or {}).get("metric") or [])
    result = []
    for n, dim_id in enumerate(ids):
        dim = dims.get(dim_id)
        if dim is None:
            raise JsonStatError(f"dimension {dim_id!r} listed in 'id' is missing")
        category = dim.get("category") or {}
        codes = _ordered_codes(f"dimension {dim_id!r}", category)
        if sizes and n < len(sizes) and sizes[n] != len(codes):
            raise JsonStatError(
                f"dimension {dim_id!r}: size says {sizes[n]} categories, index has {len(codes)}"
            )
        labels_map = category.get("label") or {}
        labels = tuple(str(labels_map.get(c, c)) for c in codes)
        units = None
        unit_map = category.get("unit")
        if dim_id in metric or unit_map:
            unit_map = unit_map or {}
            units = tuple(
                ((unit_map.get(c) or {}).get("base"), (unit_map.get(c) or {}).get("decimals"))
                for c in codes
            )
        elimination = (dim.get("extension") or {}).get("elimination")
        result.append(Dimension(dim_id, str(dim.get("label", dim_id)), tuple(codes), labels,
                                units, elimination))
    return result


def decode(doc: dict | bytes | str) -> Dataset:
    """Parse a JSON-stat 2.0 dataset (a response body, or already-parsed JSON)."""
    if isinstance(doc, (bytes, str)):
        try:
            doc = json.loads(doc)
        except json.JSONDecodeError as exc:
            raise JsonStatError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("class", "dataset") != "dataset":
        raise JsonStatError("not a JSON-stat dataset (class must be 'dataset')")
    dimensions = read_dimensions(doc)
    size = prod(len(d.codes) for d in dimensions)
    extension = doc.get("extension") or {}
    return Dataset(
        label=str(doc.get("label", "")),
        source=str(doc.get("source", "")),
        updated=doc.get("updated"),
        table_id=(extension.get("px") or {}).get("tableid"),
        dimensions=dimensions,
        values=_dense_values(doc.get("value", []), size),
        status=_status(doc.get("status"), size),
    )
