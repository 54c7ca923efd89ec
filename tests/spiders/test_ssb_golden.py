"""The constructed PxWebApi v2 cassettes of the named SSB spiders (tools/build_ssb_golden.py):
each golden folder is what the generator writes, its expected rows hold exactly the values the
generator put in, and every named spider replays from golden/<spider>/ with no network."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import pytest_twisted

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats.jsonstat import column_name
from atlas_crawl.manifests import all_manifests
from atlas_crawl.run.golden import GOLDEN_DIR, crawl, crawl_settings, runs, table_rows
from atlas_crawl.spiders.ssb import table_selection

_spec = importlib.util.spec_from_file_location("build_ssb_golden",
                                               PROJECT_DIR / "tools" / "build_ssb_golden.py")
builder = sys.modules["build_ssb_golden"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(builder)

NAMED = sorted(m.source_id for m in all_manifests().values() if "pxweb" in m.extra)


# Named tables whose golden case is a real saved answer only (no constructed live path).
CAPTURE_ONLY = ["ssb_05803", "ssb_12134", "ssb_13760"]


def test_every_named_ssb_spider_has_a_constructed_case():
    assert sorted(set(NAMED) - set(CAPTURE_ONLY)) == sorted(f"ssb_{t}" for t in builder.CASES)
    assert len(NAMED) == 24 and set(CAPTURE_ONLY) <= set(NAMED)


@pytest.mark.parametrize("table_id", sorted(builder.CASES))
def test_the_cassette_is_what_the_generator_writes(table_id, tmp_path, monkeypatch):
    monkeypatch.setattr(builder, "GOLDEN", tmp_path)
    built = builder.build(table_id, builder.CASES[table_id])
    committed = GOLDEN_DIR / f"ssb_{table_id}"
    names = ["responses.json", *sorted(p.relative_to(built).as_posix()
                                       for p in built.glob("responses/*_constructed.json"))]
    assert sorted(p.relative_to(committed).as_posix()
                  for p in committed.glob("responses/*_constructed.json")) == names[1:]
    for name in names:
        assert (built / name).read_text("utf-8") == (committed / name).read_text("utf-8"), (
            f"{committed / name} differs from what tools/build_ssb_golden.py writes")


def stored(table_id: str, rows: list[dict]) -> dict[tuple[str, ...], tuple]:
    columns = [column_name(d.id) for d in builder.CASES[table_id].table.dimensions]
    return {tuple(r[c] for c in columns): (r["value"], r["status"]) for r in rows}


def assert_holds_the_constructed_values(table_id: str, cells: dict) -> None:
    table = builder.CASES[table_id].table
    truth = {codes: (None if v is None else float(v), s)
             for codes, (v, s) in table.all_cells().items()}
    assert {k: truth[k] for k in cells} == cells
    # the manifest's pxweb.selection narrows what is fetched (12451: Kjonn 0, two statistics)
    selection = table_selection(f"ssb_{table_id}")
    dims = [dim.id for dim in table.dimensions]
    wanted = {k for k in truth if all(k[dims.index(d)] in codes for d, codes in selection.items())}
    missing = wanted - set(cells)
    assert not missing, sorted(missing)[:5]
    kept = {s for k, (_, s) in truth.items() if s and k in cells}
    assert kept == {s for _, s in cells.values() if s}


@pytest.mark.parametrize("table_id", sorted(set(builder.CASES) - {"07459"}))
def test_expected_rows_hold_exactly_the_constructed_values(table_id):
    path = GOLDEN_DIR / f"ssb_{table_id}" / "expected" / f"ssb_{table_id}.jsonl"
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert_holds_the_constructed_values(table_id, stored(table_id, rows))


def test_a_few_constructed_cells_by_hand():
    def expected(table_id):
        path = GOLDEN_DIR / f"ssb_{table_id}" / "expected" / f"ssb_{table_id}.jsonl"
        return stored(table_id, [json.loads(x) for x in path.read_text("utf-8").splitlines()])

    assert expected("08764")[("9999", "EU50", "2024")] == (None, ".")
    assert expected("06913")[("0716u", "Folkemengde", "2025")] == (None, ".")
    assert expected("06913")[("0", "Levende", "2026")] == (None, "..")
    assert expected("13995")[("5001", "KOSsosgjantmnd0000", "2024")] == (4.7, "*")
    assert ("4699", "6", "Lovbrudd", "2023-2024") in expected("08487")
    assert {k[1] for k in expected("12944")} == {"00-17", "18-66"}
    assert {k[-1] for k in expected("12944")} == {"2020-2022", "2021-2023"}


@pytest_twisted.ensureDeferred
async def test_ssb_07459_replays_the_live_v2_path_from_its_golden_folder(tmp_path):
    """`scrapy crawl ssb_07459 -s ATLAS_REPLAY=1`: the folder's own cassette, no network; the
    folder's golden case (golden.json) covers the real v0 file."""
    db = tmp_path / "atlas.db"
    crawler = await crawl("ssb_07459", crawl_settings(db, ATLAS_GOLDEN_DIR=str(GOLDEN_DIR)))

    run = runs(db)[-1]
    assert run["status"] == "ok", run["error"]
    assert crawler.stats.get_value("atlas/replay/not_recorded") is None
    assert crawler.stats.get_value("atlas/replay/served") == 4  # config, metadata, 2 data calls
    assert crawler.stats.get_value("atlas/pxweb/planned_calls") == 2
    assert crawler.spider.limits.max_calls == 40  # from the x-ratelimit-policy header
    cells = stored("07459", table_rows(db, "ssb_07459"))
    assert len(cells) == 36
    assert_holds_the_constructed_values("07459", cells)


def test_golden_folders_exist_for_every_named_spider():
    for source_id in sorted(set(NAMED) - set(CAPTURE_ONLY)):
        folder = Path(GOLDEN_DIR / source_id)
        index = json.loads((folder / "responses.json").read_text("utf-8"))["responses"]
        urls = [r["url"] for r in index]
        table = source_id.removeprefix("ssb_")
        assert urls[0].endswith("/config")
        assert urls[1].endswith(f"/tables/{table}/metadata?lang=no")
        assert all(f"/tables/{table}/data?" in u for u in urls[2:]) and len(urls) > 2
        assert "constructed" in (folder / "README.md").read_text("utf-8").lower()
