"""publish() makes `<table>_today`, and the map shows it by default, with a way to the rows as
published. Real rows: SSB 07459's 2022 answer (golden/ssb_07459, on the Viken-era codes)."""

from __future__ import annotations

import sqlite3

import pytest
import pytest_twisted
import yaml
from conftest import datasette_get as _get
from conftest import golden_rows

from atlas_crawl.items import Batch, Provenance
from atlas_crawl.manifests import all_manifests
from atlas_crawl.pipelines.geography import GeographyPipeline
from atlas_crawl.publish import publish
from atlas_crawl.publish.site import PLUGINS_DIR, TEMPLATES_DIR
from atlas_crawl.store.writes import Store

SOURCE = "ssb_07459"


def placed_batch(rows: list[dict]) -> Batch:
    """The golden rows of 07459 as a stored batch would hold them, placed by the pipeline."""
    columns = ["region", "contentscode", "tid", "value", "status"]
    batch = Batch(SOURCE, columns, [tuple(r[c] for c in columns) for r in rows],
                  ["region", "contentscode", "tid"],
                  Provenance("https://example.test/07459", "a" * 64, "2022-09-14T00:00:00Z"),
                  types={"value": float})
    GeographyPipeline().process_item(batch)
    return batch


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    folder = tmp_path_factory.mktemp("today_map")
    db = folder / "atlas.db"
    rows = golden_rows(SOURCE, SOURCE)
    batch = placed_batch(rows)
    store = Store(db)
    run = store.start_run(SOURCE, {}, data_origin="capture", capture_date="2022-09-14")
    store.write_batch(batch, run)
    store.finish_run(run, status="ok", source_ids=[SOURCE], received=len(rows),
                     written=len(rows), quarantined=0, error=None)
    store.commit()
    store.close()
    manifests = {SOURCE: all_manifests()[SOURCE]}
    report = publish(db, folder / "metadata.yml", manifests=manifests)
    again = publish(db, folder / "metadata.yml", manifests=manifests)
    meta = yaml.safe_load((folder / "metadata.yml").read_text(encoding="utf-8"))
    return db, meta, report, again


def test_publish_makes_the_series_on_todays_borders(published):
    db, _, report, again = published
    assert report.today_views == again.today_views == [f"{SOURCE}_today"]
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(f"SELECT value, how, parts FROM {SOURCE}_today "
                           "WHERE code = '32' AND tid = '2022'").fetchone()
        assert row[0] == 701565 and row[1] == "computed" and row[2].startswith("3201+3203")
        n = conn.execute(f"SELECT count(*) FROM {SOURCE}_today WHERE level = 'kommune'").fetchone()
        assert n[0] == 357  # every today's kommune, 355 with a value and Ålesund/Haram without
    finally:
        conn.close()



@pytest_twisted.ensureDeferred
async def test_the_map_uses_todays_borders_and_links_to_the_rows_as_published(published):
    from datasette.app import Datasette

    db, meta, _, _ = published
    ds = Datasette([], immutables=[str(db)], metadata=meta, plugins_dir=str(PLUGINS_DIR),
                   template_dir=str(TEMPLATES_DIR))
    page = (await _get(ds, f"/-/atlas/map?table={SOURCE}&period=2022")).text
    assert "on today&#39;s borders" in page or "on today's borders" in page
    assert f"{SOURCE}_today" in page
    assert "split in 2024: Ålesund → Ålesund and Haram" in page
    assert "as_published=1" in page
    assert "355 of today" in page
    published_page = (await _get(ds, f"/-/atlas/map?table={SOURCE}&period=2022"
                                     "&as_published=1")).text
    assert "as published" in published_page and "as_published=0" in published_page
    assert "split in 2024" not in published_page


def test_rows_of_a_constructed_run_stay_out_of_the_series(tmp_path):
    """The same real rows, stored by a run of constructed data: the series leaves them out."""
    db = tmp_path / "atlas.db"
    batch = placed_batch(golden_rows(SOURCE, SOURCE)[:5])
    store = Store(db)
    run = store.start_run(SOURCE, {}, data_origin="constructed")
    store.write_batch(batch, run)
    store.commit()
    store.close()
    publish(db, tmp_path / "metadata.yml", manifests={SOURCE: all_manifests()[SOURCE]})
    conn = sqlite3.connect(db)
    try:
        assert conn.execute(f"SELECT count(*) FROM {SOURCE}").fetchone()[0] == 5
        assert conn.execute(f"SELECT count(*) FROM {SOURCE}_today").fetchone()[0] == 0
    finally:
        conn.close()
