"""`-a file=` for the Udir statistics spiders: a saved data answer with the selection it answers.

The answers are the real captures in golden/udir_*/responses/ (from realdata/udir, see those
folders' READMEs). The Utlandet answer below is CONSTRUCTED from the real GSI answer's shape
(Udir's Utlandet tree as the real filterVerdier captures list it: fylke 25, kommune 2599,
row ids starting with 2.), since no Utlandet data answer was captured.
"""

from __future__ import annotations

import json

import pytest
import pytest_twisted
from conftest import crawl_file, query

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import udir

GOLDEN = PROJECT_DIR / "golden"
GSI = GOLDEN / "udir_gsi" / "responses" / "udir-gsi_data_202410.json"
FRAVAR = GOLDEN / "udir_fravar" / "responses" / "udir-fravar_data.202506.anchor12.json"
NP5 = (GOLDEN / "udir_nasjonale_prover" / "responses"
       / "udir-nasjonale-prover_data.trinn5.NPLES.anchor12.json")
EUG = GOLDEN / "udir_elevundersokelsen" / "responses"
ARENDAL = EUG / "udir_api_elevundersokelsen_mobbing_data_arendal_trinn10.json"
BYKLE = EUG / "udir_api_elevundersokelsen_mobbing_data_bykle_trinn10.json"



_ingest = crawl_file


@pytest_twisted.ensureDeferred
async def test_every_real_data_answer_ingests_with_its_selection(tmp_path):
    db = tmp_path / "atlas.db"
    assert (await _ingest(db, "udir_gsi", GSI, years="2024-25"))["status"] == "ok"
    assert (await _ingest(db, "udir_fravar", FRAVAR, years="202506"))["status"] == "ok"
    assert (await _ingest(db, "udir_nasjonale_prover", NP5, years="20252026", grades="5",
                          subjects="NPLES"))["status"] == "ok"
    for file, code in ((ARENDAL, "4203"), (BYKLE, "4222")):
        last = await _ingest(db, "udir_elevundersokelsen", file, years="2025-26", grades="10",
                             regions=code)
        assert last["status"] == "ok", last["error"]
    assert query(db, "SELECT school_year, period_code, value FROM udir_gsi WHERE "
                  "region_code='4203' AND measure='Antall elever'") == [("2024-25", "202410",
                                                                         5423.0)]
    assert query(db, "SELECT value FROM udir_gsi WHERE region_code='4636' AND "
                  "measure LIKE '%spesialundervisning'") == [(0.0,)]  # Solund: a real 0
    # Troms is published with a trailing space; the name is stored trimmed
    assert query(db, "SELECT DISTINCT region_name FROM udir_gsi WHERE region_code='55'") == [
        ("Troms - Romsa - Tromssa",)]
    assert query(db, "SELECT school_year, value FROM udir_fravar WHERE region_code='42' AND "
                  "measure='Snitt dager'") == [("2024-25", 13.3)]
    assert query(db, "SELECT value, status FROM udir_nasjonale_prover WHERE region_code='4220' "
                  "AND measure='Skalapoeng'") == [(None, "*")]  # Bygland suppressed
    assert query(db, "SELECT grade, subject, value FROM udir_nasjonale_prover WHERE "
                  "region_code='4203' AND measure='Usikkerhet'") == [(5, "NPLES", 0.8)]
    assert query(db, "SELECT region_code, region_name, value, status FROM udir_elevundersokelsen "
                  "WHERE measure='EUIndeks_1398' ORDER BY 1") == [
        ("4203", "Arendal", 12.2, None), ("4222", "Bykle", None, "*")]
    assert query(db, "SELECT value FROM udir_elevundersokelsen WHERE region_code='4222' AND "
                  "measure='EUSpoersmaal_Q11824'") == [(0.0,)]


@pytest.mark.parametrize(("spider", "file", "args", "missing"), [
    ("udir_gsi", GSI, {}, "give -a years= (missing)"),
    ("udir_nasjonale_prover", NP5, {"years": "2025-26", "grades": "5"},
     "give -a subjects= (missing)"),
    ("udir_elevundersokelsen", ARENDAL, {"years": "2025-26"},
     "give -a grades= -a regions= (missing)"),
    ("udir_nasjonale_prover", NP5, {"years": "2025-26", "grades": "5,8", "subjects": "NPLES"},
     "one value each for a saved answer, got -a grades=5,8"),
])
@pytest_twisted.ensureDeferred
async def test_a_selection_left_out_is_named_and_nothing_changes(tmp_path, spider, file, args,
                                                                 missing):
    db = tmp_path / "atlas.db"
    assert (await _ingest(db, "udir_gsi", GSI, years="2024-25"))["status"] == "ok"
    before = query(db, "SELECT * FROM udir_gsi ORDER BY region_code, measure")
    last = await _ingest(db, spider, file, **args)
    assert last["status"] == "failed"
    assert missing in last["error"] and "\n" not in last["error"]
    assert query(db, "SELECT * FROM udir_gsi ORDER BY region_code, measure") == before


