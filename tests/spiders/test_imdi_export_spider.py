"""The IMDi export spiders, one per manifest with an `imdi_export` block, crawling the real
exports of tests/data/imdi_integrering/: the 29-year population series in one run on each year's
kommune codes, several years and both geographies of a kind, and refusals in one line."""

from __future__ import annotations

import io
import sqlite3
import zipfile

import pytest_twisted
from scrapy.utils.spider import iter_spider_classes

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import imdi_export as ie
from atlas_crawl.manifests import all_manifests
from atlas_crawl.run.golden import crawl, crawl_settings, runs
from atlas_crawl.spiders import imdi_export as spiders

DATA = PROJECT_DIR / "tests" / "data" / "imdi_integrering"


def _query(db, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _zip(tmp_path, name: str, paths) -> str:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        for path in paths:
            archive.writestr(path.name, path.read_bytes())
    out = tmp_path / name
    out.write_bytes(raw.getvalue())
    return str(out)


def test_one_spider_per_manifest_each_with_real_exports_and_a_golden_case():
    named = {m.source_id: m for m in all_manifests().values() if "imdi_export" in m.extra}
    classes = {cls.name: cls for cls in iter_spider_classes(spiders)}
    assert len(named) == 38 and set(classes) == set(named)
    data_kinds = {ie.parse_name(p.name).kind for p in DATA.glob("*/*.csv")}
    data_kinds |= {"01-befolkning_hovedgruppe", "05-befolkning_innvandringsgrunn"}
    for source_id, cls in classes.items():
        assert cls.kinds == tuple(named[source_id].extra["imdi_export"]["kinds"])
        assert set(cls.kinds) <= data_kinds, source_id
        assert (PROJECT_DIR / "golden" / source_id / "golden.json").is_file()
    series = classes["imdi_befolkning_hovedgruppe"]
    assert (series.units, series.drop_empty_places, series.value_type) == (("personer",), True, int)
    value = next(d for d in named["imdi_befolkning_hovedgruppe"].dimensions if d.code == "value")
    assert "additive" in value.notes.lower()
    # only the persons-only series adds up over kommuner; the others mix persons and shares
    assert [s for s, m in named.items() if m.extra.get("additive")] == [
        "imdi_befolkning_hovedgruppe"]


@pytest_twisted.ensureDeferred
async def test_population_1987_2015_lands_in_one_table_on_each_years_codes(tmp_path):
    db = tmp_path / "atlas.db"
    await crawl("imdi_befolkning_hovedgruppe",
                crawl_settings(db, replay=False, ATLAS_RAW_DIR=""),
                file=str(DATA / "befolkning_1986_2015.zip"))
    run = runs(db)[-1]
    assert run["status"] == "ok", run["error"]
    years = _query(db, "SELECT MIN(year), MAX(year), COUNT(DISTINCT year) "
                       "FROM imdi_befolkning_hovedgruppe")
    assert years == [(1987, 2015, 29)]
    assert _query(db, "SELECT DISTINCT enhet FROM imdi_befolkning_hovedgruppe") == [("personer",)]
    total = ("SELECT year, region, value, region_current, region_geo_status "
             "FROM imdi_befolkning_hovedgruppe WHERE variabel='innvkat_5.alle' "
             "AND nedbrytning='kjonn.alle' AND region IN ('0101','1001','1017','1018') "
             "AND year IN (1987, 2015) ORDER BY year, region")
    assert _query(db, total) == [
        (1987, "0101", 25807, "3101", "renamed"),
        (1987, "1001", 63314, "4204", "merged"),
        (1987, "1017", 4879, "4204", "merged"),
        (1987, "1018", 7028, "4204", "merged"),
        (2015, "0101", 30328, "3101", "renamed"),
        (2015, "1001", 87446, "4204", "merged"),
        (2015, "1017", 6354, "4204", "merged"),
        (2015, "1018", 11217, "4204", "merged"),
    ]
    # 0105 Sarpsborg, made in 1992: IMDi lists it with 0 persons before; not a place then
    assert _query(db, "SELECT MIN(year) FROM imdi_befolkning_hovedgruppe "
                      "WHERE region='0105'") == [(1992,)]
    # additive: women and men make the total in every kommune and year, except 28 small counts
    # of Norwegian-born to immigrant parents, which are 3 off (small numbers are perturbed)
    assert _query(db, """
        SELECT variabel, gap, COUNT(*) FROM (
          SELECT year, region, variabel,
                 SUM(CASE WHEN nedbrytning = 'kjonn.alle' THEN value ELSE -value END) AS gap
          FROM imdi_befolkning_hovedgruppe GROUP BY year, region, variabel)
        WHERE gap != 0 GROUP BY 1, 2""") == [("innvkat_5.norskfodte_m_innvf", -3, 28)]


@pytest_twisted.ensureDeferred
async def test_years_and_geographies_of_a_kind_sit_side_by_side(tmp_path):
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="")
    kommune = sorted(DATA.glob("kommune/09_1-bosatt_anmodede-kommune-*.csv"))
    await crawl("imdi_bosatt_anmodede", settings,
                file=_zip(tmp_path, "anmodede.zip", kommune))
    assert runs(db)[-1]["status"] == "ok"
    # a later run of the bydel export alone replaces only what it delivers (periode, inndeling)
    await crawl("imdi_bosatt_anmodede", settings,
                file=str(DATA / "bydel" / "09_1-bosatt_anmodede-bydel-2014.csv"))
    assert runs(db)[-1]["status"] == "ok"
    assert _query(db, "SELECT periode, inndeling, COUNT(*) FROM imdi_bosatt_anmodede "
                      "GROUP BY 1, 2 ORDER BY 1, 2") == [
        ("2012", "kommune", 2568), ("2013", "kommune", 2568), ("2014", "bydel", 114),
        ("2014", "kommune", 2568)]
    assert _query(db, "SELECT periode, value, region_level FROM imdi_bosatt_anmodede "
                      "WHERE region='0101' AND variabel='bosetting.bosatt' AND enhet='personer' "
                      "ORDER BY periode") == [("2012", 6.0, "kommune"), ("2013", 10.0, "kommune"),
                                              ("2014", 22.0, "kommune")]
    assert _query(db, "SELECT region_level, region_geo_status FROM imdi_bosatt_anmodede "
                      "WHERE region='030101' LIMIT 1") == [("bydel", "exact")]


