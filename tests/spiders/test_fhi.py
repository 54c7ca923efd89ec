"""FHI Statistikkbank: query planning (bottom = newest), the JSON-stat dialect, and the spiders
made from manifests."""

from __future__ import annotations

import json

import pytest

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import fhi
from atlas_crawl.manifests import all_manifests
from atlas_crawl.spiders import fhi as fhi_spiders

GOLDEN = PROJECT_DIR / "golden"
SELVMORD = GOLDEN / "fhi_selvmord_file" / "responses" / "selvmord_344_constructed_bom.json"
EXAMPLE = (GOLDEN / "fhi_befolkningsvekst" / "responses"
           / "data_185_1_documentation_example.json")
DIMS = {"GEO": ["0", "03", "0301"], "AAR": [f"{y}_{y}" for y in range(2015, 2026)],
        "KJONN": ["0", "1", "2"], "MEASURE_TYPE": ["TELLER", "RATE"]}


def test_the_whole_table_is_asked_for_with_all():
    [body] = fhi.data_bodies(DIMS)
    assert body["dimensions"][0] == {"code": "GEO", "filter": "all", "values": ["*"]}
    assert {d["filter"] for d in body["dimensions"]} == {"all"}
    assert body["response"] == {"format": "json-stat2"}  # no maxRowCount: no row limit


def test_newest_years_use_fhi_bottom_not_top():
    [body] = fhi.data_bodies(DIMS, newest=2)
    aar = next(d for d in body["dimensions"] if d["code"] == "AAR")
    assert aar == {"code": "AAR", "filter": "bottom", "values": ["2"]}


def test_a_large_table_is_asked_for_a_few_years_at_a_time():
    bodies = fhi.data_bodies(DIMS, max_cells=18 * 4)  # 18 cells a year: 4 years per call
    years = [next(d for d in b["dimensions"] if d["code"] == "AAR") for b in bodies]
    assert [y["filter"] for y in years] == ["item"] * 3
    assert years[0]["values"] == ["2015_2015", "2016_2016", "2017_2017", "2018_2018"]
    assert years[-1]["values"] == ["2023_2023", "2024_2024", "2025_2025"]
    newest = fhi.data_bodies(DIMS, newest=5, max_cells=18 * 4)
    assert [v for b in newest for d in b["dimensions"] if d["code"] == "AAR"
            for v in d["values"]] == [f"{y}_{y}" for y in range(2021, 2026)]


def test_query_answer_lists_every_category():
    query = {"dimensions": [{"code": "GEO", "filter": "item", "values": ["03", "30"]}],
             "response": {"format": "json-stat2", "maxRowCount": 50000}}
    raw = b"\xef\xbb\xbf" + json.dumps(query).encode()
    assert fhi.query_dimensions(raw) == {"GEO": ["03", "30"]}
    with pytest.raises(fhi.FhiError, match=r"q\.json: field 'dimensions'"):
        fhi.query_dimensions(b"{}", where="q.json")


def test_documentation_example_decodes_to_its_values():
    columns, rows, key = fhi.decode(EXAMPLE.read_bytes())
    rows = [dict(zip(columns, r)) for r in rows]
    assert [(r["geo"], r["periode"], r["value"]) for r in rows] == [
        ("03", "2020", 3516), ("03", "2021", 2817), ("30", "2020", 11219), ("30", "2021", 16846)]
    assert rows[0]["status"] is None and rows[0]["unit"] == "antall"
    assert key == ["geo", "aar", "kjonn", "alder", "measure_type"]


def test_bom_and_hidden_values_become_status():
    data = SELVMORD.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    columns, rows, _ = fhi.decode(data)
    cells = {(r[columns.index("geo")], r[columns.index("aar")], r[columns.index("measure_type")]):
             (r[columns.index("value")], r[columns.index("status")]) for r in rows}
    assert cells[("030101", "2018_2022", "TELLER")] == (None, "k")
    assert cells[("9999", "2019_2023", "RATE")] == (None, "..")
    assert cells[("03", "2019_2023", "RATE")] == (11.6, None)


def test_period_codes():
    assert fhi.period_of("2020_2020") == "2020"
    assert fhi.period_of("2018_2022") == "2018-2022"
    assert fhi.period_of("2024") == "2024"


def test_a_named_spider_per_manifest():
    named = sorted(k for k, m in all_manifests().items() if "fhi" in m.extra)
    assert len(named) == 21
    spider = fhi_spiders.Fhi338Spider
    assert (spider.name, spider.fhi_source, spider.table_id) == ("fhi_befolkning", "nokkel", "338")
    tables = {all_manifests()[n].extra["fhi"]["table"] for n in named}
    assert {"332", "363", "601", "602", "667"} <= tables  # alcohol, cannabis, media use
    assert all_manifests()["fhi_selvmord"].presentation_policy == "sensitive"
    with pytest.raises(ValueError, match="fhi_table needs -a source"):
        fhi_spiders.FhiTableSpider()
