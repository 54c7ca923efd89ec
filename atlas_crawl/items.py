"""What atlas_crawl spiders yield: a Batch of rows for one table, with provenance, and a RawFile
for each downloaded file kept as provenance (atlas_crawl/pipelines/raw_files.py).

A table of millions of cells travels as a few hundred batches, never one item per cell: Scrapy
costs about 80 µs per item whatever it carries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice

BATCH_ROWS = 50_000


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def sha256_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class Provenance:
    """Where a batch's rows came from: the exact bytes, by URL and hash, and when."""

    url: str
    sha256: str
    fetched_at: str

    @classmethod
    def of(cls, url: str, body: bytes, fetched_at: str | None = None) -> Provenance:
        return cls(url=url, sha256=sha256_of(body), fetched_at=fetched_at or utc_now())


@dataclass
class Quarantined:
    """A row the pipelines would not store, and why."""

    column: str
    raw_value: str | None
    reason: str
    row: dict


@dataclass(frozen=True)
class Forward:
    """A value that may only move forward (an election count): a delivered row replaces the
    stored row of its key only when it is at least as final (`status`, ranked by `ranks` from
    least to most final) and, as final, at least as late (`when`, ISO text). An older or less
    final row changes nothing; the store logs it and keeps its fetch."""

    status: str
    ranks: tuple[str, ...]
    when: str | None = None


@dataclass
class Batch:
    """Many rows for one target table.

    `columns` names the values in every row tuple; `key` is the natural primary key (a subset of
    `columns`); `types` maps columns to int/float/str (str, i.e. TEXT, when absent: codes such as
    "0301" must stay text). `complete_for`, when given as (column, values), says the batch holds
    every row the table should have for those values of that key column (an organisation's full
    list of categories): stored rows with those values that the batch lacks are removed.
    `references` maps a column to the dimension table whose `code` it names (labels, units and
    other per-code facts are stored there once, not on every row). `forward`, when given, says
    a stored row is replaced only by one at least as final and as late (see Forward).
    """

    source_id: str
    columns: list[str]
    rows: list[tuple]
    key: list[str]
    provenance: Provenance
    table: str = ""
    types: dict[str, type] = field(default_factory=dict)
    quarantine: list[Quarantined] = field(default_factory=list)
    complete_for: tuple[str, tuple] | None = None
    references: dict[str, str] = field(default_factory=dict)
    forward: Forward | None = None

    def __post_init__(self) -> None:
        if not self.table:
            self.table = self.source_id
        if self.complete_for is not None and self.complete_for[0] not in self.key:
            raise ValueError(f"{self.table}: complete_for column {self.complete_for[0]!r} is not "
                             f"a key column ({self.key})")
        missing = [k for k in self.key if k not in self.columns]
        if missing:
            raise ValueError(f"{self.table}: key columns {missing} are not among {self.columns}")
        if self.forward is not None:
            order = [c for c in (self.forward.status, self.forward.when) if c]
            if not set(order) <= set(self.columns) or set(order) & set(self.key):
                raise ValueError(f"{self.table}: forward columns {order} must be non-key "
                                 f"columns among {self.columns}")

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def chunked(
        cls,
        rows: Iterable[tuple],
        *,
        size: int = BATCH_ROWS,
        **fields,
    ) -> Iterator[Batch]:
        """Cut a long row stream into batches of `size` rows sharing the same fields."""
        iterator = iter(rows)
        while chunk := list(islice(iterator, size)):
            yield cls(rows=chunk, **fields)


@dataclass
class RawFile:
    """One downloaded file, as the spider received it."""

    source_id: str
    url: str
    body: bytes
    sha256: str
    fetched_at: str
    last_modified: str | None = None
    etag: str | None = None
    content_type: str | None = None

    size: int = -1

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.body)

    @classmethod
    def from_response(cls, response, source_id: str, fetched_at: str | None = None) -> RawFile:
        def header(name: str) -> str | None:
            value = response.headers.get(name)
            return value.decode("latin-1") if value is not None else None

        return cls(source_id=source_id, url=response.url, body=response.body,
                   sha256=sha256_of(response.body), fetched_at=fetched_at or utc_now(),
                   last_modified=header("Last-Modified"), etag=header("ETag"),
                   content_type=header("Content-Type"))


def column_index(columns: Sequence[str], name: str) -> int:
    try:
        return list(columns).index(name)
    except ValueError:
        raise KeyError(f"column {name!r} not among {list(columns)}") from None


# -- dimension tables ---------------------------------------------------------------------------
# Labels, units and other per-code facts are stored once per code: a fact table holds codes, the
# value, its status and two small integers (`_run`, `_fetch`); each coded column that has labels
# references a dimension table named `<table>__<column>` whose primary key is `code` (Datasette
# links the two by foreign key and shows the label). The same code in two tables may mean
# different things (SSB's ContentsCode), so dimension tables belong to one table.

DIMENSION_SEPARATOR = "__"
DIMENSION_KEY = "code"
DIMENSION_LABEL = "label"


def dimension_table(table: str, column: str) -> str:
    return f"{table}{DIMENSION_SEPARATOR}{column}"


def is_dimension_table(name: str) -> bool:
    return DIMENSION_SEPARATOR in name.strip("_")


def fact_table_of(name: str) -> str | None:
    """`ssb_07459__region` -> `ssb_07459`; None for a table that is not a dimension table."""
    if not is_dimension_table(name):
        return None
    return name.rsplit(DIMENSION_SEPARATOR, 1)[0]
