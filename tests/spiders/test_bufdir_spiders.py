"""Bufdir spiders end to end: failures that must name what went wrong and keep the last good
data, and -a file= with a ZIP or a single workbook."""


import pytest_twisted
from conftest import edited_cassette, load_builder, query

from atlas_crawl import PROJECT_DIR
from atlas_crawl.run.golden import GOLDEN_DIR, crawl, crawl_settings, runs, table_rows

BARNEVERN = GOLDEN_DIR / "bufdir_barnevern"


build = load_builder(PROJECT_DIR / "tools" / "build_bufdir_fixtures.py")


async def run(spider, db, *, cassette=None, **args):
    settings = crawl_settings(db, cassette=cassette, RETRY_ENABLED=False, ATLAS_RAW_DIR="")
    await crawl(spider, settings, **args)
    return runs(db)[-1]



@pytest_twisted.ensureDeferred
async def test_an_unknown_workbook_fails_the_run_by_name_and_keeps_the_last_good_data(tmp_path):
    db = tmp_path / "atlas.db"
    first = await run("bufdir_barnevern", db, cassette=BARNEVERN)
    assert first["status"] == "ok", first["error"]
    before = table_rows(db, "bufdir_barnevern")
    assert len(before) == 49
    last = await run("bufdir_barnevern", db,
                     cassette=GOLDEN_DIR / "bufdir_barnevern_unknown_workbook")
    assert last["status"] == "failed"
    assert "bufdir_barnevern: parsed 1 of 2 workbooks; not recognised: " \
           "5A_ny_indikator_under_arbeid.xlsx" in last["error"]
    assert "5A_ny_indikator_under_arbeid.xlsx, sheet 'Sheet1': expected a header row" in last["error"]
    assert table_rows(db, "bufdir_barnevern") == before


@pytest_twisted.ensureDeferred
async def test_several_unnamed_zips_fail_listing_them(tmp_path):
    db = tmp_path / "atlas.db"
    last = await run("bufdir_barnefattigdom", db,
                     cassette=GOLDEN_DIR / "bufdir_barnefattigdom_ambiguous")
    assert last["status"] == "failed"
    assert "refusing to guess" in last["error"]
    assert "Datasett_2027_a1a1a1a1a1.zip" in last["error"]
    assert "Datasett_2026_b2b2b2b2b2.zip" in last["error"]


@pytest_twisted.ensureDeferred
async def test_an_html_page_at_the_zip_url_is_refused(tmp_path):
    def html_at_the_zip_url(entry):
        if entry["url"].endswith(".zip"):
            entry["headers"]["Content-Type"] = "text/html; charset=utf-8"
            entry["file"] = "responses/monitor_page_constructed.html"

    cassette = edited_cassette(BARNEVERN, tmp_path / "cassette", html_at_the_zip_url)
    last = await run("bufdir_barnevern", tmp_path / "atlas.db", cassette=cassette)
    assert last["status"] == "failed"
    assert "expected a ZIP, got Content-Type 'text/html; charset=utf-8'" in last["error"]


@pytest_twisted.ensureDeferred
async def test_a_saved_zip_or_a_single_workbook(tmp_path):
    db = tmp_path / "atlas.db"
    zipped = BARNEVERN / "responses/Kommunemonitor_barnevern_constructed.zip"
    last = await run("bufdir_barnevern", db, file=str(zipped))
    assert last["status"] == "ok", last["error"]
    assert last["rows_received"] == 49 + 3  # values + one row per indicator
    workbook = tmp_path / "Indikator_9a_barn_innvandrerbakgrunn_vedvarende_lavinntekt.xlsx"
    workbook.write_bytes(dict(build.barnefattigdom_bundle())[workbook.name])
    last = await run("bufdir_barnefattigdom", db, file=str(workbook))
    assert last["status"] == "ok", last["error"]
    assert query(db, "SELECT region, year, value, status FROM bufdir_barnefattigdom "
                     "ORDER BY region, year") == [
        ("0", 2022, 36.4, None), ("0", 2023, 36.9, None),
        ("1103", 2022, 33.0, None), ("1103", 2023, None, "..")]
    assert query(db, "SELECT indicator, zip_url FROM bufdir_barnefattigdom_indikatorer") == [
        ("9a", workbook.as_uri())]
