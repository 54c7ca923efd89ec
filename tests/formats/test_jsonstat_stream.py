"""Large JSON-stat answers read as a stream: the same cells as json.loads gives, the values in a
compact array, nulls and strings kept by position."""

from __future__ import annotations

import io
import json
import random

import pytest

from atlas_crawl.formats import fhi, jsonstat


def table(cells_per_region: int = 3000, regions: int = 70, *, strings: bool = False) -> dict:
    rnd = random.Random(5)
    size = regions * cells_per_region
    values: list = [rnd.choice([rnd.randrange(10_000), rnd.random() * 100]) for _ in range(size)]
    status = {}
    for n in rnd.sample(range(size), size // 50):
        values[n] = rnd.choice(["k", ":", "a,b]"]) if strings else None
        if not strings:
            status[str(n)] = ".."
    codes = [f"{n:04d}" for n in range(regions)]
    ticks = [str(n) for n in range(cells_per_region)]
    return {
        "version": "2.0", "class": "dataset", "id": ["Region", "Tid"],
        "size": [regions, cells_per_region], "updated": "2026-03-01T07:00:00Z",
        "dimension": {"Region": {"category": {"index": codes}},
                      "Tid": {"category": {"index": ticks}}},
        "value": values, "status": status,
    }


@pytest.mark.parametrize("indent", [None, 1])
def test_streamed_cells_equal_loaded_cells(indent):
    doc = table()
    text = json.dumps(doc, indent=indent)
    streamed = jsonstat.decode(jsonstat.read_document(io.BytesIO(text.encode())))
    assert isinstance(streamed.values, jsonstat.Values)
    assert len(streamed.values) == 210_000
    loaded = jsonstat.decode(json.loads(text))
    # doubles in the array: 7 and 7.0 are the same REAL in a value column
    assert list(streamed.fact_rows()) == list(loaded.fact_rows())
    nulls = [r for r in streamed.fact_rows() if r[2] is None]
    assert len(nulls) == 4200 and {r[3] for r in nulls} == {".."}


def test_strings_in_values_even_with_commas_and_brackets():
    doc = table(strings=True)
    streamed = jsonstat.read_document(io.BytesIO(json.dumps(doc).encode()))["value"]
    assert list(streamed) == doc["value"]
    assert sorted(set(streamed.strings.values())) == [":", "a,b]", "k"]


def test_fhi_hidden_values_of_a_streamed_answer_become_status(monkeypatch):
    monkeypatch.setattr(jsonstat, "STREAM_FROM_BYTES", 1000)
    doc = table(strings=True)
    ds = fhi.dataset(b"\xef\xbb\xbf" + json.dumps({**doc, "status": ""}).encode())
    assert isinstance(ds.values, jsonstat.Values)
    rows = list(ds.fact_rows())
    hidden = [n for n, v in enumerate(doc["value"]) if isinstance(v, str)]
    assert len(hidden) == 4200
    assert all(rows[n][2] is None and rows[n][3] == doc["value"][n].strip() for n in hidden)
    assert rows[0][2] == doc["value"][0] and rows[0][3] is None


def test_a_truncated_value_list_is_refused():
    text = json.dumps(table())
    with pytest.raises(jsonstat.JsonStatError, match="not JSON"):
        jsonstat.read_document(io.BytesIO(text[: len(text) // 2].encode()))


def test_large_answers_take_the_stream(monkeypatch):
    monkeypatch.setattr(jsonstat, "STREAM_FROM_BYTES", 1000)
    doc = jsonstat.load(json.dumps(table(10, 10)).encode())
    assert isinstance(doc["value"], jsonstat.Values)
    assert isinstance(jsonstat.load(b'{"value": [1, 2]}')["value"], list)
