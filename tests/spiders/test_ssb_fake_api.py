"""The SSB spider against a local PxWebApi v2 (tests/fakes/pxweb_server.py) that enforces a cell
limit and a call limit per time window, as data.ssb.no does. Windows are 1 s so the tests are
fast; the spider's pace (timeWindow / maxCalls) is what keeps them free of 429s."""

from __future__ import annotations

import logging

import pytest
import pytest_twisted
from fakes.pxweb_server import FakePxWebApi
from fakes.pxweb_tables import FakeDimension, FakeTable, problem

from atlas_crawl.formats import pxweb
from atlas_crawl.run.golden import crawl, crawl_settings, runs, table_rows

REGIONS = [("0", "Hele landet"), ("03", "Oslo"), ("0301", "Oslo"), ("1103", "Stavanger"),
           ("4601", "Bergen"), ("5001", "Trondheim - Tråante"), ("0716u", "Re (-2019)")]
YEARS = [str(y) for y in range(2015, 2027)]


def population_table(table_id: str = "99001", years: list[str] = YEARS) -> FakeTable:
    """7 regions x 2 statistics x 12 years = 168 cells, a few of them suppressed."""
    return FakeTable(
        table_id=table_id, label=f"{table_id}: Befolkning (konstruert)",
        dimensions=[
            FakeDimension("Region", "region", REGIONS, elimination=True),
            FakeDimension("ContentsCode", "statistikkvariabel",
                          [("Personer1", "Personer"), ("Andel", "Andel (prosent)")],
                          units={"Personer1": ("personer", 0), "Andel": ("prosent", 1)}),
            FakeDimension("Tid", "år", [(y, y) for y in years]),
        ],
        status={("0716u", "Personer1", "2026"): (None, ".."),
                ("0716u", "Andel", "2026"): (None, ".."),
                ("5001", "Andel", "2021"): (None, ":"),
                ("03", "Personer1", "2022"): (None, ".")},
    )


def stored_cells(db, table: str) -> dict[tuple[str, ...], tuple]:
    return {(r["region"], r["contentscode"], r["tid"]): (r["value"], r["status"])
            for r in table_rows(db, table)}


def expected_cells(table: FakeTable) -> dict[tuple[str, ...], tuple]:
    return {codes: (None if v is None else float(v), s) for codes, (v, s) in
            table.all_cells().items()}


async def crawl_fake(api: FakePxWebApi, db, table_id: str, **args):
    settings = crawl_settings(db, replay=False, ROBOTSTXT_OBEY=True, ATLAS_RETRY_BACKOFF_BASE=0.1)
    # Before /config is read the spider keeps SSB's documented pace (2 s). Here, as `-s` would,
    # the first calls go out much faster than the fake allows: only the pace the spider takes
    # from /config or the rate-limit header keeps the later calls free of 429s.
    settings.set("DOWNLOAD_DELAY", 0.05, priority="cmdline")
    return await crawl("ssb_table", settings, table=table_id, base_url=api.base_url, **args)


@pytest.mark.parametrize("limits_from", ["config", "header"])
@pytest_twisted.ensureDeferred
async def test_table_over_the_cell_limit_is_fetched_whole_in_the_planned_calls_without_429(
        tmp_path, limits_from):
    table = population_table()
    if limits_from == "config":
        api = FakePxWebApi([table], max_cells=40, max_calls=5, window=1.0)
    else:  # SSB since 2026-08: /config says 0 (not in use), the header carries the limit
        api = FakePxWebApi([table], max_cells=40, max_calls=5, window=1.0,
                           config_max_calls=0, config_window=0, policy_header="5;w=1s")
    db = tmp_path / "atlas.db"
    with api:
        crawler = await crawl_fake(api, db, "99001")

    assert runs(db)[-1]["status"] == "ok", runs(db)[-1]["error"]
    # 12 years x 14 cells: 2 years (28 cells) per call under the 40-cell limit -> 6 calls.
    meta = pxweb.parse_metadata(table.metadata())
    assert len(pxweb.plan(meta, 40)) == 6
    assert crawler.stats.get_value("atlas/pxweb/planned_calls") == 6
    assert len(api.data_calls()) == 6
    assert [c.cells for c in api.data_calls()] == [28] * 6
    assert 429 not in api.statuses() and 403 not in api.statuses()
    assert [c.path.split("?")[0].rsplit("/", 1)[-1] for c in api.calls[:2]] == [
        "config", "metadata"]
    # Every year was asked for exactly once, with every other dimension selected explicitly.
    years = [y for c in api.data_calls() for y in c.selection["Tid"]]
    assert sorted(years) == YEARS
    assert all(len(c.selection["Region"]) == 7 for c in api.data_calls())
    assert all("valueCodes[Region]=*" in c.path.replace("%5B", "[").replace("%5D", "]")
               for c in api.data_calls())

    cells = stored_cells(db, "ssb_99001")
    assert cells == expected_cells(table)
    assert cells[("0716u", "Personer1", "2026")] == (None, "..")
    assert cells[("5001", "Andel", "2021")] == (None, ":")
    assert cells[("0301", "Personer1", "2020")] == (float(table.value_of(
        ("0301", "Personer1", "2020"))), None)

    spider = crawler.spider
    assert (spider.limits.max_calls, spider.limits.time_window) == (5, 1.0)
    assert spider.limits.source == ("/config" if limits_from == "config" else "x-ratelimit-policy")
    slot = crawler.engine.downloader.slots["127.0.0.1"]
    assert slot.delay == pytest.approx(0.2 * pxweb.PACING_MARGIN)


