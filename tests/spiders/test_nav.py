"""NAV monthly workbooks and landing pages (atlas_crawl.formats.nav).

The public PST302/AAP155/HL060 workbooks are not available here; the workbooks under
golden/nav_*/ are constructed from the documented layouts (see their READMEs). HL060's figures
are copied from NAV's real Telemark delivery, and the test below checks them against it.
"""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
import pytest_twisted
from openpyxl import load_workbook

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import nav
from atlas_crawl.formats.excel import LayoutError, get_sheet, open_workbook, read_records
from atlas_crawl.run.golden import crawl, crawl_settings, runs

GOLDEN = PROJECT_DIR / "golden"
HL060 = GOLDEN / "nav_helt_ledige" / "responses" / "202601_HL060_constructed.xlsx"
AAP155 = GOLDEN / "nav_aap" / "responses" / "AAP155_202601_constructed.xlsx"
PST302 = GOLDEN / "nav_uforetrygd" / "responses" / "PST302_202602_constructed.xlsx"
DELIVERY = (GOLDEN / "nav_workbook_ledighet" / "responses"
            / "nav_ledighet_og_stillinger_telemark_2026-02-05.xlsx")

pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")


def _cells(rows, measure):
    return {r.region: (r.value if r.status is None else r.status)
            for r in rows if r.measure == measure}


# --- landing pages ---------------------------------------------------------------------------

def test_pst302_link_is_found_inside_next_data_and_pdf_is_not_matched():
    page = (GOLDEN / "nav_uforetrygd" / "responses"
            / "uforetrygd-manedsstatistikk_landing_constructed.html").read_bytes()
    assert b"<a href" not in page
    links = nav.find_workbook_links(page, "PST302")
    assert len(links) == 1
    assert links[0].startswith("https://www.nav.no/_/attachment/download/")
    assert links[0].endswith("Fylke.%20Kommune._202602.xlsx")


def test_aap155_inline_and_hl060_download_links():
    aap = (GOLDEN / "nav_aap" / "responses"
           / "arbeidsavklaringspenger_landing_constructed.html").read_bytes()
    assert nav.pick_workbook_link(aap, "AAP155").split("/")[5] == "inline"
    hl = (GOLDEN / "nav_helt_ledige" / "responses"
          / "helt-ledige_landing_constructed.html").read_bytes()
    url = nav.pick_workbook_link(hl, "HL060")
    assert url.split("/")[5] == "download" and "202601_HL060" in url  # not HL050 / HL070 / pdf


def test_link_picking_refuses_to_guess():
    two = ('<a href="/_/attachment/inline/a:1/AAP155%20x.xlsx">x</a>'
           '<a href="/_/attachment/inline/b:2/AAP155%20y.xlsx">y</a>')
    with pytest.raises(nav.LinkError, match="refusing to guess"):
        nav.pick_workbook_link(two, "AAP155")
    with pytest.raises(nav.LinkError, match="no AAP155"):
        nav.pick_workbook_link("<html></html>", "AAP155", source="page")


# --- workbooks ------------------------------------------------------------------------------

def test_hl060_figures_match_the_real_nav_delivery():
    rows = nav.parse_workbook(HL060.read_bytes(), "HL060", file=HL060.name)
    antall, prosent = _cells(rows, "antall"), _cells(rows, "prosent")
    real = {}
    wb = open_workbook(DELIVERY.read_bytes())
    for rec in read_records(get_sheet(wb, "Telemark"),
                            ["År-måned", "Nåværende Kommune Nr Navn", "Kjønn"]):
        if rec["Kjønn"] == "Begge kjønn" and rec["Arbeidsmarkedsstatus hovedgruppe"] == (
                "Helt ledige"):
            code = rec["Nåværende Kommune Nr Navn"].split()[0]
            real[code] = (rec["Beh personer i mnd"], rec["% av arbeidsstyrken"])
    assert len(real) == 17
    assert {c: (antall[c], prosent[c]) for c in real} == real
    assert antall["I alt Telemark"] == sum(v for v, _ in real.values()) == 2328


