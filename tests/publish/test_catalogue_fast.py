"""What keeps the catalogue fast on large tables: precomputed row counts and facet counts that
give the same answers Datasette would compute, label lookups in canned queries, serve settings.
(The timings themselves are in benchmarks/catalogue_latency.py, never asserted here.)"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
from itertools import product
from pathlib import Path

import pytest
import pytest_twisted
import yaml
from conftest import datasette_get as _get
from conftest import query

from atlas_crawl.items import Batch, Provenance
from atlas_crawl.manifests import parse_manifest
from atlas_crawl.publish import fast, profile, publish
from atlas_crawl.run.cli import PLUGINS_DIR, serve_command
from atlas_crawl.store.writes import Store

SOURCE = "ssb_88888"
BASE = {
    "upstream_id": "88888", "upstream_url": "https://example.test/api",
    "publisher": "Testbyrå", "license": "CC BY 4.0",
    "license_url": "https://creativecommons.org/licenses/by/4.0/", "eu_theme": "SOCI",
    "methodology_version": "1", "presentation_policy": "standard", "periodicity": "P1Y",
    "tags": {"provider": "ssb", "topic": "demographics", "geo": "kommune", "cadence": "annual"},
    "source_id": SOURCE, "upstream_title": "Constructed population table",
    "description": "Constructed for the test.", "attribution": "test",
    "dimensions": [{"code": "Region", "meaning": "Region"}, {"code": "Kjonn", "meaning": "Kjønn"},
                   {"code": "ContentsCode", "meaning": "Statistikkvariabel"},
                   {"code": "Tid", "meaning": "År"}],
    "places": [{"column": "region", "level": "kommune"}],
}
REGIONS = ["0301", "1103", "4601", "5001"]
YEARS = ["2023", "2024", "2025"]
QUERIES = {"population": {"title": "Population", "description": "Test.",
                          "sources": [{"table": SOURCE}]}}


def cells():
    for n, (region, sex, year) in enumerate(product(REGIONS, ("1", "2"), YEARS)):
        status = ".." if n % 7 == 0 else None
        yield (region, sex, "Personer1", year, None if status else float(100 + n), status)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fast")
    db = folder / "atlas.db"
    store = Store(db)
    run = store.start_run(SOURCE, {})
    prov = Provenance("https://example.test/api/data", "a" * 64, "2026-01-01T00:00:00Z")
    dims = {"kjonn": [("1", "Menn"), ("2", "Kvinner")],
            "contentscode": [("Personer1", "Personer", "personer", 0, "2026-01-01")]}
    for column, rows in dims.items():
        columns = ["code", "label"] + (["unit", "decimals", "updated"] if len(rows[0]) > 2 else [])
        store.write_batch(Batch(SOURCE, columns, rows, ["code"], prov,
                                table=f"{SOURCE}__{column}"), run)
    columns = ["region", "kjonn", "contentscode", "tid", "value", "status", "region_canonical",
               "region_current", "region_level", "region_geo_status"]
    rows = [c[:6] + (c[0], c[0], "kommune", "exact") for c in cells()]
    store.write_batch(Batch(SOURCE, columns, rows, ["region", "kjonn", "contentscode", "tid"],
                            prov, types={"value": float},
                            references={c: f"{SOURCE}__{c}" for c in dims}), run)
    store.commit()
    store.close()
    # This small table is "large" here, so its facets are chosen and counted as a big one's.
    mp = pytest.MonkeyPatch()
    mp.setattr(profile, "LARGE_TABLE_ROWS", 10)
    mp.setattr(fast, "LARGE_TABLE_ROWS", 10)
    try:
        report = publish(db, folder / "metadata.yml",
                         manifests={SOURCE: parse_manifest(Path(f"{SOURCE}.yml"),
                                                           copy.deepcopy(BASE))},
                         query_specs=QUERIES)
    finally:
        mp.undo()
    meta = yaml.safe_load((folder / "metadata.yml").read_text(encoding="utf-8"))
    return folder, db, report, meta



def test_a_large_table_facets_on_key_columns_only(published):
    _, _, _, meta = published
    # status and region_level are not key columns: a filtered page would read every row
    assert meta["databases"]["atlas"]["tables"][SOURCE]["facets"] == ["tid", "kjonn",
                                                                      "contentscode"]


def test_facet_counts_are_the_counts_of_the_rows(published):
    _, db, report, _ = published
    assert report.facet_counts == 3 + 3 * 3
    stored = query(db, "SELECT value, count FROM _facet_counts WHERE table_name = ? AND "
                       "filter_column = '' AND column_name = 'kjonn' ORDER BY value", SOURCE)
    assert stored == [("1", 12), ("2", 12)]
    # under a click on tid=2024: 4 regions x 2 sexes, 4 of each sex
    assert query(db, "SELECT value, count FROM _facet_counts WHERE table_name = ? AND "
                     "filter_column = 'tid' AND filter_value = '2024' AND column_name = 'kjonn' "
                     "ORDER BY value", SOURCE) == [("1", 4), ("2", 4)]
    for column in ("tid", "kjonn", "contentscode"):
        for other in ("", "tid", "kjonn", "contentscode"):
            live = query(db, f"SELECT {other or chr(39) * 2}, {column}, count(*) FROM {SOURCE} "
                             f"GROUP BY 1, 2 ORDER BY 1, 2")
            assert query(db, "SELECT filter_value, value, count FROM _facet_counts WHERE "
                             "table_name = ? AND filter_column = ? AND column_name = ? "
                             "ORDER BY 1, 2", SOURCE, other, column) == live


def test_the_inspect_file_holds_every_row_count(published):
    folder, _, report, _ = published
    assert report.inspect_path == folder / "atlas.inspect.json"
    data = json.loads(report.inspect_path.read_text(encoding="utf-8"))
    tables = data["atlas"]["tables"]
    assert tables[SOURCE] == {"count": 24}
    assert tables[f"{SOURCE}__kjonn"] == {"count": 2}
    assert data["atlas"]["file"] == "atlas.db"


def test_serve_uses_the_inspect_file_only_while_it_is_newer_than_the_database(published):
    folder, db, _, _ = published
    command = serve_command(str(db), str(folder / "metadata.yml"), 8001)
    settings = dict(zip(command[command.index("--setting") + 1::3],
                        command[command.index("--setting") + 2::3]))
    assert settings["suggest_facets"] == "off"
    assert command[command.index("--inspect-file") + 1] == str(folder / "atlas.inspect.json")
    assert command[command.index("--plugins-dir") + 1] == str(PLUGINS_DIR)
    inspect = folder / "atlas.inspect.json"
    stamp = inspect.stat().st_mtime
    try:
        os.utime(inspect, (stamp - 3600, stamp - 3600))  # a crawl wrote after the publish
        assert "--inspect-file" not in serve_command(str(db), str(folder / "metadata.yml"), 1)
    finally:
        os.utime(inspect, (stamp, stamp))


def as_if_large(db: Path, folder: Path) -> Path:
    """A copy of the published database whose statistics (sqlite_stat1, which the planner
    reads) are those publish wrote for the benchmark's 12.4-million-row table of this shape:
    41 periods, 357 kommuner, 848 rows per kommune and period."""
    large = folder / "large.db"
    large.write_bytes(db.read_bytes())
    conn = sqlite3.connect(large)
    conn.execute("UPDATE sqlite_stat1 SET stat = '12412176 34768 17384 17384 1' "
                 "WHERE tbl = ? AND idx = ?", (SOURCE, SOURCE))
    conn.execute("UPDATE sqlite_stat1 SET stat = '12412176 302736 848' WHERE tbl = ? AND idx = ?",
                 (SOURCE, f"idx_{SOURCE}_tid_region_current"))
    assert conn.total_changes == 2
    conn.commit()
    conn.close()
    return large


def test_canned_query_shows_labels_and_units_from_the_dimension_tables(published, tmp_path):
    _, db, _, meta = published
    sql = meta["databases"]["atlas"]["queries"]["population"]["sql"]
    # codes, not names, in the place column: no name match that would scan every row
    assert "lower(trim(t.\"region\"))" not in sql
    plans = {}
    for size, path in (("small", db), ("large", as_if_large(db, tmp_path))):
        conn = sqlite3.connect(path)
        try:
            rows = conn.execute(sql, {"kommune": "1103", "year": "2024", "samples": ""}).fetchall()
            for year in ("2024", ""):
                plans[size, year] = " ".join(r[3] for r in conn.execute(
                    "EXPLAIN QUERY PLAN " + sql, {"kommune": "1103", "year": year, "samples": ""}))
        finally:
            conn.close()
        # (kommune, indicator, value, unit, status): labels and unit from the dimension tables
        assert [(r[2], r[8], r[9], r[10], r[11]) for r in rows] == [
            ("1103", "Kvinner · Personer", 110.0, "personer", None),
            ("1103", "Menn · Personer", None, "personer", "..")]
    # On a table of millions of rows the kommune's rows are found, not scanned for: by the
    # code valid then through the key (region leads it), by today's code through the index on
    # the period and today's code, one seek per period (a skip-scan without a year).
    for year in ("2024", ""):
        plan = plans["large", year]
        assert "SCAN t" not in plan, plan
        assert "SEARCH t USING PRIMARY KEY (region=?)" in plan, plan
    assert f"SEARCH t USING INDEX idx_{SOURCE}_tid_region_current (tid=? AND region_current=?)" \
        in plans["large", "2024"]
    assert f"idx_{SOURCE}_tid_region_current (ANY(tid) AND region_current=?)" \
        in plans["large", ""]


def test_the_picture_leaves_rows_of_a_sample_run_out_unless_asked(published, tmp_path):
    _, db, _, meta = published
    sql = meta["databases"]["atlas"]["queries"]["population"]["sql"]
    sample = tmp_path / "sample.db"
    sample.write_bytes(db.read_bytes())
    conn = sqlite3.connect(sample)
    try:
        conn.execute("UPDATE _runs SET data_origin = 'constructed'")
        conn.commit()
        asked = {"kommune": "1103", "year": "2024"}
        left_out = conn.execute(sql, {**asked, "samples": ""}).fetchall()
        shown = conn.execute(sql, {**asked, "samples": "yes"}).fetchall()
    finally:
        conn.close()
    assert left_out == []
    assert [(r[2], r[8], r[9], r[11]) for r in shown] == [
        ("1103", "Kvinner · Personer", 110.0, None), ("1103", "Menn · Personer", None, "..")]



@pytest_twisted.ensureDeferred
async def test_datasette_shows_the_precomputed_facets(published):
    from datasette.app import Datasette

    _, db, _, meta = published
    ds = Datasette([], immutables=[str(db)], metadata=meta, plugins_dir=str(PLUGINS_DIR),
                   settings={"suggest_facets": False})
    unfiltered = (await _get(ds, f"/atlas/{SOURCE}.json")).json()
    facets = unfiltered["facet_results"]
    assert [(r["value"], r["label"], r["count"]) for r in facets["kjonn"]["results"]] == [
        ("1", "Menn", 12), ("2", "Kvinner", 12)]
    assert [(r["value"], r["count"]) for r in facets["tid"]["results"]] == [
        ("2023", 8), ("2024", 8), ("2025", 8)]
    clicked = (await _get(ds, f"/atlas/{SOURCE}.json?tid=2024")).json()["facet_results"]
    assert [(r["value"], r["count"], r["selected"]) for r in clicked["tid"]["results"]] == [
        ("2024", 8, True)]
    assert [(r["value"], r["count"]) for r in clicked["kjonn"]["results"]] == [("1", 4), ("2", 4)]
    # Two filters: counted live, and the same numbers
    both = (await _get(ds, f"/atlas/{SOURCE}.json?tid=2024&kjonn=2")).json()["facet_results"]
    assert [(r["value"], r["count"]) for r in both["kjonn"]["results"]] == [("2", 4)]

    # Marked stored counts show where the page's numbers come from.
    conn = sqlite3.connect(db)
    conn.execute("UPDATE _facet_counts SET count = count + 1000")
    conn.commit()
    conn.close()
    ds = Datasette([], immutables=[str(db)], metadata=meta, plugins_dir=str(PLUGINS_DIR))
    try:
        marked = (await _get(ds, f"/atlas/{SOURCE}.json")).json()["facet_results"]
        assert marked["kjonn"]["results"][0]["count"] == 1012
        live = (await _get(ds, f"/atlas/{SOURCE}.json?tid=2024&kjonn=2")).json()
        assert live["facet_results"]["kjonn"]["results"][0]["count"] == 4
    finally:
        conn = sqlite3.connect(db)
        conn.execute("UPDATE _facet_counts SET count = count - 1000")
        conn.commit()
        conn.close()
