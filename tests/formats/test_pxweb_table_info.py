"""A PxWebApi v2 `/tables/{id}` answer is a table's description, not a dataset; a JSON-stat 1.0
file with another key beside `dataset` is read as 1.0, and messages name the format right."""

from __future__ import annotations

import json

import pytest

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import jsonstat, pxweb

TABLE_INFO = (PROJECT_DIR / "tests" / "data" / "ssb_pxwebapi_v2"
              / "v2_table_13138_discontinued_constructed.json")
CATALOGUE_ENTRY_REAL = ('{"id":"14710","label":"14710: Konsumprisindeks","updated":"2026-09-10T'
                        '06:00:00Z","firstPeriod":"1920M03","lastPeriod":"2026M08","category":'
                        '"public","variableNames":["statistikkvariabel","måned"],"links":[]}')
V1 = PROJECT_DIR / "golden" / "ssb_v0_jsonstat1" / "responses" / "v0_dataset_29843_lang-en_jsonstat1.json"


def test_table_info_is_told_apart_and_says_discontinued():
    doc = json.loads(TABLE_INFO.read_bytes())
    assert pxweb.is_table_info(doc) and not pxweb.is_table_metadata(doc)
    assert pxweb.table_status(doc, "13138") == pxweb.TableStatus(True)
    assert pxweb.is_table_info(json.loads(CATALOGUE_ENTRY_REAL))
    assert not pxweb.is_table_info(json.loads(V1.read_bytes()))
    assert not pxweb.is_table_info({"tables": [], "page": {}})


def test_a_v1_file_with_another_key_beside_dataset_is_read():
    doc = json.loads(V1.read_bytes())
    plain = jsonstat.decode(doc)
    extra = jsonstat.decode({**doc, "note": "Statistisk sentralbyrå, JSON-stat 1.0"})
    assert extra.values == plain.values and extra.label == plain.label
    assert [d.id for d in extra.dimensions] == [d.id for d in plain.dimensions]
    assert len(plain.values) > 0


def test_messages_name_the_format():
    with pytest.raises(jsonstat.JsonStatError, match=r"^not a JSON-stat dataset: neither 2.0 "):
        jsonstat.decode(json.loads(TABLE_INFO.read_bytes()))
    broken_v1 = {"dataset": {"dimension": {"Tid": {"category": {"index": {"2020": 0}}}},
                             "value": [1]}}
    with pytest.raises(jsonstat.JsonStatError,
                       match=r"^not a JSON-stat 1.0 dataset: 'dimension' must hold 'id'"):
        jsonstat.decode(broken_v1)
    with pytest.raises(jsonstat.JsonStatError, match=r"^not a JSON-stat 2.0 dataset"):
        jsonstat.decode({"class": "dataset", "dimension": {}, "value": []})