@pytest_twisted.ensureDeferred
async def test_an_answer_for_another_year_or_kommune_is_refused(tmp_path):
    db = tmp_path / "atlas.db"
    last = await _ingest(db, "udir_gsi", GSI, years="2025-26")
    assert last["error"] == ("udir-gsi_data_202410.json: the answer is for 2024-25, "
                             "-a years= says 2025-26")
    last = await _ingest(db, "udir_elevundersokelsen", BYKLE, years="2025-26", grades="10",
                         regions="4203")
    assert last["status"] == "failed"
    assert "-a regions=4203 (Arendal) is not among the answer's columns" in last["error"]


@pytest_twisted.ensureDeferred
async def test_a_file_of_the_wrong_kind_is_named(tmp_path):
    db = tmp_path / "atlas.db"
    workbook = GOLDEN / "udir_statistikkbank" / "responses" / \
        "udir_statistikkbank_grunnskolepoeng_export_20220621-1350.xlsx"
    last = await _ingest(db, "udir_gsi", workbook, years="2024-25")
    assert last["error"] == (
        "udir_statistikkbank_grunnskolepoeng_export_20220621-1350.xlsx: expected a saved Udir "
        "data or filterVerdier answer, found not JSON: not UTF-8 text (a binary file?)")
    rapportside = GOLDEN / "udir_gsi" / "responses" / "udir_api_rapportside_GSK_Elev_Skol.json"
    last = await _ingest(db, "udir_gsi", rapportside, years="2024-25")
    assert "a Udir Rapportside (the report's description, no figures)" in last["error"]


@pytest_twisted.ensureDeferred
async def test_a_saved_filterverdier_answer_stores_its_schools(tmp_path):
    db = tmp_path / "atlas.db"
    last = await _ingest(db, "udir_elevundersokelsen",
                         EUG / "udir-elevundersokelsen-mobbing_filterVerdier_EXCERPT.json")
    assert last["status"] == "ok"
    assert query(db, "SELECT name, kommune_code, fylke_code FROM dim_school WHERE "
                  "school_id='U90099013'") == [("The Norwegian School in London", "2599", "25")]


@pytest_twisted.ensureDeferred
async def test_an_empty_answer_stores_nothing_and_does_not_fail(tmp_path):
    db = tmp_path / "atlas.db"
    empty = tmp_path / "np_grade9_english.json"  # CONSTRUCTED: the real shape of "absent"
    empty.write_text('{"metadata":{"rowHierarchy":[],"columns":[]},"rows":[]}', encoding="utf-8")
    last = await _ingest(db, "udir_nasjonale_prover", empty, years="2025-26", grades="9",
                         subjects="NPENG")
    assert (last["status"], last["rows_received"]) == ("ok", 0)
    assert query(db, "SELECT name FROM sqlite_master WHERE name='udir_nasjonale_prover'") == []


def _utlandet_answer() -> bytes:
    """CONSTRUCTED: the real GSI answer's metadata with Udir's Utlandet rows (ids under 2.),
    an empty string where Udir gives no value, a real zero and a trailing space."""
    real = json.loads(GSI.read_text(encoding="utf-8"))
    real["rows"] = [
        {"navn": "Utlandet", "kode": "25", "id": "2.1", "data": ["73", "", "0", "9"]},
        {"navn": "Utlandet, uspesifisert ", "kode": "2599", "id": "2.1.1",
         "data": ["73", "", "0", "9"]},
    ]
    return json.dumps(real, ensure_ascii=False).encode("utf-8")


@pytest_twisted.ensureDeferred
async def test_utlandet_empty_strings_and_zeros(tmp_path):
    cells = udir.parse_data(_utlandet_answer())
    assert [(c.row_kode, c.level) for c in cells[::4]] == [("25", "Fylke"), ("2599", "Kommune")]
    path = tmp_path / "gsi_utlandet.json"
    path.write_bytes(_utlandet_answer())
    db = tmp_path / "atlas.db"
    last = await _ingest(db, "udir_gsi", path, years="2024-25")
    assert last["status"] == "ok" and last["rows_quarantined"] == 0, last
    rows = query(db, "SELECT region_code, region_name, level, measure, value, status, "
                  "region_code_geo_status FROM udir_gsi ORDER BY region_code, measure")
    assert ("2599", "Utlandet, uspesifisert", "kommune", "Antall elever", 73.0, None,
            "special") in rows
    # "" is no value: NULL, neither "*" nor 0; "0" is a real zero
    assert ("2599", "Utlandet, uspesifisert", "kommune",
            "Antall elever med individuelt tilrettelagt opplæring/spesialundervisning", None,
            None, "special") in rows
    assert ("25", "Utlandet", "fylke", "Antall elever med forsterket opplæring i norsk", 0.0,
            None, "special") in rows


@pytest.mark.parametrize(("args", "error"), [
    ({"grades": "8", "subjects": "NPLES"}, "the answer is for 5. årstrinn, -a grades= says 8"),
    ({"grades": "5", "subjects": "NPREG"}, "the answer is for Lesing, -a subjects= says NPREG"),
])
@pytest_twisted.ensureDeferred
async def test_a_nasjonale_prover_answer_for_another_grade_or_subject_is_refused(
        tmp_path, args, error):
    last = await _ingest(tmp_path / "atlas.db", "udir_nasjonale_prover", NP5, years="2025-26",
                         **args)
    assert last["error"] == f"{NP5.name}: {error}"
