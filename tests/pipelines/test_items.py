"""Batch items: many rows for one table with provenance, cut lazily into chunks."""

import hashlib
import re

import pytest

from atlas_crawl.items import Batch, Provenance, column_index, sha256_of, utc_now

PROV = Provenance("https://data.ssb.no/x", "ab" * 32, "2026-01-01T00:00:00Z")


def test_provenance_hashes_the_exact_bytes():
    body = "Snåsa;0301\n".encode()
    prov = Provenance.of("file:///tmp/x.json", body, fetched_at="2026-03-01T07:00:00Z")
    assert prov.sha256 == hashlib.sha256(body).hexdigest() == sha256_of(body)
    assert prov.url == "file:///tmp/x.json" and prov.fetched_at == "2026-03-01T07:00:00Z"
    assert Provenance.of("u", body + b" ").sha256 != prov.sha256


def test_utc_now_is_second_precision_zulu():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", utc_now())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", Provenance.of("u", b"").fetched_at)


def test_batch_table_defaults_to_the_source():
    b = Batch("ssb_07459", ["region", "value"], [("0301", 1.0)], ["region"], PROV)
    assert b.table == "ssb_07459" and len(b) == 1 and b.quarantine == [] and b.types == {}
    assert Batch("ssb_klass", ["code"], [], ["code"], PROV, table="dim_fylke").table == "dim_fylke"


def test_key_must_be_among_the_columns():
    with pytest.raises(ValueError, match=r"dim_x: key columns \['kommune'\] are not among"):
        Batch("src", ["region", "value"], [], ["kommune"], PROV, table="dim_x")


def test_chunked_cuts_rows_and_shares_fields():
    rows = [(f"{n:04d}", float(n)) for n in range(5)]
    batches = list(Batch.chunked(rows, size=2, source_id="s", columns=["k", "v"], key=["k"],
                                 provenance=PROV, types={"v": float}))
    assert [b.rows for b in batches] == [rows[0:2], rows[2:4], rows[4:5]]
    assert all(b.provenance is PROV and b.types == {"v": float} and b.table == "s"
               for b in batches)
    assert list(Batch.chunked([], source_id="s", columns=["k"], key=["k"], provenance=PROV)) == []


def test_chunked_is_lazy():
    """A 3-million-cell table must not be materialised before the first batch is stored."""
    taken = []

    def rows():
        for n in range(10):
            taken.append(n)
            yield (str(n),)

    chunks = Batch.chunked(rows(), size=3, source_id="s", columns=["k"], key=["k"],
                           provenance=PROV)
    first = next(chunks)
    assert first.rows == [("0",), ("1",), ("2",)]
    assert taken == [0, 1, 2]


def test_column_index_names_the_missing_column():
    assert column_index(["a", "b"], "b") == 1
    with pytest.raises(KeyError, match=r"column 'c' not among \['a', 'b'\]"):
        column_index(("a", "b"), "c")