@pytest_twisted.ensureDeferred
async def test_a_429_is_waited_out_for_retry_after_and_retried(tmp_path, caplog):
    table = population_table()
    api = FakePxWebApi([table], max_cells=40, max_calls=5, window=1.0)
    api.force_next_data_response(
        429, problem(429, "Too Many Requests", "Rate limit exceeded: slow down (constructed)"),
        {"Retry-After": "1"})
    db = tmp_path / "atlas.db"
    with api, caplog.at_level(logging.WARNING):
        crawler = await crawl_fake(api, db, "99001")

    assert runs(db)[-1]["status"] == "ok", runs(db)[-1]["error"]
    data = api.data_calls()
    assert [c.status for c in data].count(429) == 1
    refused = next(c for c in data if c.status == 429)
    retried = next(c for c in data if c.at > refused.at and c.path == refused.path)
    assert retried.status == 200
    # Retry-After: 1 paused the whole host: no call at all reached it for that second.
    after = [c for c in api.calls if c.at > refused.at]
    assert after[0].at - refused.at >= 0.95
    assert len(after) == 6  # the 5 calls not yet made, then the retry
    assert crawler.stats.get_value("atlas/retry_wait/429") == 1
    assert "slow down (constructed)" in caplog.text
    assert stored_cells(db, "ssb_99001") == expected_cells(table)


@pytest_twisted.ensureDeferred
async def test_too_many_cells_is_split_until_it_fits_and_nothing_is_missing(tmp_path, caplog):
    table = population_table(years=YEARS[-6:])  # 84 cells
    # /config claims 40 cells per call; the server refuses more than 20.
    api = FakePxWebApi([table], max_cells=20, config_max_cells=40, max_calls=5, window=1.0)
    db = tmp_path / "atlas.db"
    with api, caplog.at_level(logging.WARNING):
        crawler = await crawl_fake(api, db, "99001")

    assert runs(db)[-1]["status"] == "ok", runs(db)[-1]["error"]
    assert len(api.data_calls(403)) == 3  # each planned 28-cell call is refused once
    ok = api.data_calls(200)
    assert [c.cells for c in ok] == [14] * 6  # ... and fetched as two single-year calls
    assert sum(c.cells for c in ok) == table.cells  # no cell fetched twice
    assert 429 not in api.statuses()
    assert crawler.stats.get_value("atlas/pxweb/split_calls") == 3
    assert "Too many cells selected: 28 cells, at most 20 allowed" in caplog.text
    assert stored_cells(db, "ssb_99001") == expected_cells(table)


@pytest_twisted.ensureDeferred
async def test_a_selection_too_long_for_a_url_is_posted(tmp_path):
    # Like 10501 (first names): composite codes, 1 = girl, 2 = boy, and no geography.
    names = [(f"{sex}NAME{n:04d}", f"Name {n}") for sex in (1, 2) for n in range(450)]
    table = FakeTable(
        table_id="99002", label="99002: Fornavn (konstruert)",
        dimensions=[FakeDimension("Fornavn", "fornavn", names, elimination=True),
                    FakeDimension("ContentsCode", "statistikkvariabel", [("Personer", "Personer")],
                                  units={"Personer": ("personer", 0)}),
                    FakeDimension("Tid", "år", [("2026", "2026")])],
    )
    api = FakePxWebApi([table], max_cells=500, max_calls=5, window=1.0)
    db = tmp_path / "atlas.db"
    with api:
        await crawl_fake(api, db, "99002")

    assert runs(db)[-1]["status"] == "ok", runs(db)[-1]["error"]
    data = api.data_calls()
    # 900 names in two calls of 450; 450 codes of 9 characters do not fit in a 2,000-char URL.
    assert [(c.method, c.status, c.cells) for c in data] == [("POST", 200, 450)] * 2
    assert all(len(c.path) < pxweb.MAX_URL_LENGTH for c in api.calls)
    rows = table_rows(db, "ssb_99002")
    assert {r["fornavn"]: r["value"] for r in rows} == {
        code: float(table.value_of((code, "Personer", "2026"))) for code, _ in names}


@pytest_twisted.ensureDeferred
async def test_a_refusal_that_splitting_cannot_fix_fails_the_run_with_the_detail(tmp_path):
    api = FakePxWebApi([population_table()], max_calls=5, window=1.0)
    db = tmp_path / "atlas.db"
    with api:
        await crawl_fake(api, db, "99009")  # no such table

    run = runs(db)[-1]
    assert run["status"] == "failed"
    assert "HTTP 404" in run["error"] and "Non-existent table" in run["error"]
