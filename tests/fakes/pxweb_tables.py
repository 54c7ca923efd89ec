"""PxWebApi v2 tables built in code: metadata and JSON-stat2 data for any selection.

The shapes follow SSB's documented v2 responses (see ../shared/realdata/ssb_pxwebapi_v2/): a
metadata response is a JSON-stat2 dataset with `"value": []`, `extension.elimination` per
dimension and `role.time` / `role.metric`; a data response holds only the selected codes, values
in row-major order (the last dimension varies fastest), `null` for a missing cell and its symbol in
`status`, keyed by the cell's flat index as a string.

Used by the fake server (pxweb_server.py) and by tools/build_ssb_golden.py, which writes the
constructed golden cassettes. Nothing here is a capture: the values are made up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import product
from math import prod

Cell = tuple[float | int | None, str | None]


@dataclass
class FakeDimension:
    id: str
    label: str
    categories: list[tuple[str, str]]  # (code, label) in the table's order
    elimination: bool = False
    units: dict[str, tuple[str, int]] | None = None  # metric dimension: code -> (base, decimals)

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.categories]

    def json(self, codes: list[str]) -> dict:
        labels = dict(self.categories)
        category: dict = {"index": {c: i for i, c in enumerate(codes)},
                          "label": {c: labels[c] for c in codes}}
        if self.units is not None:
            category["unit"] = {c: {"base": self.units[c][0], "decimals": self.units[c][1]}
                                for c in codes}
        return {"label": self.label, "category": category,
                "extension": {"elimination": self.elimination,
                              "show": "value" if self.units is not None else "code_value"}}


def hashed_value(low: int, high: int, decimals: int = 0) -> Callable[[tuple[str, ...]], float]:
    """A made-up but stable value per cell, from a hash of its codes."""
    def value(codes: tuple[str, ...]) -> float | int:
        digest = int(hashlib.sha256("|".join(codes).encode()).hexdigest()[:8], 16)
        number = low + digest % ((high - low) * 10 ** decimals + 1) / 10 ** decimals
        return round(number, decimals) if decimals else int(number)
    return value


@dataclass
class FakeTable:
    table_id: str
    label: str
    dimensions: list[FakeDimension]
    time: str = "Tid"
    metric: str = "ContentsCode"
    updated: str = "2026-03-02T07:00:00Z"
    source: str = "Statistisk sentralbyrå"
    value_of: Callable[[tuple[str, ...]], float | int] = field(
        default_factory=lambda: hashed_value(0, 5000))
    # Cells with a status symbol: codes (in dimension order) -> (value or None, symbol).
    status: dict[tuple[str, ...], Cell] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for codes in self.status:
            if len(codes) != len(self.dimensions):
                raise ValueError(f"{self.table_id}: status cell {codes} needs one code per "
                                 f"dimension {[d.id for d in self.dimensions]}")
            for dim, code in zip(self.dimensions, codes):
                if code not in dim.codes:
                    raise ValueError(f"{self.table_id}: status cell {codes}: {dim.id} has no "
                                     f"code {code!r}")

    @property
    def cells(self) -> int:
        return prod(len(d.codes) for d in self.dimensions)

    def dimension(self, dim_id: str) -> FakeDimension:
        for dim in self.dimensions:
            if dim.id.lower() == dim_id.lower():
                return dim
        raise KeyError(dim_id)

    def cell(self, codes: tuple[str, ...]) -> Cell:
        """(value, status) of one cell."""
        if codes in self.status:
            return self.status[codes]
        return self.value_of(codes), None

    def all_cells(self) -> dict[tuple[str, ...], Cell]:
        return {codes: self.cell(codes) for codes in product(*(d.codes for d in self.dimensions))}

    def _dataset(self, codes_per_dim: list[list[str]]) -> dict:
        doc = {
            "version": "2.0", "class": "dataset", "label": self.label, "source": self.source,
            "updated": self.updated,
        }
        if self.notes:
            doc["note"] = list(self.notes)
        role = {"time": [self.time]} if self.time else {}
        if self.metric:
            role["metric"] = [self.metric]
        doc["role"] = role
        doc["id"] = [d.id for d in self.dimensions]
        doc["size"] = [len(c) for c in codes_per_dim]
        doc["dimension"] = {d.id: d.json(c) for d, c in zip(self.dimensions, codes_per_dim)}
        doc["extension"] = {"px": {"tableid": self.table_id, "language": "no",
                                   "contents": self.label, "decimals": 0,
                                   "matrix": self.table_id}}
        return doc

    def metadata(self) -> dict:
        doc = self._dataset([d.codes for d in self.dimensions])
        doc["value"] = []
        return doc

    def data(self, selection: dict[str, list[str]]) -> dict:
        """The data response for codes per dimension id (each list in the table's order)."""
        codes_per_dim = [selection[d.id] for d in self.dimensions]
        doc = self._dataset(codes_per_dim)
        values, status = [], {}
        for i, codes in enumerate(product(*codes_per_dim)):
            value, symbol = self.cell(codes)
            values.append(value)
            if symbol is not None:
                status[str(i)] = symbol
        doc["value"] = values
        if status:
            doc["status"] = status
        return doc


def problem(status: int, title: str, detail: str | None = None) -> dict:
    """An RFC 7807 problem body as PxWebApi 2 writes it."""
    body = {"type": "Parameter error", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return body


class SelectionProblem(Exception):
    def __init__(self, status: int, title: str, detail: str | None = None):
        super().__init__(detail or title)
        self.problem = problem(status, title, detail)
        self.status = status


def resolve(table: FakeTable, requested: dict[str, list[str]]) -> dict[str, list[str]]:
    """The codes a request selects, per dimension, in the table's order.

    Unlike the real API, the fake refuses to eliminate a dimension: a crawl must select every
    dimension explicitly (the real default selection silently returns a subset).
    """
    chosen: dict[str, list[str]] = {}
    for dim_id, values in requested.items():
        try:
            dim = table.dimension(dim_id)
        except KeyError:
            raise SelectionProblem(400, "Non-existent variable", f"{dim_id}") from None
        if values == ["*"]:
            chosen[dim.id] = dim.codes
            continue
        unknown = [v for v in values if v not in dim.codes]
        if unknown:
            raise SelectionProblem(400, "Non-existent value", f"{dim.id}: {unknown[:5]}")
        wanted = set(values)
        chosen[dim.id] = [c for c in dim.codes if c in wanted]
    missing = [d.id for d in table.dimensions if d.id not in chosen]
    if missing:
        raise SelectionProblem(400, "Missing selection for mandatory variable", ", ".join(missing))
    return chosen
