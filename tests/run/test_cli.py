"""The command line a user types: `scrapy list`, `scrapy crawl ... -a file=`, exit codes."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import run_python

from atlas_crawl import PROJECT_DIR

REAL_05803 = (PROJECT_DIR / "golden" / "ssb_table" / "responses" /
              "v2_data_05803_lang-no_with-status.json")


def scrapy(*args, db: Path) -> subprocess.CompletedProcess:
    return run_python("-m", "scrapy", *args, "-s", f"ATLAS_DB={db}", "-s", "LOG_LEVEL=INFO")


def test_scrapy_list_names_the_spiders_with_their_titles():
    out = subprocess.run([sys.executable, "-m", "scrapy", "list", "--titles"], cwd=PROJECT_DIR,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    lines = {line.split()[0]: line.split(None, 1)[1] for line in out.splitlines()}
    for name in ("ssb_table", "ssb_07459", "ssb_08764", "ssb_12944", "ssb_09406"):
        assert name in lines
    assert lines["ssb_07459"] == "07459: Befolkning, etter region, kjønn, alder og år"
    assert lines["imdi_bosetting"] == "Bosettingstall"
    assert lines["ssb_table"].startswith("Any SSB PxWebApi v2 table")
    assert all(lines.values())  # every spider says what it crawls


def test_scrapy_list_piped_is_one_name_a_line():
    # scrapyd's listspiders.json and scripts read `scrapy list` as spider names.
    out = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=PROJECT_DIR,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    names = out.split()
    assert len(names) == len(out.splitlines()) > 30
    assert "ssb_07459" in names and "imdi_bosetting" in names


def test_crawl_a_saved_file_stores_every_cell(tmp_path):
    db = tmp_path / "atlas.db"
    result = scrapy("crawl", "ssb_table", "-a", "table=05803", "-a", f"file={REAL_05803}", db=db)
    assert result.returncode == 0, result.stderr[-2000:]
    conn = sqlite3.connect(db)
    rows = {(c, t): (v, s) for c, t, v, s in conn.execute(
        "SELECT contentscode, tid, value, status FROM ssb_05803")}
    assert len(rows) == 12
    assert rows[("Personer", "2026")] == (5627400.0, None)
    assert rows[("Skilsmisse", "1735")] == (None, "..")
    assert rows[("Skilsmisse", "2025")] == (0.0, None)
    url, = conn.execute("SELECT DISTINCT url FROM _fetches").fetchone()
    assert url == REAL_05803.resolve().as_uri()


def test_a_failed_run_exits_non_zero_and_is_recorded(tmp_path):
    db = tmp_path / "atlas.db"
    # Replay of a selection that was never recorded: the run must fail, loudly.
    result = scrapy("crawl", "ssb_table", "-a", "table=05803", "-s", "ATLAS_REPLAY=1", db=db)
    assert result.returncode == 2
    assert "was never recorded" in result.stderr
    status, error = sqlite3.connect(db).execute("SELECT status, error FROM _runs").fetchone()
    assert status == "failed"
    assert "valueCodes" in error


def test_every_spider_argument_is_recorded_with_the_run(tmp_path):
    db = tmp_path / "atlas.db"
    result = scrapy("crawl", "ssb_table", "-a", "table=05803", "-a", f"file={REAL_05803}",
                    "-a", "lang=en", db=db)
    assert result.returncode == 0, result.stderr[-2000:]
    arguments, = sqlite3.connect(db).execute("SELECT arguments FROM _runs").fetchone()
    assert json.loads(arguments) == {"file": str(REAL_05803), "lang": "en", "table": "05803"}


def test_replay_with_no_arguments_replays_what_was_recorded(tmp_path):
    # The hub links 2022-2026 but only the 2025 and 2026 pages were captured: with no -a
    # arguments, replay uses the ones the recording was made with (golden.json).
    db = tmp_path / "atlas.db"
    result = scrapy("crawl", "imdi_bosetting", "-s", "ATLAS_REPLAY=1", db=db)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "using the arguments" in result.stderr and "-a years=2025,2026" in result.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT DISTINCT year FROM imdi_bosetting ORDER BY year").fetchall() == [
        (2025,), (2026,)]
    arguments, = conn.execute("SELECT arguments FROM _runs").fetchone()
    assert json.loads(arguments) == {"atlas_replay": True, "years": "2025,2026"}
