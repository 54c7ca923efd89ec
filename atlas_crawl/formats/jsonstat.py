"""Decode JSON-stat 2.0 datasets (SSB PxWebApi v2 and v0, FHI) into long rows; JSON-stat 1.0
(SSB's v0 ``dataset`` endpoint and ``"format": "json-stat"``) is read the same way.

Each dimension gives a code and a label column; the metric dimension (role `metric`, SSB's
ContentsCode) also gives `unit` and `decimals`. Then `value`, `status` and `updated`. A suppressed
or missing cell keeps value NULL and its symbol in `status` (`..`, `:`, `.`, `-`, `*`): nothing is
imputed. Cells are in row-major order: the last dimension varies fastest.

For storage, `fact_rows()` gives the narrow form (codes, value, status) and `dimension_tables()`
the labels, units and `updated` once per code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain, product, repeat, starmap
from math import prod
from operator import add


class JsonStatError(ValueError):
    pass


#: (column name, code -> value) of a column computed from a dimension's codes.
Derived = tuple[str, Callable[[str], object]]


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
        """All cells as tuples in `columns` order, row-major (the last dimension varies fastest).

        Millions of cells go through here, so the per-cell work is done by C iterators: the
        dimensions are split in two groups whose flattened code/label combinations are built
        once (each a few hundred or thousand tuples), and every row is `outer + inner +
        (value, status, updated)`.
        """
        per_dim = []
        for dim in self.dimensions:
            if dim.units is None:
                per_dim.append([(c, lab) for c, lab in zip(dim.codes, dim.labels)])
            else:
                per_dim.append([(c, lab, *u) for c, lab, u in
                                zip(dim.codes, dim.labels, dim.units)])
        return self._assemble(per_dim, (self.updated,))

    # -- narrow storage: codes in the fact table, per-code facts in dimension tables ----------

    @property
    def fact_columns(self) -> list[str]:
        """Codes, `value`, `status` (and `updated` when no dimension carries units to hold it)."""
        return self.narrow_columns()

    def narrow_columns(self, derived: Mapping[str, Derived] | None = None) -> list[str]:
        """`fact_columns`, with a column derived from a dimension's code right after it (FHI's
        `periode` from `aar`: `derived={"aar": ("periode", period_of)}`)."""
        columns = []
        for dim in self.dimensions:
            columns.append(dim.column)
            if derived and dim.column in derived:
                columns.append(derived[dim.column][0])
        columns += ["value", "status"]
        return columns if self._has_units else [*columns, "updated"]

    def fact_rows(self, derived: Mapping[str, Derived] | None = None) -> Iterator[tuple]:
        """All cells as tuples in `narrow_columns(derived)` order: codes only, no labels. A
        derived column is computed once per code, not per cell."""
        per_dim = []
        for dim in self.dimensions:
            if derived and dim.column in derived:
                make = derived[dim.column][1]
                per_dim.append([(c, make(c)) for c in dim.codes])
            else:
                per_dim.append([(c,) for c in dim.codes])
        return self._assemble(per_dim, () if self._has_units else (self.updated,))

    def dimension_tables(self) -> list[tuple[Dimension, list[str], list[tuple]]]:
        """Per dimension: (dimension, columns, rows) of its code -> label table; the metric
        dimension (units) also holds `unit`, `decimals` and the dataset's `updated`."""
        tables = []
        for dim in self.dimensions:
            if dim.units is None:
                tables.append((dim, ["code", "label"], list(zip(dim.codes, dim.labels))))
            else:
                tables.append((dim, ["code", "label", "unit", "decimals", "updated"],
                               [(c, lab, *u, self.updated)
                                for c, lab, u in zip(dim.codes, dim.labels, dim.units)]))
        return tables

    @property
    def _has_units(self) -> bool:
        return any(dim.units is not None for dim in self.dimensions)

    def _assemble(self, per_dim: list[list[tuple]], tail: tuple) -> Iterator[tuple]:
        if not per_dim:
            return iter(())
        if len(self.values) != self.size:
            raise JsonStatError(f"{len(self.values)} values for {self.size} cells")
        sizes = [len(options) for options in per_dim]
        split = min(range(len(sizes) + 1),
                    key=lambda k: max(prod(sizes[:k]), prod(sizes[k:])))
        heads = starmap(add, product(_combinations(per_dim[:split]),
                                     _combinations(per_dim[split:])))
        cells = zip(self.values, _status_per_cell(self.status, self.size), *map(repeat, tail))
        return map(add, heads, cells)


