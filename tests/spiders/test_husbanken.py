"""Husbanken bostøtte: the real hypercube sample (realdata/husbanken, see SOURCES.md) read by the
pure parser, and by the spider from a saved file; the traps of SOURCE-FACTS §9.1 each asserted."""

from __future__ import annotations

import hashlib
import json

import pytest
import pytest_twisted
from conftest import crawl_file

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import hypercube as qf
from atlas_crawl.manifests import get_manifest
from atlas_crawl.run.golden import crawl, crawl_settings, runs, table_rows
from atlas_crawl.spiders.husbanken import CubeLayoutError, HusbankenBostotteSpider

GOLDEN = PROJECT_DIR / "golden" / "husbanken_bostotte"
SAMPLE = GOLDEN / "responses" / "husbanken-bostotte_hypercube_sample.json"
# sha256 of ../shared/realdata/husbanken/husbanken-bostotte_hypercube_sample.json, the capture
# as archived (see golden/husbanken_bostotte/README.md)
REAL_SHA256 = "b3b909cbb4b4558361cba9312fc164bcc8063f28c3e686ae2727389c09f3821d"
MEASURES = [qf.Measure(m["label"], m["expression"], m["unit"])
            for m in get_manifest("husbanken_bostotte").extra["qlik"]["measures"]]


@pytest.fixture(scope="module")
def parsed():
    return qf.bostotte_rows(qf.data_pages(SAMPLE.read_bytes()), MEASURES)


def values(rows, code, measure):
    return {r[1]: r[3] for r in rows if r[0] == code and r[2] == measure}


def test_golden_copy_is_the_real_capture_unchanged():
    assert hashlib.sha256(SAMPLE.read_bytes()).hexdigest() == REAL_SHA256


def test_every_row_with_a_year_becomes_five_measures(parsed):
    rows, _ = parsed
    assert len(rows) == (69 - 5) * 5
    assert {r[2] for r in rows} == {"soknad", "vedtak", "utbetaling", "avslag", "belop"}
    assert {(r[2], r[5]) for r in rows if r[2] in ("belop", "soknad")} == {
        ("belop", "kroner"), ("soknad", "antall")}


def test_arendal_values_are_read_from_qnum(parsed):
    rows, _ = parsed
    row = {r[2]: r[3] for r in rows if r[0] == "4203" and r[1] == 2017}
    assert row == {"soknad": 16382, "vedtak": 12805, "utbetaling": 13040, "avslag": 3577,
                   "belop": 77874342}


def test_0301_is_near_zero_so_oslo_lives_under_its_bydel_codes(parsed):
    rows, _ = parsed
    oslo = values(rows, "0301", "soknad")
    assert max(oslo.values()) == 13 and oslo[2017] == 13
    assert values(rows, "4203", "soknad")[2017] == 16382  # Arendal, far smaller than Oslo
    assert sum(values(rows, "0301", "belop").values()) == 496905


def test_codes_keep_their_zero_padding_from_qtext(parsed):
    rows, _ = parsed
    # 2111 (Svalbard) has only a no-year row in the sample; 2100 only some years, all zero
    assert {r[0] for r in rows} == {"0301", "5043", "4203", "2100"}
    assert sorted(values(rows, "2100", "belop")) == [2013, 2014, 2017, 2018, 2019, 2020, 2022]
    assert set(values(rows, "2100", "belop").values()) == {0}


def test_rows_without_a_year_are_rejected_with_their_values(parsed):
    _, rejected = parsed
    assert [(r.row["kommune_nr"], r.raw_value) for r in rejected] == [
        ("0301", "-"), ("2111", "-"), ("5043", "-"), ("4203", "-"), ("2100", "-")]
    assert rejected[0].column == "year"
    assert "no year" in rejected[0].reason
    assert rejected[0].row["belop"] == 0 and rejected[0].row["cube_row"] == 19


def test_qnum_nan_is_null_and_a_null_measure_keeps_qliks_symbol():
    year = qf.QCell.of({"qText": "-", "qNum": "NaN", "qElemNumber": -2, "qState": "L",
                        "qIsNull": True})
    assert (year.num, year.is_null) == (None, True)
    page = {"qDataPages": [{"qArea": {"qTop": 0}, "qMatrix": [[
        {"qText": "0311", "qNum": 311}, {"qText": "2024", "qNum": 2024},
        {"qText": "12", "qNum": 12}, {"qText": "-", "qNum": "NaN"},
        {"qText": "3", "qNum": 3.0}, {"qText": "0", "qNum": 0},
        {"qText": "1 234,5", "qNum": 1234.5}]]}]}
    rows, rejected = qf.bostotte_rows(qf.data_pages(page), MEASURES)
    assert rejected == []
    assert rows == [("0311", 2024, "soknad", 12, None, "antall"),
                    ("0311", 2024, "vedtak", None, "-", "antall"),
                    ("0311", 2024, "utbetaling", 3, None, "antall"),
                    ("0311", 2024, "avslag", 0, None, "antall"),
                    ("0311", 2024, "belop", 1234.5, None, "kroner")]


def test_a_row_of_the_wrong_width_is_a_format_error():
    page = {"qDataPages": [{"qMatrix": [[{"qText": "0301", "qNum": 301}]]}]}
    with pytest.raises(qf.QlikFormatError, match="row 0: 1 cells, expected 7"):
        qf.bostotte_rows(qf.data_pages(page), MEASURES)


