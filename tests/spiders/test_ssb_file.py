"""`-a file=`: a JSON-stat2 response saved by hand is stored cell by cell with its status.
The file is SSB's real 05803 response (realdata/ssb_pxwebapi_v2, see SOURCES.md)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
import pytest_twisted
from conftest import scrapy_crawl

from atlas_crawl import PROJECT_DIR
from atlas_crawl.run.golden import crawl, crawl_settings, runs, table_rows

REAL_05803 = PROJECT_DIR / "golden" / "ssb_table" / "responses" / \
    "v2_data_05803_lang-no_with-status.json"


@pytest.fixture
def real_file() -> Path:
    return REAL_05803


def cells(db) -> dict[tuple[str, str], tuple]:
    return {(r["contentscode"], r["tid"]): (r["value"], r["status"])
            for r in table_rows(db, "ssb_05803")}


@pytest_twisted.ensureDeferred
async def test_a_saved_05803_response_is_stored_with_every_status(tmp_path, real_file):
    db = tmp_path / "atlas.db"
    await crawl("ssb_table", crawl_settings(db, replay=False), table="05803",
                file=str(real_file))

    run = runs(db)[-1]
    assert run["status"] == "ok", run["error"]
    assert run["rows_received"] == 12
    got = cells(db)
    assert len(got) == 12
    assert got[("Personer", "2026")] == (5627400.0, None)
    assert got[("Personer", "1735")] == (616109.0, None)
    assert got[("Skilsmisse", "1735")] == (None, "..")
    assert got[("Skilsmisse", "2025")] == (0.0, None)  # a real zero next to missing cells
    assert got[("Innflyttinger", "2025")] == (55243.0, None)
    assert sorted(k for k, (v, s) in got.items() if s == "..") == [
        ("Innflyttinger", "1735"), ("Innflyttinger", "1736"), ("Innflyttinger", "2026"),
        ("Skilsmisse", "1735"), ("Skilsmisse", "1736"), ("Skilsmisse", "2026")]
    assert all(v is None for v, s in got.values() if s)

    # Labels, unit, decimals and `updated` are stored once per code, in the dimension table.
    assert "contentscode_label" not in table_rows(db, "ssb_05803")[0]
    dims = {r["code"]: r for r in table_rows(db, "ssb_05803__contentscode")}
    personer = dims["Personer"]
    assert personer["label"] == "Befolkning 1. januar"
    assert (personer["unit"], personer["decimals"], personer["updated"]) == (
        "personer", 0, "2026-04-15T06:00:00Z")
    sha = hashlib.sha256(real_file.read_bytes()).hexdigest()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT DISTINCT f.sha256 FROM ssb_05803 AS t "
                            "JOIN _fetches AS f ON f.id = t._fetch").fetchall() == [(sha,)]
        assert conn.execute("SELECT url, rows FROM _fetches WHERE table_name = 'ssb_05803'"
                            ).fetchall() == [(real_file.resolve().as_uri(), 12)]
        # Codes and periods stay text.
        assert conn.execute("SELECT typeof(tid), typeof(value) FROM ssb_05803 "
                            "WHERE tid = '2026' AND contentscode = 'Personer'").fetchone() == (
            "text", "real")
    finally:
        conn.close()


def test_the_command_line_stores_the_file(tmp_path, real_file):
    """`scrapy crawl ssb_table -a table=05803 -a file=...` as a user runs it."""
    db = tmp_path / "cli.db"
    result = scrapy_crawl("ssb_table", "-a", "table=05803", "-a", f"file={real_file}", db=db,
                          log_level="INFO")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "12 rows received, 12 inserted or changed, 0 quarantined" in result.stderr
    got = cells(db)
    assert got[("Personer", "2026")] == (5627400.0, None)
    assert got[("Skilsmisse", "1735")] == (None, "..")
    assert got[("Skilsmisse", "2025")] == (0.0, None)