def column_name(dimension_id: str) -> str:
    """SQL-friendly column name for a dimension id: `ContentsCode` -> `contentscode`."""
    return re.sub(r"[^0-9a-z_]+", "_", dimension_id.lower()).strip("_") or "dim"


def _combinations(per_dim: list[list[tuple]]) -> list[tuple]:
    """Row-major flattened combinations: [(a, A), (b, B)] x [(1, One)] -> [(a, A, 1, One), ...]."""
    combos: list[tuple] = [()]
    for options in per_dim:
        combos = [c + o for c in combos for o in options]
    return combos


def _status_per_cell(status, size: int):
    """An iterator with the status of every cell in order (None where there is none)."""
    if status is None or isinstance(status, str):
        return repeat(status, size)
    if isinstance(status, list):
        # Like the JSON-stat toolkit: a shorter array leaves the remaining cells without status.
        return chain(status[:size], repeat(None, max(0, size - len(status))))
    return map(status.get, range(size))


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


def _cell_index(field: str, key, size: int) -> int:
    """A sparse object's key as a flat cell index; "-1" or "12" in a 12-cell table is an error
    (Python would happily write list[-1])."""
    text = str(key)
    if not text.isdigit() or int(text) >= size:
        raise JsonStatError(
            f"{field} has key {key!r}, which is not a cell index 0..{size - 1}"
        )
    return int(text)


def _dense_values(value, size: int) -> list | Values:
    if isinstance(value, list | Values):
        if len(value) != size:
            raise JsonStatError(f"value has {len(value)} cells, dimensions give {size}")
        return value
    if isinstance(value, dict):
        dense = [None] * size
        for k, v in value.items():
            dense[_cell_index("value", k, size)] = v
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
        return {_cell_index("status", k, size): v for k, v in status.items()}
    raise JsonStatError(f"status must be an object, array or string, found {type(status).__name__}")


def read_dimensions(doc: dict) -> list[Dimension]:
    ids = doc.get("id")
    sizes = doc.get("size")
    dims = doc.get("dimension")
    if not isinstance(ids, list) or not isinstance(dims, dict):
        where = ("a JSON-stat 1.0 dataset: 'dimension' must hold 'id'" if doc.get("version") ==
                 "1.0" else "a JSON-stat 2.0 dataset: 'id' and 'dimension' are required")
        raise JsonStatError(f"not {where}")
    if sizes is not None and (not isinstance(sizes, list) or len(sizes) != len(ids)):
        raise JsonStatError(f"'size' {sizes!r} does not give one size per dimension in 'id' {ids}")
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


def _v1_datasets(doc: object) -> dict:
    """The datasets of a JSON-stat 1.0 bundle, by name (empty for anything else)."""
    if not isinstance(doc, dict) or "dimension" in doc or "class" in doc:
        return {}
    return {k: v for k, v in doc.items()
            if isinstance(v, dict) and isinstance(v.get("dimension"), dict)}


def is_v1_bundle(doc: object) -> bool:
    """JSON-stat 1.0: datasets under names (``{"dataset": {...}}``, ``{"oecd": .., "canada": ..}``),
    each with ``id``/``size``/``role`` inside ``dimension`` rather than beside it. Other keys
    beside the datasets (a ``version``, a note from the server) do not make it something else."""
    return bool(_v1_datasets(doc))


