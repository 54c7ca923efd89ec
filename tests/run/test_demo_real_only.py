"""The demo publishes real numbers only: `update --replay` crawls the golden cases of real
captures and leaves the constructed fixtures out, saying so; `--samples` puts them in, and then
every page showing their values says they are invented; the ledger, the `sources` table, the
front page and `status` say where each source's numbers came from."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest
import pytest_twisted
import yaml
from conftest import datasette_get as _get
from conftest import query, run_python

from atlas_crawl import PROJECT_DIR
from atlas_crawl.publish.site import PLUGINS_DIR, TEMPLATES_DIR
from atlas_crawl.run.plan import SAMPLE_SKIP
from atlas_crawl.run.status import format_json, format_table, source_status

GOLDEN = PROJECT_DIR / "golden"
# two real captures (a replayed cassette and a file case) and two constructed fixtures
CASES = ("valgresultat", "ssb_07459", "nav_aap", "sitemap_watch")
BANNER = "sample: invented values, not statistics"
NO_REAL = "no real data in this catalogue yet: run `update` with network access"


def update(folder, *, samples: bool) -> subprocess.CompletedProcess:
    golden = folder / "golden"
    if not golden.exists():
        for name in CASES:
            shutil.copytree(GOLDEN / name, golden / name)
    # update() runs the reactor: a process of its own (pytest-twisted holds this one's).
    code = ("import sys; from pathlib import Path; from atlas_crawl.run.update import update; "
            f"sys.exit(update({str(folder / 'atlas.db')!r}, {str(folder / 'metadata.yml')!r}, "
            f"None, replay=True, golden=Path({str(golden)!r}), samples={samples!r}))")
    return run_python("-c", code, timeout=300)


def updated(folder, *, samples: bool) -> tuple:
    """`folder` after an update that must succeed, and what it printed."""
    result = update(folder, samples=samples)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return folder, result.stdout


@pytest.fixture(scope="module")
def real_only(tmp_path_factory):
    return updated(tmp_path_factory.mktemp("demo"), samples=False)


@pytest.fixture(scope="module")
def with_samples(tmp_path_factory):
    return updated(tmp_path_factory.mktemp("samples"), samples=True)


def test_replay_leaves_constructed_fixtures_out_and_says_so(real_only):
    folder, out = real_only
    assert f"skipped nav_aap: {SAMPLE_SKIP}" in out
    assert f"skipped change watch: {SAMPLE_SKIP}" in out
    assert SAMPLE_SKIP == ("constructed fixture, not a statistic: left out; --samples puts it "
                           "in")
    db = folder / "atlas.db"
    runs = query(db, "SELECT spider, status, mode, data_origin, capture_date FROM _runs "
                     "ORDER BY spider")
    assert runs == [("ssb_07459", "ok", "file", "capture", "2022-09-14"),
                    ("valgresultat", "ok", "replay", "capture", "2025-10-20")]
    tables = {r[0] for r in query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "nav_aap" not in tables and "sitemap_urls" not in tables
    # no row in the database was written by a run of anything but a real capture
    for table in ("ssb_07459", "valgresultat", "valgresultat_partier"):
        origins = query(db, f'SELECT DISTINCT r.data_origin FROM "{table}" t '
                            "JOIN _runs r ON r.id = t._run")
        assert origins == [("capture",)], table
    assert query(db, "SELECT count(*) FROM ssb_07459") == [(359,)]


def test_sources_table_and_status_name_each_origin(real_only):
    folder, _ = real_only
    db = folder / "atlas.db"
    got = {r[0]: r[1:] for r in query(
        db, "SELECT source_id, data_origin, capture_date, rows, real_rows FROM sources "
            "WHERE source_id IN ('ssb_07459', 'valgresultat', 'nav_aap')")}
    assert got["ssb_07459"] == ("capture", "2022-09-14", 359, 359)
    assert got["valgresultat"][:2] == ("capture", "2025-10-20")
    assert got["valgresultat"][2] == got["valgresultat"][3] > 0
    assert got["nav_aap"] == (None, None, None, None)

    statuses = {s.source_id: s for s in source_status(db)}
    assert (statuses["ssb_07459"].origin, statuses["ssb_07459"].mode) == (
        "real capture of 2022-09-14", "file v0_table_07459_post_json-stat2_agg-KommSummer_2022.json")
    assert statuses["nav_aap"].origin == "no data"
    line = next(x for x in format_table(list(statuses.values())).splitlines()
                if x.startswith("valgresultat "))
    assert line.split()[2:5] == ["replay", "capture", "2025-10-20"]
    as_json = {s["source_id"]: s for s in json.loads(format_json(list(statuses.values())))}
    assert (as_json["valgresultat"]["data_origin"], as_json["valgresultat"]["capture_date"]) == (
        "capture", "2025-10-20")


def test_samples_puts_constructed_fixtures_in_marked_as_samples(with_samples):
    folder, out = with_samples
    assert SAMPLE_SKIP not in out and "nav_aap: ok, 14 rows" in out
    db = folder / "atlas.db"
    assert query(db, "SELECT mode, data_origin, capture_date FROM _runs WHERE spider = 'nav_aap'"
                 ) == [("replay", "constructed", None)]
    assert query(db, "SELECT data_origin, rows, real_rows FROM sources "
                     "WHERE source_id = 'nav_aap'") == [("constructed", 14, 0)]



def datasette(folder):
    from datasette.app import Datasette

    meta = yaml.safe_load((folder / "metadata.yml").read_text(encoding="utf-8"))
    return Datasette([], immutables=[str(folder / "atlas.db")], metadata=meta,
                     plugins_dir=str(PLUGINS_DIR), template_dir=str(TEMPLATES_DIR),
                     settings={"suggest_facets": False})


@pytest_twisted.ensureDeferred
async def test_every_page_of_a_sample_carries_the_banner(with_samples):
    folder, _ = with_samples
    ds = datasette(folder)

    table = (await _get(ds, "/atlas/nav_aap")).text
    assert BANNER in table and NO_REAL.replace("`", "&#96;") in table.replace("`", "&#96;")
    row_link = re.search(r'href="(/atlas/nav_aap/[^"?#]+)"', table)
    assert row_link, "no row link on the table page"
    assert BANNER in (await _get(ds, html.unescape(row_link.group(1)))).text
    real = (await _get(ds, "/atlas/ssb_07459")).text
    assert BANNER not in real and "real capture of 2022-09-14" in real

    front = (await _get(ds, "/")).text
    nav_line = front[front.index('data-source="nav_aap"'):]
    nav_line = nav_line[:nav_line.index("</li>")]
    assert "sample: invented values" in nav_line and "no real data in this catalogue" in nav_line
    ssb_line = front[front.index('data-source="ssb_07459"'):]
    assert "real capture of 2022-09-14" in ssb_line[:ssb_line.index("</li>")]
    never = front[front.index('data-source="fhi_alkohol"'):]
    assert "no real data in this catalogue yet" in never[:never.index("</li>")]

    chart = (await _get(ds, "/-/atlas/chart?table=nav_aap&kind=ranking")).text
    assert BANNER in chart
    plain_map = (await _get(ds, "/-/atlas/map?table=nav_aap")).text
    assert 'value="nav_aap"' not in plain_map  # the map leaves samples out unless asked
    sample_map = (await _get(ds, "/-/atlas/map?table=nav_aap&samples=1")).text
    assert 'value="nav_aap" selected' in sample_map and BANNER in sample_map

    profile = await _get(ds, "/atlas/kommune_profile.json?kommune=0301&year=&_shape=objects")
    asked = await _get(ds, "/atlas/kommune_profile.json?kommune=0301&year=&samples=1&_shape=objects")
    assert "nav_aap" in {r["source"] for r in asked.json()["rows"]}
    sources = {r["source"] for r in profile.json()["rows"]}
    assert "ssb_07459" in sources and "nav_aap" not in sources
    page = (await _get(ds, "/atlas/kommune_profile?kommune=0301&year=")).text
    assert BANNER in page


def test_the_plan_update_and_scrapyd_share_leaves_samples_out_unless_asked(tmp_path):
    from datetime import UTC, datetime

    from atlas_crawl.run.plan import golden_folder, plan, source_spiders, watch_job, watch_skip
    from atlas_crawl.run.runner import project_settings

    spiders = source_spiders(project_settings())
    folder = golden_folder(GOLDEN)
    now = datetime.now(UTC)
    planned, skipped = plan(str(tmp_path / "none.db"), spiders, ["nav_aap", "ssb_07459"], now,
                            folder)
    assert [p.source_id for p in planned] == ["ssb_07459"]
    assert skipped == [("nav_aap", SAMPLE_SKIP)]
    assert watch_job(None, folder) is None and watch_skip(folder, False) == SAMPLE_SKIP
    planned, skipped = plan(str(tmp_path / "none.db"), spiders, ["nav_aap", "ssb_07459"], now,
                            folder, samples=True)
    assert [p.source_id for p in planned] == ["nav_aap", "ssb_07459"] and skipped == []
    assert watch_job(None, folder, samples=True).spider == "sitemap_watch"
    assert watch_skip(None, False) is None  # a live update has no samples to leave out
