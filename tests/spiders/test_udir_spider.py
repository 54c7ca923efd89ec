"""Udir spiders end to end on real captures (golden/udir_*/, copied from realdata/udir)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import pytest_twisted
from conftest import query

from atlas_crawl import PROJECT_DIR
from atlas_crawl.run.golden import crawl, crawl_settings, runs

GOLDEN = PROJECT_DIR / "golden"
EXPORT = (GOLDEN / "udir_statistikkbank" / "responses"
          / "udir_statistikkbank_grunnskolepoeng_export_20220621-1350.xlsx")

pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")



def _case(name: str) -> tuple[Path, dict]:
    spec = json.loads((GOLDEN / name / "golden.json").read_text(encoding="utf-8"))
    return GOLDEN / name, spec["args"]


@pytest_twisted.ensureDeferred
async def test_statistikkbank_export_real_values_and_schools(tmp_path):
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR=str(tmp_path / "raw"))
    await crawl("udir_statistikkbank", settings, file=str(EXPORT))
    assert runs(db)[-1]["status"] == "ok"
    assert query(db, "SELECT count(*) FROM udir_statistikkbank") == [(26296,)]
    # Trøgstad: exported as fylke 1, kommune 122; stored as 01 / 0122
    assert query(db, "SELECT unit_path, place_code, value FROM udir_statistikkbank WHERE "
                  "name='Trøgstad' AND level='kommune' AND school_year='2015-16' "
                  "AND measure='Grunnskolepoeng'") == [("01/0122", "0122", 39.5)]
    assert query(db, "SELECT value, status FROM udir_statistikkbank WHERE place_code='1856' "
                  "AND level='kommune' AND school_year='2017-18' AND measure='Grunnskolepoeng'"
              ) == [(None, "*")]  # Røst
    ((value, brudd),) = query(db, "SELECT value, brudd FROM udir_statistikkbank WHERE "
                               "unit_path='03/0301' AND school_year='2019-20' "
                               "AND measure='Grunnskolepoeng'")
    assert value == 44.9 and brudd.startswith("Skoleårene 2019-20 og 2020-21 ble alle eksamener")
    # Svalbard is listed under two fylker in the export; both rows are kept apart
    assert query(db, "SELECT unit_path FROM udir_statistikkbank WHERE kommune_code='2100' AND "
                  "level='kommune' AND school_year='2015-16' AND measure='Antall elever' "
                  "ORDER BY 1") == [("19/2100",), ("54/2100",)]
    assert query(db, "SELECT name, fylke_code FROM dim_school WHERE school_id='975280888' "
                  "AND kommune_code='4203'") == [("Asdal skole", "42")]
    ((sha, size),) = query(db, "SELECT sha256, size FROM raw_files")
    assert size == EXPORT.stat().st_size == 309997
    assert (tmp_path / "raw" / sha[:2] / f"{sha}.xlsx").read_bytes() == EXPORT.read_bytes()


@pytest_twisted.ensureDeferred
async def test_elevundersokelsen_one_call_per_kommune_and_grade(tmp_path):
    db = tmp_path / "atlas.db"
    folder, args = _case("udir_elevundersokelsen")
    crawler = await crawl("udir_elevundersokelsen",
                          crawl_settings(db, cassette=folder, ATLAS_RAW_DIR=""), **args)
    assert runs(db)[-1]["status"] == "ok"
    assert (crawler.spider.done, crawler.spider.planned) == (4, 4)  # 2 setup + 2 data calls
    rows = query(db, "SELECT region_code, grade, measure, value, status FROM "
                  "udir_elevundersokelsen ORDER BY region_code, measure")
    assert ("4203", 10, "EUIndeks_1398", 12.2, None) in rows  # Arendal
    assert ("4222", 10, "EUIndeks_1398", None, "*") in rows  # Bykle: suppressed ...
    assert ("4222", 10, "EUSpoersmaal_Q11824", 0.0, None) in rows  # ... but a real 0,0 here
    assert query(db, "SELECT DISTINCT school_year, period_code FROM udir_elevundersokelsen") == [
        ("2025-26", "202512")]
    # the filterVerdier tree's schools, trailing spaces trimmed ("Asdal skole " upstream)
    assert query(db, "SELECT name FROM dim_school WHERE kommune_code='4203' AND "
                  "name LIKE 'Asdal%'") == [("Asdal skole",)]
    assert query(db, "SELECT kommune_code, fylke_code FROM dim_school WHERE school_id='U90099013'"
              ) == [("2599", "25")]


@pytest_twisted.ensureDeferred
async def test_answer_for_the_wrong_kommune_is_drift_and_rolls_back(tmp_path):
    folder, args = _case("udir_elevundersokelsen")
    swapped = tmp_path / "swapped"
    shutil.copytree(folder, swapped)
    index = json.loads((swapped / "responses.json").read_text(encoding="utf-8"))
    files = [r["file"] for r in index["responses"]]
    arendal = next(i for i, f in enumerate(files) if "arendal" in f)
    bykle = next(i for i, f in enumerate(files) if "bykle" in f)
    index["responses"][arendal]["file"], index["responses"][bykle]["file"] = (
        files[bykle], files[arendal])
    (swapped / "responses.json").write_text(json.dumps(index), encoding="utf-8")
    db = tmp_path / "atlas.db"
    await crawl("udir_elevundersokelsen", crawl_settings(db, cassette=swapped, ATLAS_RAW_DIR=""),
                **args)
    last = runs(db)[-1]
    assert last["status"] == "failed"
    assert "answers for Arendal" in last["error"]


@pytest_twisted.ensureDeferred
async def test_empty_answer_is_absent_not_suppressed(tmp_path):
    folder, args = _case("udir_nasjonale_prover")
    empty = tmp_path / "empty"
    shutil.copytree(folder, empty)
    (empty / "responses" / "udir-nasjonale-prover_data.trinn5.NPLES.anchor12.json").write_text(
        '{"metadata":{"columns":[]},"rows":[]}', encoding="utf-8")
    db = tmp_path / "atlas.db"
    crawler = await crawl("udir_nasjonale_prover",
                          crawl_settings(db, cassette=empty, ATLAS_RAW_DIR=""), **args)
    assert runs(db)[-1]["status"] == "ok"
    assert crawler.spider.absent == 1
    assert query(db, "SELECT name FROM sqlite_master WHERE name='udir_nasjonale_prover'") == []
    assert query(db, "SELECT count(*) FROM dim_school")[0][0] > 0


@pytest_twisted.ensureDeferred
async def test_real_values_in_gsi_fravar_and_nasjonale_prover(tmp_path):
    db = tmp_path / "atlas.db"
    for name in ("udir_gsi", "udir_fravar", "udir_nasjonale_prover"):
        folder, args = _case(name)
        await crawl(name, crawl_settings(db, cassette=folder, ATLAS_RAW_DIR=""), **args)
        assert runs(db)[-1]["status"] == "ok", name
    assert query(db, "SELECT value FROM udir_gsi WHERE region_code='4203' AND school_year="
                  "'2024-25' AND measure='Antall elever'") == [(5423.0,)]
    assert query(db, "SELECT value, status FROM udir_gsi WHERE region_code='1835' AND measure="
                  "'Antall elever med forsterket opplæring i norsk'") == [(None, "*")]
    # fravær 202506 is the school year 2024-25; Utsira absent that year
    assert query(db, "SELECT period_code, value FROM udir_fravar WHERE region_code='42' AND "
                  "school_year='2024-25' AND measure='Snitt dager'") == [("202506", 13.3)]
    assert query(db, "SELECT count(*) FROM udir_fravar WHERE region_code='1151'") == [(0,)]
    assert query(db, "SELECT grade, subject, value FROM udir_nasjonale_prover WHERE "
                  "region_code='4203' AND measure='Usikkerhet'") == [(5, "NPLES", 0.8)]
    assert query(db, "SELECT count(*) FROM raw_files WHERE url LIKE '%/data?%'") == [(3,)]
