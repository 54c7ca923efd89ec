"""`_runs` records how and from what each run got its data: a live crawl (against a local
PxWebApi), a replay of a golden case, a file run; an older ledger gains the columns."""

from __future__ import annotations

import sqlite3

import pytest_twisted
from fakes.pxweb_server import FakePxWebApi
from fakes.pxweb_tables import FakeDimension, FakeTable

from atlas_crawl.run.golden import (
    GOLDEN_DIR,
    GoldenCase,
    crawl,
    crawl_case,
    crawl_settings,
    runs,
)
from atlas_crawl.store.ledger import fill_legacy_origins
from atlas_crawl.store.schema import ensure_run_origin_columns
from atlas_crawl.store.writes import Store


def origins(db) -> list[tuple]:
    return [(r["spider"], r["status"], r["mode"], r["data_origin"], r["capture_date"])
            for r in runs(db)]


@pytest_twisted.ensureDeferred
async def test_a_live_crawl_is_recorded_live(tmp_path):
    table = FakeTable(
        table_id="99002", label="99002: Befolkning (konstruert)",
        dimensions=[FakeDimension("Region", "region", [("0301", "Oslo")]),
                    FakeDimension("ContentsCode", "statistikkvariabel", [("P", "Personer")],
                                  units={"P": ("personer", 0)}),
                    FakeDimension("Tid", "år", [("2025", "2025")])])
    db = tmp_path / "live.db"
    with FakePxWebApi([table], max_calls=50) as api:
        settings = crawl_settings(db, replay=False)
        settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
        await crawl("ssb_table", settings, table="99002", base_url=api.base_url)
    assert origins(db) == [("ssb_table", "ok", "live", "live", None)]


@pytest_twisted.ensureDeferred
async def test_replay_and_file_runs_take_the_golden_case_s_origin(tmp_path):
    db = tmp_path / "atlas.db"
    await crawl_case(GoldenCase.load(GOLDEN_DIR / "valgresultat_hedmark"), db)  # replay
    await crawl_case(GoldenCase.load(GOLDEN_DIR / "valgresultat_2021"), db)  # reads a file
    await crawl_case(GoldenCase.load(GOLDEN_DIR / "nav_aap"), db)  # constructed
    assert origins(db) == [
        ("valgresultat", "ok", "replay", "capture", "2025-10-20"),
        ("valgresultat", "ok", "file", "capture", "2021-09-30"),
        ("nav_aap", "ok", "replay", "constructed", None)]


@pytest_twisted.ensureDeferred
async def test_a_file_of_no_golden_case_is_unknown_unless_told(tmp_path):
    source = GOLDEN_DIR / "valgresultat_2021/responses/st2021_kommune_03-0301_2021-09-30T2324.json"
    copy = tmp_path / "oslo_2021.json"
    copy.write_bytes(source.read_bytes())
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="")
    await crawl("valgresultat", settings, file=str(copy))
    await crawl("valgresultat", crawl_settings(db, replay=False, ATLAS_RAW_DIR=""),
                file=str(copy), origin="capture", captured="2021-09-30")
    assert origins(db) == [("valgresultat", "ok", "file", "unknown", None),
                           ("valgresultat", "ok", "file", "capture", "2021-09-30")]


def test_an_older_ledger_gains_the_origin_columns_and_keeps_its_rows(tmp_path):
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript("""
    CREATE TABLE _runs (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, spider TEXT NOT NULL,
        source_ids TEXT, arguments TEXT, started TEXT NOT NULL, finished TEXT,
        status TEXT NOT NULL, rows_received INTEGER NOT NULL DEFAULT 0,
        rows_written INTEGER NOT NULL DEFAULT 0, rows_quarantined INTEGER NOT NULL DEFAULT 0,
        error TEXT);
    INSERT INTO _runs (run_id, spider, arguments, started, status)
        VALUES ('old', 'nav_aap', '{}', '2026-01-01T00:00:00Z', 'ok');
    """)
    conn.close()
    store = Store(db)  # opening a ledger adds what it lacks
    store.start_run("nav_aap", {"file": "/x.xlsx"}, mode="file", data_origin="unknown")
    store.close()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT run_id, mode, data_origin, capture_date FROM _runs ORDER BY id"
                        ).fetchall()[0] == ("old", None, None, None)
    assert conn.execute("SELECT mode, data_origin FROM _runs ORDER BY id").fetchall()[1] == (
        "file", "unknown")
    ensure_run_origin_columns(conn)  # twice is harmless
    # publish fills what the old rows did not record: a live run is live, nothing is guessed
    assert fill_legacy_origins(conn) == 1
    assert conn.execute("SELECT mode, data_origin FROM _runs WHERE run_id = 'old'").fetchone() == (
        "live", "live")
    conn.close()
