"""NAV's delivered workbooks (`nav_workbook`), on the two real deliveries in golden/nav_workbook_*
(from realdata/nav, see their READMEs) and on older variants CONSTRUCTED here from the real
headers: fewer sheets, an empty header over the level column, unrounded percentages, regions as
"code name" or as a name only."""

from __future__ import annotations

import pytest
import pytest_twisted
from conftest import crawl_file, query, xlsx

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import nav_workbook
from atlas_crawl.formats.excel import LayoutError
from atlas_crawl.run.golden import crawl, crawl_settings, runs

GOLDEN = PROJECT_DIR / "golden"
LEDIGHET = (GOLDEN / "nav_workbook_ledighet" / "responses"
            / "nav_ledighet_og_stillinger_telemark_2026-02-05.xlsx")
NEDSATT = (GOLDEN / "nav_workbook_nedsatt" / "responses"
           / "nav_nedsatt_arbeidsevne_telemark_2025-12-16.xlsx")

pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")



def _value(rows, **where):
    found = [(r.value, r.status) for r in rows
             if all(getattr(r, k) == v for k, v in where.items() if k != "dims")
             and r.dimensions == where.get("dims", r.dimensions)]
    assert len(found) == 1, (where, found)
    return found[0]


def test_real_ledighet_workbook_routes_three_layouts():
    tables = nav_workbook.parse_workbook(LEDIGHET.read_bytes(), file=LEDIGHET.name)
    assert {t: len(rows) for t, rows in tables.items()} == {
        "nav_ledighet_maned": 624, "nav_arbeidssokere_yrke": 510, "nav_stillinger_yrke": 439}
    led = tables["nav_ledighet_maned"]
    assert {r.period for r in led} == {"2026-01"}
    # the right-hand table of 'Landet' has an empty header over its level column
    assert _value(led, area="Landet", measure="personer",
                  dims=("Helt ledige", "Begge kjønn")) == (68932, None)
    assert _value(led, area="Landet", measure="prosent_av_arbeidsstyrken",
                  dims=("Helt ledige", "Begge kjønn")) == (2.3, None)
    porsgrunn = [r for r in led if r.region == "4001 Porsgrunn"]
    assert {(r.region_code, r.region_name, r.level, r.fylke) for r in porsgrunn} == {
        ("4001", "Porsgrunn", "kommune", "Telemark")}
    assert _value(led, region_code="97", measure="personer",
                  dims=("Delvis ledige", "Begge kjønn")) == (None, "*")
    stilling = tables["nav_stillinger_yrke"]
    # 'Landet stilling' has no region column: the country
    assert _value(stilling, area="Landet", dims=("Akademiske yrker",)) == (1650, None)
    assert {r.region for r in stilling if r.area == "Fylker"} >= {"UTLAND", "03 Oslo"}


def test_real_nedsatt_workbook_names_only_and_unrounded_shares():
    rows = nav_workbook.parse_workbook(NEDSATT.read_bytes())["nav_nedsatt_arbeidsevne"]
    assert len(rows) == 396 and {r.period for r in rows} == {"2025-11"}
    assert _value(rows, area="Landet", measure="prosent_av_befolkningen",
                  dims=("Begge kjønn", "Alle aldre")) == (6.88976427642862, None)
    assert _value(rows, region="Agder", measure="personer",
                  dims=("Kvinner", "Alle aldre")) == (9284, None)
    # NAV suppresses Tokke's count but publishes its share
    assert _value(rows, region="Tokke", measure="personer", dims=("Menn", "Under 30 år")) == (
        None, "*")
    assert _value(rows, region="Tokke", measure="prosent_av_befolkningen",
                  dims=("Menn", "Under 30 år")) == (2.3, None)
    bamble = {(r.region_code, r.level, r.fylke) for r in rows if r.region == "Bamble"}
    assert bamble == {(None, "kommune", "Telemark")}



LED_HEADER = ["År", "År-måned", None, "Nåværende Kommune Nr Navn",
              "Arbeidsmarkedsstatus hovedgruppe", "Kjønn", "Beh personer i mnd",
              "% av arbeidsstyrken"]


def _older_telemark() -> bytes:
    """CONSTRUCTED older delivery: one sheet, header in row 1 from column A with an empty cell
    over the level column, names only, unrounded percentages, 2019 geography (Bø in Telemark
    before it became Midt-Telemark)."""
    return xlsx({"Telemark": [
        LED_HEADER,
        [2019, 201901, "Telemark kommuner", "Bø", "Helt ledige", "Begge kjønn", 71,
         1.876712328767123],
        [2019, 201901, "Telemark kommuner", "Porsgrunn", "Helt ledige", "Begge kjønn", "*",
         0.4],
        [2019, 201901, "Telemark kommuner", "0814 Bamble", "Helt ledige", "Begge kjønn", 160,
         2.0],
    ]})


