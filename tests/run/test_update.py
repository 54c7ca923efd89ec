"""`python -m atlas_crawl update`: the monitor, then what is due, changed or named, one process,
then the catalogue; a failing source keeps its previous data and sets the exit code."""

import json
import shutil
import sqlite3
import subprocess

from conftest import not_printed, run_python

from atlas_crawl import PROJECT_DIR

GOLDEN = PROJECT_DIR / "golden"


def update(tmp_path, golden, *, now=None, sources=None,
           samples=True) -> subprocess.CompletedProcess:
    # update() runs the reactor: a process of its own (pytest-twisted holds this one's).
    code = ("import sys; from datetime import datetime; from pathlib import Path; "
            "from atlas_crawl.run.update import update; "
            f"sys.exit(update({str(tmp_path / 'atlas.db')!r}, {str(tmp_path / 'metadata.yml')!r},"
            f" {sources!r}, replay=True, golden=Path({str(golden)!r}), samples={samples!r}, "
            f"now={f'datetime.fromisoformat({now!r})' if now else None}))")
    return run_python("-c", code, timeout=240)


def golden_subset(tmp_path):
    golden = tmp_path / "golden"
    for name in ("sitemap_watch", "nav_aap", "ssb_06083"):
        shutil.copytree(GOLDEN / name, golden / name)
    # bufdir_barnefattigdom's recording here is a page with two candidate ZIPs: the run fails.
    bad = golden / "bufdir_barnefattigdom"
    shutil.copytree(GOLDEN / "bufdir_barnefattigdom_ambiguous", bad)
    (bad / "golden.json").write_text(json.dumps({"spider": "bufdir_barnefattigdom"}))
    return golden


def test_update_crawls_what_is_due_changed_or_named_and_publishes(tmp_path):
    golden = golden_subset(tmp_path)
    db = tmp_path / "atlas.db"

    first = update(tmp_path, golden)
    out = first.stdout
    assert first.returncode == 1, first.stderr[-3000:]  # bufdir failed
    assert not_printed(out, "[1] change watch: started (sitemap_watch",
                       "[1] change watch: ok, 26 rows",
                       "nav_aap: started (nav_aap; never crawled)",
                       "nav_aap: ok, 14 rows (14 changed, 0 quarantined)",
                       "ssb_06083: ok, 19 rows", "bufdir_barnefattigdom: failed, 0 rows", "ZIP",
                       "skipped ssb_07459: no recording in golden/ssb_07459/",
                       "4 crawls, 3 ok, 1 failed",
                       "FAILED: bufdir_barnefattigdom (their previous data is kept)") == []
    assert (tmp_path / "metadata.yml").exists()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT last_run_status, rows FROM sources WHERE source_id = 'nav_aap'"
                        ).fetchone() == ("ok", 14)
    assert conn.execute("SELECT last_run_status FROM sources "
                        "WHERE source_id = 'bufdir_barnefattigdom'").fetchone() == ("failed",)
    last_ok, = conn.execute("SELECT max(finished) FROM _runs WHERE spider = 'nav_aap'").fetchone()

    # The next day: nav_aap (monthly) and ssb_06083 are fresh; ssb_06083's watched URL changed.
    conn.execute("INSERT INTO site_changes (detected_at, url, provider, event, sources, baseline) "
                 "VALUES ('2099-01-01T00:00:00Z', 'https://www.ssb.no/x', 'ssb', 'changed', "
                 "'[\"ssb_06083\"]', 0)")
    conn.commit()
    second = update(tmp_path, golden, now=last_ok.replace("Z", "+00:00"))
    out = second.stdout
    assert "nav_aap: started" not in out
    assert ("ssb_06083: started (ssb_06083; changed: watched URLs changed since its last "
            "successful run)") in out
    assert "ssb_06083: ok, 19 rows (0 changed" in out
    assert "bufdir_barnefattigdom: started (bufdir_barnefattigdom; never crawled)" in out
    assert second.returncode == 1

    # Named sources are crawled whatever their schedule says, and only they.
    third = update(tmp_path, golden, now=last_ok.replace("Z", "+00:00"), sources=["nav_aap"])
    assert third.returncode == 0, third.stdout[-3000:]
    assert "nav_aap: started (nav_aap; named on the command line)" in third.stdout
    assert "ssb_06083: started" not in third.stdout
    assert "2 crawls, 2 ok, 0 failed" in third.stdout
    runs = conn.execute("SELECT spider, status FROM _runs ORDER BY rowid").fetchall()
    assert runs.count(("nav_aap", "ok")) == 2 and runs.count(("ssb_06083", "ok")) == 2
    assert runs.count(("bufdir_barnefattigdom", "failed")) == 2
    assert conn.execute("SELECT count(*) FROM nav_aap").fetchone() == (14,)


def test_a_node_crawls_and_monitors_only_its_providers():
    from atlas_crawl.run.plan import for_providers, source_spiders, watch_job
    from atlas_crawl.run.runner import project_settings

    spiders = source_spiders(project_settings())
    assert {"ssb_07459", "ssb_klass", "nav_aap", "brreg_enheter"} <= set(spiders)
    assert "sitemap_watch" not in spiders  # the monitor runs first, not as a source
    assert spiders["ssb_07459"].name == "ssb_07459"
    # nav_ledighet_maned is read from delivered workbooks only: listed here, skipped by the plan
    assert set(for_providers(spiders, ["nav"])) == {"nav_aap", "nav_helt_ledige",
                                                    "nav_uforetrygd", "nav_ledighet_maned"}
    assert set(for_providers(spiders, ["brreg"])) == {
        "brreg_enheter", "brreg_underenheter", "brreg_oppdateringer",
        "brreg_underenheter_oppdateringer", "brreg_frivillige"}
    # The monitor watches only the node's providers that declare `watch` patterns.
    assert watch_job(["nav", "udir"], None).args == {"provider": "nav,udir"}
    assert watch_job(None, None).args == {}
    assert watch_job(["ssb", "nope"], None).args == {"provider": "ssb"}
    assert watch_job(["nope"], None) is None