def from_v1(doc: dict, name: str | None = None) -> dict:
    """The JSON-stat 2.0 form of one dataset of a 1.0 bundle: ``name`` picks it; a bundle of
    several datasets without a name is refused, naming them. Keys that are not datasets are
    left aside."""
    doc = _v1_datasets(doc)
    names = list(doc)
    if name is None and len(names) > 1:
        raise JsonStatError(f"a JSON-stat 1.0 bundle of {len(names)} datasets ({', '.join(names)})"
                            "; name the one to read (-a dataset=NAME)")
    chosen = name if name is not None else names[0]
    if chosen not in doc:
        raise JsonStatError(f"no dataset {chosen!r} in the JSON-stat 1.0 bundle "
                            f"(it holds {', '.join(names)})")
    v1 = doc[chosen]
    dims = dict(v1["dimension"])
    converted = {k: v for k, v in v1.items() if k != "dimension"}
    converted.update(version="1.0", **{"class": "dataset"}, id=dims.pop("id", None),
                     size=dims.pop("size", None), role=dims.pop("role", None) or {},
                     dimension=dims)
    return converted


def decode(doc: dict | bytes | str, *, name: str | None = None) -> Dataset:
    """Parse a JSON-stat dataset (a response body, or already-parsed JSON): 2.0, or a 1.0
    bundle, from which ``name`` picks one dataset (a bundle of one needs no name)."""
    if isinstance(doc, (bytes, str)):
        try:
            doc = json.loads(doc)
        except json.JSONDecodeError as exc:
            raise JsonStatError(f"not JSON: {exc}") from exc
        except UnicodeDecodeError:
            raise JsonStatError("not JSON: not UTF-8 text (a binary file?)") from None
    if is_v1_bundle(doc):
        doc = from_v1(doc, name)
    elif name is not None:
        raise JsonStatError(f"-a dataset={name}: the file is one JSON-stat 2.0 dataset, "
                            "not a bundle of named datasets")
    if not isinstance(doc, dict) or doc.get("class", "dataset") != "dataset":
        raise JsonStatError("not a JSON-stat dataset (class must be 'dataset')")
    if doc.get("version") != "1.0" and not isinstance(doc.get("dimension"), dict):
        raise JsonStatError(f"not a JSON-stat dataset: neither 2.0 ('class', 'id' and "
                            f"'dimension' at the top) nor 1.0 (datasets under names, each with "
                            f"'dimension'); top-level keys {sorted(doc)[:8]}")
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


# -- large answers: the value list decoded as a stream ----------------------------------------
# A saved answer of 12 million cells is ~60 MB of JSON; `json.loads` makes a Python object of
# every value (~32 bytes each with its list slot: 400 MB at 12.4 M cells). Read as a stream, the
# values go into an array of doubles (8 bytes each) slice by slice, C doing the parsing; nulls
# and strings (FHI's hidden-value symbols) are kept aside by position, and rows are made from
# slices again.

#: Answers at least this large are decoded as a stream (smaller ones with json.loads).
STREAM_FROM_BYTES = 8 << 20
_SLICE = 1 << 16
_NAN = float("nan")


