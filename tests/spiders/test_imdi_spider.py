"""imdi_bosetting end to end in replay: stored values, raw-file provenance, drift rollback."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest_twisted

from atlas_crawl import PROJECT_DIR
from atlas_crawl.run.golden import crawl, crawl_settings, runs

GOLDEN = PROJECT_DIR / "golden" / "imdi_bosetting"
HUB = "https://www.imdi.no/bosetting/bosettingstall/"
PAGE_2026 = HUB + "nokkeltall-bosetting-2026/"


def _rows(db: Path, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def _crawl(db: Path, cassette: Path, raw_dir: Path | str = ""):
    settings = crawl_settings(db, cassette=cassette, ATLAS_RAW_DIR=str(raw_dir))
    return await crawl("imdi_bosetting", settings, years="2025,2026")


@pytest_twisted.ensureDeferred
async def test_replay_stores_oslo_and_keeps_the_pages(tmp_path):
    db = tmp_path / "atlas.db"
    await _crawl(db, GOLDEN, tmp_path / "raw")
    assert runs(db)[-1]["status"] == "ok"
    oslo = dict(_rows(db, "SELECT metric, value FROM imdi_bosetting "
                          "WHERE year=2026 AND level='kommune' AND name='Oslo'"))
    assert oslo == {"anmodet": 600, "vedtatt": 600, "bosatte": 386,
                    "bosatte_kollektiv_beskyttelse": 345, "avtalt": 132,
                    "avtalt_kollektiv_beskyttelse": 103}
    assert _rows(db, "SELECT value, status FROM imdi_bosetting WHERE year=2026 "
                     "AND name='Gjerstad' AND metric='vedtatt'") == [(None, "avventer vedtak")]
    assert _rows(db, "SELECT value, status FROM imdi_bosetting WHERE year=2025 "
                     "AND name='Bygland' AND metric='bosatte'") == [(None, ":")]
    assert _rows(db, "SELECT DISTINCT listed_under FROM imdi_bosetting WHERE year=2025 "
                     "AND level='kommune' ORDER BY 1") == [("Agder",), ("Akershus",)]
    # names handed over as IMDi wrote them, placed with the page year's geography by the row's
    # level: the fylke summary's "Oslo" is fylke 03, the kommune table's kommune 0301
    places = dict(_rows(db, "SELECT DISTINCT level || ' ' || place, place_canonical "
                            "FROM imdi_bosetting WHERE year=2026 "
                            "AND name IN ('Oslo', 'Gjerstad', 'Agder', 'Ås')"))
    assert places == {"kommune Oslo": "0301", "fylke Oslo": "03", "kommune Gjerstad": "4211",
                      "fylke Agder": "42", "kommune Ås": "3218"}
    assert _rows(db, "SELECT count(*) FROM imdi_bosetting WHERE place_geo_status != 'exact'"
                 ) == [(0,)]

    # every downloaded page is kept: the hub and the two year pages
    raw = _rows(db, "SELECT url, sha256, size, path FROM raw_files ORDER BY url")
    page_2026 = (GOLDEN / "responses" / "imdi_nokkeltall-bosetting-2026_EXCERPT.html").read_bytes()
    assert [r[0] for r in raw] == [HUB, PAGE_2026.replace("2026", "2025"), PAGE_2026]
    assert raw[2][1] == "8cc1d168fcf59167f5eb20279a71a92858774c26fd3a028746c4603efed6e988"
    assert raw[2][2] == len(page_2026) == 47690
    assert Path(raw[2][3]).read_bytes() == page_2026


@pytest_twisted.ensureDeferred
async def test_drifted_header_fails_the_run_and_keeps_the_previous_data(tmp_path):
    db = tmp_path / "atlas.db"
    await _crawl(db, GOLDEN)
    before = _rows(db, "SELECT * FROM imdi_bosetting ORDER BY year, level, name, metric")

    drifted = tmp_path / "drifted"
    shutil.copytree(GOLDEN, drifted)
    page = drifted / "responses" / "imdi_nokkeltall-bosetting-2026_EXCERPT.html"
    page.write_bytes(page.read_bytes().replace(b"Antall bosatte personer:",
                                               b"Antall bosatte flyktninger:"))
    await _crawl(db, drifted)
    last = runs(db)[-1]
    assert last["status"] == "failed"
    assert "Antall bosatte flyktninger:" in last["error"]
    assert _rows(db, "SELECT * FROM imdi_bosetting ORDER BY year, level, name, metric") == before
    assert json.loads(last["arguments"])["years"] == "2025,2026"


@pytest_twisted.ensureDeferred
async def test_one_saved_page_with_file_argument(tmp_path):
    db = tmp_path / "atlas.db"
    page = GOLDEN / "responses" / "imdi_nokkeltall-bosetting-2025_EXCERPT.html"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="")
    await crawl("imdi_bosetting", settings, file=str(page))
    assert runs(db)[-1]["status"] == "ok"
    assert _rows(db, "SELECT value FROM imdi_bosetting WHERE year=2025 AND level='fylke' "
                     "AND name='Agder' AND metric='vedtatt'") == [(970,)]
    assert _rows(db, "SELECT count(*) FROM raw_files WHERE url LIKE 'file:%'") == [(1,)]