def test_page_plan_covers_the_full_cube_in_1000_row_blocks():
    plan = qf.page_plan(7_449, 7)
    assert len(plan) == 8  # "7,449 rows took 8 calls" (SOURCE-FACTS §9.1)
    assert [a["qTop"] for a in plan] == list(range(0, 8000, 1000))
    assert plan[-1] == {"qLeft": 0, "qTop": 7000, "qWidth": 7, "qHeight": 449}
    with pytest.raises(ValueError, match="7009"):
        qf.page_plan(7_449, 7, page_rows=7_449)


def test_deploy_config_names_the_engine():
    text = (GOLDEN / "responses" / "deployconfig_config.js").read_text()
    qlik_url, app = qf.parse_deploy_config(text)
    assert qf.engine_url(qlik_url, app) == get_manifest("husbanken_bostotte").extra["qlik"][
        "engine_url"]
    assert qf.parse_deploy_config('{"qlikUrl":"wss://h/app/x","qlikAppId":"x"}') == (
        "wss://h/app/x", "x")
    assert qf.engine_url("wss://h/app/x", "x") == "wss://h/app/x"
    assert qf.parse_deploy_config("var nothing = 1;") == (None, None)


def test_a_cube_with_other_columns_fails_naming_them():
    spider = HusbankenBostotteSpider()
    layout = {"qHyperCube": {"qDimensionInfo": [{"qFallbackTitle": "KommuneNr"},
                                                {"qFallbackTitle": "Dato"}],
                             "qMeasureInfo": [{"qFallbackTitle": "Sum(BostøtteSøknadTeller)"}]}}
    with pytest.raises(CubeLayoutError, match=r"'Dato', 'Sum\(BostøtteSøknadTeller\)'\]"):
        spider.check_layout("wss://x", layout)


@pytest_twisted.ensureDeferred
async def test_file_argument_reads_the_real_sample_like_the_replayed_engine(tmp_path):
    """`-a file=` on the unchanged capture stores exactly the golden rows of the WebSocket replay."""
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="")
    await crawl("husbanken_bostotte", settings, file=str(SAMPLE))
    run = runs(db)[-1]
    assert run["status"] == "ok", run["error"]
    assert (run["rows_received"], run["rows_quarantined"]) == (320, 5)
    expected = [json.loads(line) for line in
                (GOLDEN / "expected" / "husbanken_bostotte.jsonl").read_text().splitlines()]
    assert table_rows(db, "husbanken_bostotte") == expected


def test_oslo_bydel_codes_are_placed_on_ssb_bydeler_and_an_unknown_one_is_quarantined():
    """The geography step maps Husbanken's 0311-0325 to SSB's 6-digit bydeler; 0326 (a bydel
    discontinued before 2004, which one is not known) cannot be placed and is quarantined."""
    from atlas_crawl.items import Batch, Provenance
    from atlas_crawl.pipelines.geography import GeographyPipeline

    def row(code, year, n):
        return [{"qText": code, "qNum": int(code)}, {"qText": str(year), "qNum": year},
                *({"qText": str(n), "qNum": n} for _ in MEASURES)]

    page = {"qDataPages": [{"qMatrix": [row("0311", 2024, 5), row("0325", 2024, 7),
                                        row("0301", 2024, 1), row("0326", 2003, 2)]}]}
    rows, _ = qf.bostotte_rows(qf.data_pages(page), MEASURES)
    batch = Batch(source_id="husbanken_bostotte", columns=list(qf.BOSTOTTE_COLUMNS), rows=rows,
                  key=list(qf.BOSTOTTE_KEY), provenance=Provenance.of("test", b""))
    GeographyPipeline().process_item(batch)
    placed = {(r[0], r[1]): r[6:] for r in batch.rows if r[2] == "soknad"}
    assert placed[("0311", 2024)][:3] == ("030101", "030101", "bydel")
    assert placed[("0325", 2024)][:3] == ("030115", "030115", "bydel")
    assert placed[("0301", 2024)][:3] == ("0301", "0301", "kommune")
    assert ("0326", 2003) not in placed
    assert {q.raw_value for q in batch.quarantine} == {"0326"}
    assert len(batch.quarantine) == 5 and "Husbanken" in batch.quarantine[0].reason


@pytest_twisted.ensureDeferred
async def test_the_kommune_view_adds_oslos_bydeler_to_0301(tmp_path):
    def row(code, year, n):
        return [{"qText": code, "qNum": int(code)}, {"qText": str(year), "qNum": year},
                *({"qText": str(n + i), "qNum": n + i} for i in range(5))]

    saved = tmp_path / "page.json"
    saved.write_text(json.dumps({"qDataPages": [{"qArea": {"qTop": 0}, "qMatrix": [
        row("0301", 2024, 1), row("0311", 2024, 100), row("0325", 2024, 1000),
        row("4203", 2024, 7)]}]}))
    db = tmp_path / "atlas.db"
    await crawl_file(db, "husbanken_bostotte", saved)
    assert runs(db)[-1]["status"] == "ok"
    import sqlite3

    conn = sqlite3.connect(db)
    got = conn.execute("SELECT kommune_nr, value, codes_summed FROM husbanken_bostotte_kommune "
                       "WHERE measure = 'belop' ORDER BY kommune_nr").fetchall()
    conn.close()
    assert got == [("0301", 1 + 4 + 100 + 4 + 1000 + 4, 3), ("4203", 11, 1)]