def test_hl060_rollups_svalbard_and_ukjent():
    rows = nav.parse_workbook(HL060.read_bytes(), "HL060", file=HL060.name)
    by = {(r.region, r.measure): r for r in rows}
    oslo_total = by[("I alt Oslo - Oslove", "antall")]
    assert (oslo_total.level, oslo_total.aggregate, oslo_total.region_code) == ("fylke", True, None)
    assert by[("0301", "antall")].value == 12125 and by[("0301", "prosent")].value == 2.9
    assert (by[("2100", "antall")].level, by[("2100", "antall")].value) == ("kommune", 13)
    ukjent = by[("Ukjent", "antall")]
    assert (ukjent.level, ukjent.aggregate, ukjent.value) == ("unknown", False, 13)
    assert (by[("Ukjent", "prosent")].value, by[("Ukjent", "prosent")].status) == (None, "*")
    assert {r.period for r in rows} == {"2026-01"}


def test_pst302_levels_come_from_code_length_not_row_order():
    rows = nav.parse_workbook(PST302.read_bytes(), "PST302", file=PST302.name)
    by = {(r.region, r.measure, r.period): r for r in rows}
    assert {r.period for r in rows} == {"2026-01", "2026-02"}  # "2026 : " in B6 + month row
    oslo_fylke = by[("03", "antall", "2026-01")]
    assert (oslo_fylke.level, oslo_fylke.aggregate, oslo_fylke.value) == ("fylke", True, 3100)
    # Oslo's kommune rollup comes after its bydeler without "i alt" and is "*" every month
    assert [(by[("0301", m, p)].value, by[("0301", m, p)].status)
            for m in ("antall", "andel") for p in ("2026-01", "2026-02")] == [(None, "*")] * 4
    # Stavanger's comes before its bydeler with "i alt": still the kommune 1103
    stavanger = by[("1103", "antall", "2026-01")]
    assert (stavanger.level, stavanger.aggregate, stavanger.region_name) == (
        "kommune", True, "Stavanger")
    assert by[("110301", "antall", "2026-02")].level == "bydel"
    assert by[("03", "andel", "2026-01")].value == 6.306333321699
    assert "98" not in {r.region for r in rows}  # fylke sheets are not read


def test_aap155_ukjent_in_antall_only_and_utsira_suppressed():
    rows = nav.parse_workbook(AAP155.read_bytes(), "AAP155", file=AAP155.name)
    antall, andel = _cells(rows, "antall"), _cells(rows, "andel")
    assert antall["0301"] == 22311 and antall["03"] == 22311
    assert (antall["1101"], antall["1103"], antall["1151"]) == (436, 3847, "*")
    assert antall["Ukjent"] == 1528 and "Ukjent" not in andel
    assert len(antall) == len(andel) + 2  # "I alt Ukjent" and "Ukjent"


# --- drift ----------------------------------------------------------------------------------