class Values:
    """A dense value list stored as doubles: `len()`, iteration in order (None for null, the
    string where a cell held one), and `strings` by position."""

    def __init__(self) -> None:
        from array import array

        self.numbers = array("d")
        self.nulls = array("q")  # positions of null and string cells, ascending
        self.strings: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.numbers)

    def extend(self, items: list, strings: bool = True) -> None:
        """Append one decoded slice (numbers, None and, when `strings`, strings)."""
        offset = len(self.numbers)
        odd = []
        if None in items:
            start = 0
            try:
                while True:
                    start = items.index(None, start)
                    odd.append(start)
                    start += 1
            except ValueError:
                pass
        for n in [n for n, v in enumerate(items) if v.__class__ is str] if strings else ():
            self.strings[offset + n] = items[n]
            odd.append(n)
        if odd:
            odd.sort()
            for n in odd:
                items[n] = _NAN
            self.nulls.extend(offset + n for n in odd)
        try:
            self.numbers.fromlist(items)
        except TypeError:
            bad = next(v for v in items if not isinstance(v, int | float) or v is True
                       or v is False)
            raise JsonStatError(f"value holds {bad!r}, which is neither a number, a string "
                                "nor null") from None

    def hide_strings(self) -> dict[int, str]:
        """The string cells by position, from now on read as null."""
        strings, self.strings = self.strings, {}
        return strings

    def __iter__(self) -> Iterator:
        return chain.from_iterable(map(self._slice, range(0, len(self.numbers), _SLICE)))

    def _slice(self, start: int) -> list:
        from bisect import bisect_left

        end = start + _SLICE
        out = self.numbers[start:end].tolist()
        nulls = self.nulls
        strings = self.strings
        for k in range(bisect_left(nulls, start), bisect_left(nulls, end)):
            n = nulls[k]
            out[n - start] = strings.get(n)
        return out


def read_document(source, *, name: str = "<answer>") -> dict:
    """A JSON-stat document from a binary stream, its top-level `value` array (when it is one)
    as :class:`Values`; everything else as `json.load` would give it."""
    from atlas_crawl.formats.jsonstream import JsonStreamError, _Reader, open_text

    reader = _Reader(open_text(source), 1 << 20, name)
    doc: dict = {}
    try:
        reader.expect("{", "a JSON object")
        if reader.skip_ws() == "}":
            return doc
        while True:
            _, key = reader.value()
            reader.expect(":", "':' after an object key")
            if key == "value" and reader.skip_ws() == "[":
                doc[key] = _stream_values(reader)
            else:
                doc[key] = reader.value()[1]
            if reader.expect(",}", "',' or '}' in an object") == "}":
                break
        rest = reader.skip_ws()
        if rest:
            raise JsonStreamError(f"{name}: unexpected {rest!r} after the document at "
                                  f"character {reader.offset}")
    except JsonStreamError as exc:
        raise JsonStatError(f"not JSON: {exc}") from None
    return doc


def _stream_values(reader) -> Values:
    """The array at the reader's position, slice by slice: each slice of whole elements (cut at
    a comma) decoded by one json.loads. A cut inside a string cannot decode (an unterminated
    string); then the rest is read element by element."""
    values = Values()
    reader.expect("[", "'['")
    if reader.skip_ws() == "]":
        reader.pos += 1
        return values
    while True:
        start = reader.pos
        end = reader.buf.find("]", start)
        cut = end if end >= 0 else reader.buf.rfind(",", start)
        if cut < 0:
            if not reader.fill():
                reader.value()  # raises: the stream ends inside the array
            continue
        try:
            items = json.loads(f"[{reader.buf[start:cut]}]")
        except ValueError:
            _element_by_element(reader, values)
            return values
        values.extend(items, '"' in reader.buf[start:cut])
        reader.pos = cut + 1
        if end >= 0:
            return values
        if not reader.buf[reader.pos:].strip() and not reader.fill():
            reader.value()  # raises: truncated


def _element_by_element(reader, values: Values) -> None:
    items: list = []
    while True:
        items.append(reader.value()[1])
        if len(items) >= _SLICE:
            values.extend(items)
            items = []
        if reader.expect(",]", "',' or ']' after an array element") == "]":
            break
    values.extend(items)


def load(data: bytes, *, name: str = "<answer>") -> dict:
    """The document of an answer: json.loads, or `read_document` from STREAM_FROM_BYTES on."""
    if len(data) >= STREAM_FROM_BYTES:
        import io

        return read_document(io.BytesIO(data), name=name)
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise JsonStatError(f"not JSON: {exc}") from None
    except UnicodeDecodeError:
        raise JsonStatError("not JSON: not UTF-8 text (a binary file?)") from None