def _older_nordland() -> bytes:
    """CONSTRUCTED: a Nordland delivery with the name Herøy, which exists in two fylker."""
    return xlsx({"Nordland": [
        [],
        [None, *LED_HEADER],
        [None, 2026, 202601, "Nordland - Nordlánnda kommuner", "Herøy", "Helt ledige",
         "Begge kjønn", 12, 1.1],
    ]})


def test_older_variant_is_read_by_its_headers():
    rows = nav_workbook.parse_workbook(_older_telemark(), file="telemark_2019.xlsx")[
        "nav_ledighet_maned"]
    assert [(r.region_code, r.region_name, r.fylke, r.period, r.measure, r.value, r.status)
            for r in rows] == [
        (None, "Bø", "Telemark", "2019-01", "personer", 71, None),
        (None, "Bø", "Telemark", "2019-01", "prosent_av_arbeidsstyrken", 1.876712328767123,
         None),
        (None, "Porsgrunn", "Telemark", "2019-01", "personer", None, "*"),
        (None, "Porsgrunn", "Telemark", "2019-01", "prosent_av_arbeidsstyrken", 0.4, None),
        ("0814", "Bamble", "Telemark", "2019-01", "personer", 160, None),
        ("0814", "Bamble", "Telemark", "2019-01", "prosent_av_arbeidsstyrken", 2.0, None),
    ]


def test_unknown_layout_names_the_sheets_and_headers():
    data = xlsx({"Ark1": [["Kommune", "Antall"], ["Bamble", 3]], "Tom": []})
    with pytest.raises(LayoutError) as err:
        nav_workbook.parse_workbook(data, file="odd.xlsx")
    message = str(err.value)
    assert message.startswith("odd.xlsx: expected a NAV workbook sheet of a known layout: "
                              "ledighet (arbeidsmarkedsstatus hovedgruppe")
    assert message.endswith("found 'Ark1': ['Kommune', 'Antall']")


def test_a_row_that_contradicts_itself_is_named():
    data = xlsx({"Telemark": [
        LED_HEADER,
        [2025, 202601, "Telemark kommuner", "Bamble", "Helt ledige", "Begge kjønn", 1, 0.1],
    ]})
    with pytest.raises(LayoutError, match=r"row 2: year 2025 disagrees with period 202601"):
        nav_workbook.parse_workbook(data, file="x.xlsx")


@pytest_twisted.ensureDeferred
async def test_names_are_placed_within_the_workbooks_fylke(tmp_path):
    db = tmp_path / "atlas.db"
    for name, data in (("telemark_2019.xlsx", _older_telemark()),
                       ("nordland_2026.xlsx", _older_nordland())):
        path = tmp_path / name
        path.write_bytes(data)
        await crawl_file(db, "nav_workbook", path)
        assert runs(db)[-1]["status"] == "ok", runs(db)[-1]["error"]
    placed = query(db, "SELECT region, place_canonical, place_current, place_geo_status FROM "
                    "nav_ledighet_maned WHERE measure='personer' ORDER BY region")
    assert placed == [("0814 Bamble", "0814", "4012", "renamed"),
                      ("Bø", "0821", "4020", "merged"),  # Bø (Telemark), not Bø in Nordland
                      ("Herøy", "1818", "1818", "exact"),  # Herøy (Nordland), not 1515
                      ("Porsgrunn", "0805", "4001", "renamed")]


@pytest_twisted.ensureDeferred
async def test_real_fylke_names_are_fylker_and_nothing_is_quarantined(tmp_path):
    db = tmp_path / "atlas.db"
    last = await crawl_file(db, "nav_workbook", NEDSATT)
    assert (last["status"], last["rows_received"], last["rows_quarantined"]) == ("ok", 396, 0)
    assert query(db, "SELECT DISTINCT place_canonical, place_level FROM nav_nedsatt_arbeidsevne "
                  "WHERE region='Oslo'") == [("03", "fylke")]
    assert query(db, "SELECT DISTINCT place_canonical FROM nav_nedsatt_arbeidsevne WHERE "
                  "region='Bamble'") == [("4012",)]


@pytest_twisted.ensureDeferred
async def test_wrong_workbook_fails_in_one_line_and_keeps_the_data(tmp_path):
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="")
    await crawl("nav_workbook", settings, file=str(NEDSATT))
    before = query(db, "SELECT * FROM nav_nedsatt_arbeidsevne ORDER BY 1, 2, 3, 4, 5, 6")
    hl060 = GOLDEN / "nav_helt_ledige" / "responses" / "202601_HL060_constructed.xlsx"
    await crawl("nav_workbook", settings, file=str(hl060))
    last = runs(db)[-1]
    assert last["status"] == "failed"
    assert last["error"].startswith("202601_HL060_constructed.xlsx: expected a NAV workbook")
    assert last["error"].endswith("(this is NAV's public HL060 workbook: read it with scrapy "
                                  "crawl nav_helt_ledige -a file=)")
    assert query(db, "SELECT * FROM nav_nedsatt_arbeidsevne ORDER BY 1, 2, 3, 4, 5, 6") == before