@pytest_twisted.ensureDeferred
async def test_a_pooled_period_keeps_its_own_rows(tmp_path):
    db = tmp_path / "atlas.db"
    files = sorted(DATA.glob("kommune/34-videregaende_fullfort-kommune-*.csv"))
    await crawl("imdi_videregaende_fullfort", crawl_settings(db, replay=False, ATLAS_RAW_DIR=""),
                file=_zip(tmp_path, "fullfort.zip", files))
    assert runs(db)[-1]["status"] == "ok"
    # "0101 Halden;101;Halden;746;..." (2011-2013) beside 274 (2011), 222 (2012), 250 (2013)
    assert _query(db, "SELECT periode, year, value FROM imdi_videregaende_fullfort "
                      "WHERE region='0101' AND variabel='innvkat_5.alle' "
                      "AND nedbrytning='kjonn.alle' AND enhet='personer' ORDER BY periode") == [
        ("2011", 2011, 274.0), ("2011-2013", 2013, 746.0), ("2012", 2012, 222.0),
        ("2013", 2013, 250.0)]


@pytest_twisted.ensureDeferred
async def test_an_export_of_another_kind_is_refused_in_one_line(tmp_path, caplog):
    db = tmp_path / "atlas.db"
    await crawl("imdi_tilskudd", crawl_settings(db, replay=False, ATLAS_RAW_DIR=""),
                file=str(DATA / "kommune" / "09_3-bosatt_befolkning-kommune-2014.csv"))
    assert runs(db)[-1]["status"] != "ok"
    assert ("09_3-bosatt_befolkning-kommune-2014.csv: an export of kind "
            "'09_3-bosatt_befolkning'; imdi_tilskudd reads '93-tilskudd'") in caplog.text


@pytest_twisted.ensureDeferred
async def test_live_crawl_says_it_is_file_only(tmp_path, caplog):
    db = tmp_path / "atlas.db"
    await crawl("imdi_vedvarende_lavinntekt", crawl_settings(db, replay=False))
    assert runs(db)[-1]["status"] != "ok"
    assert "imdi_vedvarende_lavinntekt is file-only" in caplog.text
