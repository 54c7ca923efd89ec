"""The project on a real scrapyd: deploy the egg (scrapyd-deploy builds it, addversion.json
uploads it), schedule replay crawls through schedule.json, and find their rows in the database.

scrapyd runs on 127.0.0.1 on a free port, with its eggs, logs and queue in a temporary folder,
and is stopped at the end; every wait is bounded.
"""

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import build_egg

from atlas_crawl import PROJECT_DIR

pytestmark = pytest.mark.scrapyd

requests = pytest.importorskip("requests")
BIN = Path(sys.executable).parent


def wait_finished(url: str, jobs: list[str], timeout: float = 150) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = requests.get(f"{url}/listjobs.json", params={"project": "atlas_crawl"},
                              timeout=5).json()
        finished = {j["id"]: j for j in listed["finished"]}
        if all(job in finished for job in jobs):
            return finished
        time.sleep(0.5)
    raise AssertionError(f"jobs not finished in {timeout} s: {listed}")


def test_deploy_to_scrapyd_and_schedule_replay_crawls(scrapyd, tmp_path):
    egg = build_egg(tmp_path)
    with open(egg, "rb") as body:
        added = requests.post(f"{scrapyd}/addversion.json", timeout=60,
                              data={"project": "atlas_crawl", "version": "1"},
                              files={"egg": body}).json()
    assert added["status"] == "ok", added
    # scrapyd listed the spiders through the project's runner, from the unpacked egg.
    spiders = requests.get(f"{scrapyd}/listspiders.json", params={"project": "atlas_crawl"},
                           timeout=60).json()["spiders"]
    assert added["spiders"] == len(spiders) > 30
    assert {"nav_aap", "ssb_06083", "sitemap_watch"} <= set(spiders)

    db = tmp_path / "atlas.db"
    jobs = []
    for spider in ("nav_aap", "ssb_06083"):
        answer = requests.post(f"{scrapyd}/schedule.json", timeout=10, data=[
            ("project", "atlas_crawl"), ("spider", spider),
            ("setting", "ATLAS_REPLAY=1"), ("setting", f"ATLAS_DB={db}"),
            ("setting", f"ATLAS_GOLDEN_DIR={PROJECT_DIR / 'golden'}"),
            ("setting", f"ATLAS_RAW_DIR={tmp_path / 'raw'}")]).json()
        assert answer["status"] == "ok", answer
        jobs.append(answer["jobid"])
    finished = wait_finished(scrapyd, jobs)

    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM nav_aap").fetchone() == (14,)
    assert conn.execute("SELECT count(*) FROM ssb_06083").fetchone() == (18,)
    runs = conn.execute("SELECT spider, status, rows_received, started, finished, monitors "
                        "FROM _runs ORDER BY started").fetchall()
    assert [(r[0], r[1], r[2]) for r in runs] == [("nav_aap", "ok", 14), ("ssb_06083", "ok", 19)]
    assert all('"outcome": "passed"' in r[5] for r in runs)
    # max_proc = 1: the second job started after the first had finished (one SQLite writer).
    assert runs[1][3] >= runs[0][4]
    first, second = (finished[j] for j in jobs)
    assert second["start_time"] >= first["end_time"]
    # The jobs ran the deployed egg, unpacked by the project's runner.
    unpacked, = (tmp_path / "eggs_unpacked").iterdir()
    assert (unpacked / "atlas_crawl" / "manifests" / "nav_aap.yml").exists()

    conn.close()  # publishing needs the database to itself (it leaves WAL mode)

    # `update --scrapyd`: the monitor, then what is due (here: named), as scrapyd jobs; then
    # the catalogue is published here. Both recordings are constructed: `--samples`.
    result = subprocess.run(
        [sys.executable, "-m", "atlas_crawl", "update", "--scrapyd", scrapyd, "--replay",
         "--samples", "--db", str(db), "--metadata", str(tmp_path / "metadata.yml"),
         "--sources", "nav_helt_ledige"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"scheduled change watch (sitemap_watch) on {scrapyd}" in result.stdout
    assert "nav_helt_ledige: ok, 52 rows (52 changed)" in result.stdout
    # the source's real workbook of 2022 is replayed after its own recording
    assert "nav_helt_ledige (nav_helt_ledige_hl060_2022_10): ok, 7,680 rows" in result.stdout
    assert "3 crawls, 3 ok, 0 failed" in result.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM nav_helt_ledige").fetchone() == (52 + 7680,)
    assert conn.execute("SELECT last_run_status FROM sources WHERE source_id = "
                        "'nav_helt_ledige'").fetchone() == ("ok",)

