"""Run monitors (spidermon) judge a run before it commits: a failed monitor rolls the run back
and keeps the previous data; `warn:` in the manifest only warns; results go to `_runs.monitors`."""

import json
import sqlite3
from pathlib import Path
from typing import ClassVar

import pytest
import pytest_twisted
import scrapy
from conftest import make_manifest

from atlas_crawl.manifests import (
    MANIFEST_DIR,
    ManifestError,
    all_manifests,
    load_manifest,
    register,
)
from atlas_crawl.manifests.monitors import DEFAULTS
from atlas_crawl.pipelines.monitors import (
    RunMeasures,
    TableChange,
    monitor_results,
    run_monitor_suite,
)
from atlas_crawl.publish.sources import source_rows
from atlas_crawl.run.golden import crawl, crawl_settings, runs
from atlas_crawl.spiders.base import AtlasSpider

UPSERT, REPLACE = "test_mon_upsert", "test_mon_replace"
COLUMNS, KEY = ["kommune", "year", "value"], ["kommune", "year"]
KOMMUNER = ["0301", "1103", "4601", "5001", "1806", "3403", "4204", "1508", "3105", "4012"]
TEN = [[k, "2025", float(n)] for n, k in enumerate(KOMMUNER)]


class MonitoredSpider(AtlasSpider):
    """Yields one batch of the rows in -a rows=PATH (a JSON list of rows) for -a source_id=,
    read like a live answer (file:// URL); -a file=PATH is the same as a saved-file run."""

    name = "test_mon_rows"
    source_id = UPSERT
    spider_args: ClassVar[dict[str, str]] = {
        **AtlasSpider.spider_args, "source_id": "the source the rows belong to",
        "rows": "PATH of a JSON list of rows"}

    def __init__(self, *args, source_id: str = UPSERT, rows: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.source_id = source_id
        self.rows = rows

    async def start_live(self):
        yield scrapy.Request(Path(self.rows).as_uri(), callback=self.parse_file)

    def parse_file(self, response):
        rows = [tuple(r) for r in json.loads(response.body)]
        if rows:
            yield from self.batches(response, COLUMNS, rows, KEY, types={"value": float})


def manifest(source_id: str, tmp: Path, **fields):
    return make_manifest(source_id, tmp, **fields)


@pytest.fixture
def sources(tmp_path):
    def make(monitors=None, **fields):
        extra = {"monitors": monitors} if monitors is not None else {}
        register(manifest(UPSERT, tmp_path, **extra, **fields))
        register(manifest(REPLACE, tmp_path, write_mode="replace", **extra, **fields))
    make()
    yield make
    all_manifests().pop(UPSERT, None)
    all_manifests().pop(REPLACE, None)


async def run(tmp_path: Path, rows, source_id=UPSERT, how="rows") -> dict:
    db = tmp_path / "atlas.db"
    path = tmp_path / f"rows_{len(runs(db)) if db.exists() else 0}.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    # The store's own guard against a replace run removing much of a partition
    # (ATLAS_MAX_SHRINK_SHARE) is lifted, so the run monitor is what judges a shrinking table.
    await crawl(MonitoredSpider, crawl_settings(db, replay=False, ATLAS_MAX_SHRINK_SHARE=1.0),
                source_id=source_id, **{how: str(path)})
    last = runs(tmp_path / "atlas.db")[-1]
    last["monitors"] = {m["name"]: m for m in json.loads(last["monitors"] or "[]")}
    return last


def table(tmp_path: Path, name: str) -> list[tuple]:
    conn = sqlite3.connect(tmp_path / "atlas.db")
    try:
        return conn.execute(f"SELECT kommune, year, value FROM {name} ORDER BY kommune").fetchall()
    finally:
        conn.close()


@pytest_twisted.ensureDeferred
async def test_a_table_that_shrinks_by_more_than_the_limit_fails_and_keeps_its_data(
        tmp_path, sources):
    first = await run(tmp_path, TEN, REPLACE)
    assert first["status"] == "ok"
    assert {m["outcome"] for m in first["monitors"].values()} == {"passed"}
    assert sorted(first["monitors"]) == sorted(["min_rows", "max_shrink", "max_changed",
                                                "finish_reason", "unwanted_http_codes",
                                                "max_quarantine_share"])
    before = table(tmp_path, REPLACE)

    shrunk = await run(tmp_path, TEN[:4], REPLACE)
    assert shrunk["status"] == "failed"
    assert shrunk["error"] == ("monitors failed: max_shrink: test_mon_replace shrank from 10 to "
                               "4 rows (60%, more than 40%)")
    assert shrunk["monitors"]["max_shrink"]["outcome"] == "failed"
    assert shrunk["monitors"]["min_rows"]["outcome"] == "passed"
    assert table(tmp_path, REPLACE) == before

    # Losing 3 of 10 rows is within the default limit.
    smaller = await run(tmp_path, TEN[:7], REPLACE)
    assert smaller["status"] == "ok" and len(table(tmp_path, REPLACE)) == 7


@pytest_twisted.ensureDeferred
async def test_warn_only_commits_and_records_the_warning(tmp_path, sources):
    sources({"warn": ["max_shrink"]})
    await run(tmp_path, TEN, REPLACE)
    shrunk = await run(tmp_path, TEN[:4], REPLACE)
    assert shrunk["status"] == "ok"
    assert shrunk["monitors"]["max_shrink"] == {
        "name": "max_shrink", "outcome": "warning",
        "detail": "test_mon_replace shrank from 10 to 4 rows (60%, more than 40%)"}
    assert len(table(tmp_path, REPLACE)) == 4
    # What `status` shows: the monitor results of every run, or of one.
    every = monitor_results(str(tmp_path / "atlas.db"))
    assert len(every) == 2
    one = monitor_results(str(tmp_path / "atlas.db"), shrunk["run_id"])
    assert [m for m in one[shrunk["run_id"]] if m["outcome"] != "passed"] == [
        shrunk["monitors"]["max_shrink"]]
    # And the catalogue's `sources` table.
    conn = sqlite3.connect(tmp_path / "atlas.db")
    row, = source_rows(conn, {REPLACE: all_manifests()[REPLACE]}, {})
    assert row["last_run_monitors"] == (
        "max_shrink warning: test_mon_replace shrank from 10 to 4 rows (60%, more than 40%)")


@pytest_twisted.ensureDeferred
async def test_a_table_whose_values_all_change_fails(tmp_path, sources):
    await run(tmp_path, TEN)
    before = table(tmp_path, UPSERT)
    # A new release that revises one value in ten: fine.
    revised = [list(r) for r in TEN]
    revised[0][2] = 99.0
    ok = await run(tmp_path, revised)
    assert ok["status"] == "ok" and ok["rows_written"] == 1
    before = table(tmp_path, UPSERT)
    # Every value different (a unit change upstream, a shifted column): suspicious.
    shifted = [[k, y, v + 1000] for k, y, v in TEN]
    bad = await run(tmp_path, shifted)
    assert bad["status"] == "failed"
    assert bad["monitors"]["max_changed"]["detail"] == (
        "test_mon_upsert: values of 10 of 10 existing rows with a value changed (100%, "
        "more than 90%)")
    assert table(tmp_path, UPSERT) == before
    # New rows are not changes: a run that adds a year passes.
    grown = await run(tmp_path, TEN + [[k, "2026", 1.0] for k in KOMMUNER])
    assert grown["status"] == "ok" and grown["monitors"]["max_changed"]["outcome"] == "passed"


@pytest_twisted.ensureDeferred
async def test_a_run_that_delivers_nothing_fails_unless_the_manifest_allows_it(tmp_path,
                                                                               sources):
    empty = await run(tmp_path, [])
    assert empty["status"] == "failed"
    assert empty["error"] == ("monitors failed: min_rows: test_mon_upsert delivered 0 rows, "
                              "expected at least 1")
    # One saved file is stored as it is (an empty API page is a valid answer).
    saved = await run(tmp_path, [], how="file")
    assert saved["status"] == "ok"
    assert saved["monitors"]["min_rows"]["outcome"] == "skipped"
    sources({"min_rows": 0})
    allowed = await run(tmp_path, [])
    assert allowed["status"] == "ok" and allowed["monitors"]["min_rows"]["outcome"] == "passed"


@pytest_twisted.ensureDeferred
async def test_a_quarantine_explosion_fails(tmp_path, sources):
    sources(places=[{"column": "kommune", "level": "kommune"}])
    rows = TEN[:2] + [[f"Atlantis {n}", "2025", 1.0] for n in range(12)]
    bad = await run(tmp_path, rows)
    assert bad["status"] == "failed"
    assert bad["rows_quarantined"] == 12
    assert bad["monitors"]["max_quarantine_share"]["detail"] == (
        "12 of 14 rows quarantined (86%, more than 10%)")
    # A few unplaceable rows (at most min_quarantine_rows) are normal.
    few = await run(tmp_path, TEN + rows[2:5])
    assert few["status"] == "ok" and few["rows_quarantined"] == 3


def _suite(stats):
    measures = RunMeasures(rows_by_source={UPSERT: 5},
                           tables={UPSERT: TableChange(UPSERT, before=5, after=5)})
    return {r["name"]: r for r in run_monitor_suite(
        {"finish_reason": "finished", **stats}, measures, UPSERT, 5, 0)}


def test_unwanted_http_answers_and_an_unfinished_crawl_fail(tmp_path, sources):
    results = _suite({"downloader/response_status_count/503": 4,
                         "downloader/response_status_count/429": 2,
                         "downloader/response_status_count/404": 9})
    assert results["unwanted_http_codes"]["outcome"] == "failed"
    assert results["unwanted_http_codes"]["detail"] == (
        "6 unwanted HTTP answers (2x 429, 4x 503), more than 5")
    results = _suite({"finish_reason": "shutdown"})
    assert results["finish_reason"] == {
        "name": "finish_reason", "outcome": "failed",
        "detail": "finished with 'shutdown', expected one of ['finished']"}
    assert results["unwanted_http_codes"]["outcome"] == "passed"
    sources({"unwanted_http_codes": [404], "max_unwanted_responses": 0})
    results = _suite({"downloader/response_status_count/404": 1})
    assert results["unwanted_http_codes"]["detail"] == (
        "1 unwanted HTTP answers (1x 404), more than 0")


@pytest.mark.parametrize(("block", "message"), [
    ({"max_shrink": 2}, "'monitors.max_shrink': 2 must be a share between 0 and 1"),
    ({"min_rows": -1}, "'monitors.min_rows': -1 must be a whole number >= 0"),
    ({"max_rows": 5}, "'monitors': unknown keys ['max_rows']"),
    ({"warn": ["nope"]}, "'monitors.warn': ['nope'] must be 'all' or a list of"),
    ("strict", "'monitors': must be a mapping"),
])
def test_a_bad_monitors_block_names_the_file_and_field(tmp_path, block, message):
    with pytest.raises(ManifestError) as err:
        manifest("test_mon_bad", tmp_path, monitors=block)
    assert str(err.value).startswith(f"{tmp_path / 'test_mon_bad.yml'}: field ")
    assert message in str(err.value)


def test_every_shipped_manifest_has_monitor_thresholds():
    shipped = {p.stem: load_manifest(p) for p in MANIFEST_DIR.glob("*.yml")}
    assert len(shipped) > 30
    for m in shipped.values():
        assert m.monitors["min_rows"] >= 0 and 0 <= m.monitors["max_shrink"] <= 1
    assert shipped["nav_aap"].monitors == DEFAULTS
    assert shipped["brreg_oppdateringer"].monitors == {**DEFAULTS, "min_rows": 0,
                                                       "max_changed": 1.0}
