"""JSON-stat 1.0 (SSB's v0 API) and closed SSB tables (PxWebApi v2 `discontinued`).

Real: golden/ssb_v0_jsonstat1/responses/v0_dataset_29843_lang-en_jsonstat1.json (SSB v0 dataset
29843, see that folder's README) and golden/ssb_table/responses/v2_metadata_05803_lang-en.json
(from realdata/ssb_pxwebapi_v2). CONSTRUCTED, and said so where they are made: the bundle of
two datasets, and the 05803 metadata and cassette marked discontinued (SSB has not closed 05803).
"""

from __future__ import annotations

import json
import shutil

import pytest
import pytest_twisted
from conftest import crawl_file, query

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import jsonstat, pxweb
from atlas_crawl.publish import publish
from atlas_crawl.run.golden import crawl, crawl_settings, runs

GOLDEN = PROJECT_DIR / "golden"
V1_REAL = GOLDEN / "ssb_v0_jsonstat1" / "responses" / "v0_dataset_29843_lang-en_jsonstat1.json"
V1_HALDEN = (GOLDEN / "ssb_v0_jsonstat1" / "responses"
             / "v0_table_11342_jsonstat1_halden_constructed.json")
METADATA = GOLDEN / "ssb_table" / "responses" / "v2_metadata_05803_lang-en.json"



def test_real_v1_dataset_reads_like_v2():
    ds = jsonstat.decode(V1_REAL.read_bytes())
    assert ds.label.startswith("Index of production (2005=100)")
    assert [d.id for d in ds.dimensions] == ["PKoder", "ContentsCode", "Tid"]
    assert ds.size == 37440 and ds.updated == "2016-02-13T14:00:25Z"
    rows = {(r[0], r[2], r[6]): r for r in ds.rows()}
    # P1021 seasonally adjusted is not published for 1990M01: "." with no value
    assert rows[("P1021", "Sesongjustert", "1990M01")][-3:-1] == (None, ".")
    assert rows[("P120", "Vekter", "2015M12")][4:] == (
        "per 1 000", None, "2015M12", "2015M12", 5.8, None, "2016-02-13T14:00:25Z")
    assert sum(1 for r in ds.rows() if r[-2] == ".") == 7200


def _bundle() -> dict:
    """CONSTRUCTED: two 1.0 datasets under their names, as the JSON-stat 1.0 spec allows."""
    one = json.loads(V1_HALDEN.read_text(encoding="utf-8"))["dataset"]
    two = json.loads(json.dumps(one))
    two["label"] = "second"
    two["value"] = [v if v is None else v + 1 for v in one["value"]]
    return {"dataset1": one, "dataset2": two}


def test_a_bundle_is_read_by_name_or_refused_naming_its_datasets():
    with pytest.raises(jsonstat.JsonStatError, match=r"a JSON-stat 1.0 bundle of 2 datasets "
                       r"\(dataset1, dataset2\); name the one to read \(-a dataset=NAME\)"):
        jsonstat.decode(_bundle())
    assert jsonstat.decode(_bundle(), name="dataset2").label == "second"
    with pytest.raises(jsonstat.JsonStatError, match="no dataset 'dataset3'"):
        jsonstat.decode(_bundle(), name="dataset3")
    with pytest.raises(jsonstat.JsonStatError, match="not a bundle of named datasets"):
        jsonstat.decode((GOLDEN / "ssb_table" / "responses"
                         / "v2_data_05803_lang-no_with-status.json").read_bytes(), name="x")


@pytest_twisted.ensureDeferred
async def test_v1_file_colon_cells_and_period_labels_on_their_codes(tmp_path):
    db = tmp_path / "atlas.db"
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(_bundle()), encoding="utf-8")
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="")
    await crawl("ssb_table", settings, table="11342", file=str(bundle))
    last = runs(db)[-1]
    assert last["status"] == "failed" and "-a dataset=NAME" in last["error"]
    await crawl("ssb_table", settings, table="11342", file=str(bundle), dataset="dataset1")
    assert runs(db)[-1]["status"] == "ok"
    # the label lives in the table's region dimension, once per code
    assert query(db, "SELECT t.region, d.label, t.tid, t.value, t.status, t.region_canonical, "
                  "t.region_current FROM ssb_11342 AS t JOIN ssb_11342__region AS d "
                  "ON d.code = t.region WHERE t.region='3001' ORDER BY t.tid") == [
        ("3001", "Halden (2020-2023)", "2019", None, ".", "3001", "3101"),
        ("3001", "Halden (2020-2023)", "2022", 31329.0, None, "3001", "3101"),
        ("3001", "Halden (2020-2023)", "2024", None, ":", "3001", "3101"),
    ]


@pytest_twisted.ensureDeferred
async def test_real_v1_dataset_ingests_with_a_table_number(tmp_path):
    db = tmp_path / "atlas.db"
    await crawl("ssb_table", crawl_settings(db, replay=False, ATLAS_RAW_DIR=""),
                table="29843", file=str(V1_REAL))
    last = runs(db)[-1]
    assert (last["status"], last["rows_received"]) == ("ok", 37440)
    assert query(db, "SELECT value FROM ssb_29843 WHERE pkoder='P120' AND contentscode='Vekter' "
                  "AND tid='2015M12'") == [(5.8,)]