def _edited(path: Path, edit) -> bytes:
    wb = load_workbook(io.BytesIO(path.read_bytes()))
    edit(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_missing_period_cell_names_file_and_sheet():
    data = _edited(AAP155, lambda wb: wb["1. Kommune. Antall"].__setitem__("B2", "Periode"))
    with pytest.raises(LayoutError) as err:
        nav.parse_workbook(data, "AAP155", file="AAP155.xlsx")
    assert "AAP155.xlsx, sheet '1. Kommune. Antall'" in str(err.value)
    assert "Periode" in str(err.value)


def test_renamed_sheet_lists_what_was_found():
    data = _edited(HL060, lambda wb: setattr(wb["3. Kommune Antall"], "title", "3. Kommuner"))
    with pytest.raises(LayoutError, match="3. Kommuner"):
        nav.parse_workbook(data, "HL060", file="HL060.xlsx")


def test_month_columns_must_agree_with_the_period_cell():
    data = _edited(AAP155, lambda wb: wb["2. Kommune. Andel"].__setitem__(
        "B2", "Periode: 2026 01 - 2026 02"))
    with pytest.raises(LayoutError, match="month columns 1-2"):
        nav.parse_workbook(data, "AAP155", file="AAP155.xlsx")


def test_a_region_twice_is_drift():
    def dup(wb):
        ws = wb["1. Kommune. Antall"]
        ws["B6"] = "1103 Stavanger"  # over "1101 Eigersund"
    with pytest.raises(LayoutError, match="one row per region"):
        nav.parse_workbook(_edited(AAP155, dup), "AAP155", file="AAP155.xlsx")


# --- the spider keeps the workbook as provenance ------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_spider_keeps_the_workbook_in_raw_files(tmp_path):
    db = tmp_path / "atlas.db"
    raw_dir = tmp_path / "raw"
    settings = crawl_settings(db, cassette=GOLDEN / "nav_helt_ledige", ATLAS_RAW_DIR=str(raw_dir))
    await crawl("nav_helt_ledige", settings)
    assert runs(db)[-1]["status"] == "ok"
    conn = sqlite3.connect(db)
    try:
        landing, (url, sha, size, modified, path) = conn.execute(
            "SELECT url, sha256, size, last_modified, path FROM raw_files ORDER BY size"
        ).fetchall()
        value = conn.execute("SELECT value FROM nav_helt_ledige WHERE region='4001' "
                             "AND measure='antall' AND period='2026-01'").fetchone()
    finally:
        conn.close()
    body = HL060.read_bytes()
    assert url.endswith("202601_HL060%20Helt%20ledige.%20Fylke%20og%20kommune.%20Tidsserie%20"
                        "m%C3%A5ned.xlsx")
    assert (sha, size, modified) == (
        "711e6ec2ec660ad5df7fa6ea8195410f21fba8a850e30f42723c2f0099aba604", len(body),
        "Tue, 03 Feb 2026 07:00:00 GMT")
    assert Path(path).read_bytes() == body and Path(path).parent.parent == raw_dir
    assert value == (554.0,)
    assert landing[0].endswith("/helt-ledige") and landing[3] is None  # landing page kept too


@pytest_twisted.ensureDeferred
async def test_rollups_are_placed_or_quarantined_never_dropped(tmp_path):
    db = tmp_path / "atlas.db"
    await crawl("nav_helt_ledige", crawl_settings(db, cassette=GOLDEN / "nav_helt_ledige",
                                                  ATLAS_RAW_DIR=""))
    conn = sqlite3.connect(db)
    try:
        placed = {region: rest for region, *rest in conn.execute(
            "SELECT region, place, place_canonical, place_level, place_geo_status "
            "FROM nav_helt_ledige WHERE measure='antall'").fetchall()}
        stored = conn.execute("SELECT count(*) FROM nav_helt_ledige").fetchone()[0]
        quarantined = conn.execute(
            "SELECT count(*) FROM quarantine WHERE table_name='nav_helt_ledige'").fetchone()[0]
    finally:
        conn.close()
    parsed = nav.parse_workbook(HL060.read_bytes(), "HL060")
    assert stored + quarantined == len(parsed) == 52
    # a name-only rollup: its name handed over as published, placed as fylke 40 by its level
    assert placed["I alt Telemark"] == ["Telemark", "40", "fylke", "exact"]
    # the fylke of Oslo, labelled with the kommune's bilingual name
    assert placed["I alt Oslo - Oslove"] == ["Oslo - Oslove", "03", "fylke", "exact"]
    assert placed["Ukjent"] == ["Ukjent", "9999", "kommune", "unknown"]  # NAV's unknown bucket
    assert placed["2100"] == ["2100", "2100", "special", "special"]
