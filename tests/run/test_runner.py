"""Many crawls in one process (atlas_crawl/run/runner.py): `replay-all`, failures that do not stop
the others, one run and one transaction per crawl."""

import json
import shutil
import sqlite3
import subprocess

from conftest import not_printed, run_python

from atlas_crawl import PROJECT_DIR

GOLDEN = PROJECT_DIR / "golden"


def run_code(code: str, timeout: int = 180) -> subprocess.CompletedProcess:
    # run_crawls runs the reactor: it needs a process of its own (pytest-twisted holds one).
    return run_python("-c", code, timeout=timeout)


def test_replay_all_runs_every_case_in_one_process_and_a_failure_does_not_stop_the_others(
        tmp_path):
    golden = tmp_path / "golden"
    for name in ("nav_aap", "ssb_06083"):
        shutil.copytree(GOLDEN / name, golden / name)
    # A case that must fail (two candidate ZIPs on the page), sorted between the two good ones.
    bad = golden / "bufdir_barnefattigdom_ambiguous"
    shutil.copytree(GOLDEN / bad.name, bad)
    (bad / "golden.json").write_text(json.dumps({"spider": "bufdir_barnefattigdom"}))
    # A case whose spider does not exist: it cannot even start.
    (golden / "zz_no_such_spider").mkdir()
    (golden / "zz_no_such_spider" / "golden.json").write_text(json.dumps({"spider": "nope"}))
    db = tmp_path / "atlas.db"

    result = run_code(
        "import sys; from pathlib import Path; from atlas_crawl.run.cli import replay_all; "
        f"sys.exit(replay_all({str(db)!r}, Path({str(golden)!r})))")

    assert result.returncode == 1, result.stderr[-3000:]
    out = result.stdout
    assert not_printed(out, "[1/4] bufdir_barnefattigdom_ambiguous: started (bufdir_barnefattigdom)",
                       "[1/4] bufdir_barnefattigdom_ambiguous: failed, 0 rows",
                       "[2/4] nav_aap: ok, 14 rows (14 changed)",
                       "[3/4] ssb_06083: ok, 19 rows (19 changed)",
                       "[4/4] zz_no_such_spider: failed", "KeyError",
                       "4 crawls, 2 ok, 2 failed") == []
    conn = sqlite3.connect(db)
    runs = conn.execute("SELECT spider, status, rows_received FROM _runs ORDER BY rowid").fetchall()
    # Each crawl is its own run; the failed one is recorded and rolled back.
    assert runs == [("bufdir_barnefattigdom", "failed", 0), ("nav_aap", "ok", 14),
                    ("ssb_06083", "ok", 19)]
    assert conn.execute("SELECT count(*) FROM nav_aap").fetchone() == (14,)
    assert conn.execute("SELECT count(*) FROM ssb_06083").fetchone() == (18,)
    assert conn.execute("SELECT count(DISTINCT _run) FROM nav_aap").fetchone() == (1,)
    assert not conn.execute(
        "SELECT name FROM sqlite_master WHERE name = 'bufdir_barnefattigdom'").fetchall()