# -- closed tables ----------------------------------------------------------------------------


def _discontinued(doc: dict) -> dict:
    """CONSTRUCTED from the real 05803 metadata: marked discontinued, with a closing note."""
    doc = json.loads(json.dumps(doc))
    doc["extension"]["discontinued"] = True
    doc["note"] = [*doc.get("note", []),
                   "Tabellen er avsluttet. Nyere tall finnes i tabell 12345."]
    return doc


def test_table_status_from_metadata():
    real = json.loads(METADATA.read_text(encoding="utf-8"))
    assert pxweb.is_table_metadata(real)
    assert pxweb.table_status(real, "05803") == pxweb.TableStatus(False)
    closed = pxweb.table_status(_discontinued(real), "05803")
    assert (closed.discontinued, closed.replaced_by) == (True, "12345")
    # a note naming the table itself is no replacement, nor is a note not about closing
    assert pxweb.table_status({"extension": {"discontinued": True},
                               "note": ["Se tabell 05803 og tabell 07459 for fylker."]},
                              "05803") == pxweb.TableStatus(True)


@pytest_twisted.ensureDeferred
async def test_metadata_given_as_a_file_is_refused_in_one_line(tmp_path):
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="")
    await crawl("ssb_table", settings, table="05803", file=str(METADATA))
    assert runs(db)[-1]["error"] == (
        "v2_metadata_05803_lang-en.json: PxWebApi table metadata of table 05803 "
        "(not discontinued), not data: it holds no figures")
    closed = tmp_path / "metadata_closed.json"
    closed.write_text(json.dumps(_discontinued(json.loads(METADATA.read_text("utf-8")))),
                      encoding="utf-8")
    await crawl("ssb_table", settings, file=str(closed))
    assert runs(db)[-1]["error"] == (
        "metadata_closed.json: PxWebApi table metadata of table 05803 (discontinued, "
        "replaced by table 12345), not data: it holds no figures")


@pytest_twisted.ensureDeferred
async def test_live_crawl_of_a_closed_table_warns_stores_and_the_catalogue_says_so(
        tmp_path, caplog):
    cassette = tmp_path / "ssb_table"
    shutil.copytree(GOLDEN / "ssb_table", cassette)
    meta = cassette / "responses" / METADATA.name
    meta.write_text(json.dumps(_discontinued(json.loads(meta.read_text("utf-8")))),
                    encoding="utf-8")
    args = json.loads((cassette / "golden.json").read_text("utf-8"))["args"]
    db = tmp_path / "atlas.db"
    await crawl("ssb_table", crawl_settings(db, cassette=cassette, ATLAS_RAW_DIR=""), **args)
    last = runs(db)[-1]
    assert last["status"] == "ok", last["error"]
    assert "table 05803 is discontinued by SSB (replaced by table 12345); storing what it " \
           "holds" in caplog.text
    assert query(db, "SELECT count(*) FROM ssb_05803")[0][0] > 0
    assert query(db, "SELECT source_id, discontinued, replaced_by FROM source_status") == [
        ("ssb_05803", 1, "12345")]
    publish(db, tmp_path / "metadata.yml")
    assert query(db, "SELECT discontinued, replaced_by FROM sources WHERE source_id='ssb_05803'"
              ) == [(1, "12345")]
    assert query(db, "SELECT discontinued FROM sources WHERE source_id='ssb_07459'") == [(None,)]


@pytest_twisted.ensureDeferred
async def test_a_table_catalogue_page_is_refused_in_one_line(tmp_path):
    # CONSTRUCTED in the shape of realdata's v2_tables_catalogue_lang-no_page1.json, shortened
    page = tmp_path / "tables_page1.json"
    page.write_text(json.dumps({"language": "no", "tables": [{"id": "14710", "label": "KPI"}],
                                "page": {"pageNumber": 1, "pageSize": 1}}), encoding="utf-8")
    db = tmp_path / "atlas.db"
    await crawl_file(db, "ssb_table", page)
    assert runs(db)[-1]["error"] == ("tables_page1.json: a PxWebApi v2 table catalogue page "
                                     "(/tables), not data: it lists tables, it holds no figures")


@pytest_twisted.ensureDeferred
async def test_a_saved_data_answer_of_a_closed_table_is_stored_and_recorded(tmp_path, caplog):
    real = GOLDEN / "ssb_table" / "responses" / "v2_data_05803_lang-no_with-status.json"
    closed = tmp_path / "05803_closed.json"
    closed.write_text(json.dumps(_discontinued(json.loads(real.read_text("utf-8")))),
                      encoding="utf-8")  # CONSTRUCTED: SSB has not closed 05803
    db = tmp_path / "atlas.db"
    await crawl_file(db, "ssb_table", closed)
    assert runs(db)[-1]["status"] == "ok"
    assert "table 05803 is discontinued by SSB (replaced by table 12345)" in caplog.text
    assert query(db, "SELECT count(*) FROM ssb_05803") == [(12,)]
    assert query(db, "SELECT discontinued, replaced_by FROM source_status") == [(1, "12345")]
