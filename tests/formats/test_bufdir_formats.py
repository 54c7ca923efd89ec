"""Bufdir parsing without Scrapy: finding the ZIP, reading both monitors' workbooks."""

import io
import zipfile

import pytest
from conftest import load_builder

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import bufdir
from atlas_crawl.formats.excel import LayoutError

ROOT = PROJECT_DIR
GOLDEN = ROOT / "golden"
BF, BV = bufdir.MONITORS["barnefattigdom"], bufdir.MONITORS["barnevern"]
STRAPI = "https://ca-statistikk-strapi-prod.whitesea-89be7839.norwayeast.azurecontainerapps.io"
PAGE = "https://www.bufdir.no/statistikk-og-analyse/monitor/barnefattigdom/"


build = load_builder(PROJECT_DIR / "tools" / "build_bufdir_fixtures.py")


def entries(bundle):
    return dict(bundle)


# --------------------------------------------------------------------------------------------
# Discovery


def test_a_known_name_wins():
    page = build.monitor_page("barnevern", "t", [
        (f"{STRAPI}/uploads/Metodebeskrivelse_barnevern_2026_0a1b2c3d4e.zip", "Metode"),
        (f"{STRAPI}/uploads/Kommunemonitor_barnevern_2026_09_04_cedc894149.zip", "Last ned"),
    ]).decode()
    choice = bufdir.choose_zip(page, PAGE, BV)
    assert choice.url.endswith("/Kommunemonitor_barnevern_2026_09_04_cedc894149.zip")
    assert choice.tier == "known name"


def test_the_july_2026_rename_is_a_known_name():
    page = f'<a href="{STRAPI}/uploads/Filer_publisert_03_07_26_og_2025_640b1b30b3.zip">x</a>'
    assert bufdir.choose_zip(page, PAGE, BF).tier == "known name"


def test_a_single_unnamed_zip_under_uploads_is_accepted():
    page = (GOLDEN / "bufdir_barnefattigdom/responses/monitor_page_constructed.html").read_text()
    choice = bufdir.choose_zip(page, PAGE, BF)
    assert choice.url == f"{STRAPI}/uploads/Kommunemonitor_data_2027_06_30_a1b2c3d4e5.zip"
    assert choice.tier == "only ZIP under /uploads/"
    assert len(choice.candidates) == 2  # the method note outside /uploads/ was seen too


def test_several_unnamed_candidates_are_refused_and_listed():
    page = (GOLDEN / "bufdir_barnefattigdom_ambiguous/responses/monitor_page_constructed.html"
            ).read_text()
    with pytest.raises(bufdir.BufdirError) as info:
        bufdir.choose_zip(page, PAGE, BF)
    message = str(info.value)
    assert "refusing to guess" in message
    assert "Datasett_2027_a1a1a1a1a1.zip" in message and "Datasett_2026_b2b2b2b2b2.zip" in message


def test_two_links_with_the_same_known_shape_are_refused():
    page = "".join(f'<a href="/uploads/{d}_barnefattigdom_monitor_ab12.zip">x</a>'
                   for d in ("2025_07_31", "2026_07_03"))
    with pytest.raises(bufdir.BufdirError, match="refusing to guess"):
        bufdir.choose_zip(page, PAGE, BF)


def test_links_found_in_escaped_json_relative_paths_and_by_type():
    page = ('<script>{"body":"[Last ned](https:\\/\\/cms.example\\/uploads\\/x_1.zip)"}</script>'
            '<a href="/filer/datasett?id=7" type="application/zip">Datasett</a>')
    assert bufdir.zip_candidates(page, PAGE) == [
        "https://cms.example/uploads/x_1.zip", "https://www.bufdir.no/filer/datasett?id=7"]
    with pytest.raises(bufdir.BufdirError, match="no ZIP link found"):
        bufdir.choose_zip("<html><a href='/a.pdf'>pdf</a></html>", PAGE, BF)


def test_a_download_that_is_not_a_zip_is_refused():
    with pytest.raises(bufdir.BufdirError, match=r"expected a ZIP, got Content-Type 'text/html'"):
        bufdir.check_zip(b"<!DOCTYPE html><html>", "text/html", "https://x/uploads/a.zip")
    bufdir.check_zip(b"PK\x03\x04rest", "application/octet-stream", "https://x/a.zip")


# --------------------------------------------------------------------------------------------
# Workbooks


@pytest.mark.parametrize("raw,code", [
    (0, "0"), (3, "03"), (301, "0301"), (30101, "030101"), (3010109, "03010109"),
    (301.0, "0301"), ("0301", "0301"), (" 46 ", "46"), (None, None), ("", None)])
def test_region_codes_get_their_leading_zero_back(raw, code):
    assert bufdir.region_code(raw) == code


def test_barnefattigdom_workbook_values_and_symbols():
    data = entries(build.barnefattigdom_bundle())
    book = bufdir.parse_workbook(data["Indikator_17_barn_0-5_i_hush_som_leier_bolig_kun_pers.xlsx"],
                                 "Indikator_17_barn_0-5_i_hush_som_leier_bolig_kun_pers.xlsx", BF)
    assert book.indicator == "17" and book.sheet == "Data"
    assert book.years == list(range(2017, 2025))
    assert book.title.startswith("Tab. 17: Barn 0-5 år")
    rows = {(r[1], r[3], r[4], r[5]): (r[6], r[7]) for r in book.rows}
    assert rows[("0", "barn", "antall", 2017)] == (64465.0, None)
    assert rows[("0", "barn", "prosent", 2017)] == (17.7, None)  # from "   17,7"
    assert rows[("030101", "barn", "prosent", 2019)] == (None, "..")
    assert rows[("03010109", "barn", "prosent", 2018)] == (None, ".")
    assert [rows[("03010109", "barn", "antall", y)] for y in (2017, 2018)] == [
        (None, ".."), (12.0, None)]
    assert ("4601", "barn", "antall", 2021) not in rows  # blank: no observation
    assert book.blank_cells == 1 and book.note_rows == 1
    assert book.tallformats == {"antall": 7, "prosent": 4}


def test_codes_stored_as_numbers_and_thousands_text():
    data = entries(build.barnefattigdom_bundle())
    name = "Indikator_4_barn_i_hush_mottat_sosialhjelp_ila_året.xlsx"
    book = bufdir.parse_workbook(data[name], name, BF)
    rows = {(r[1], r[3], r[4], r[5]): r[6] for r in book.rows}
    assert rows[("0", "husholdning", "antall", 2019)] == 48310.0
    assert rows[("0301", "barn", "antall", 2023)] == 18720.0
    assert rows[("03010109", "barn", "antall", 2021)] == 19.0
    assert rows[("0301", "husholdning", "prosent", 2019)] == 7.9


def test_barnevern_keeps_andel_as_written_even_when_it_is_kroner():
    data = entries(build.barnevern_bundle())
    name = "2A_netto_driftsutgifter_barnevern_per_barn_0_17.xlsx"
    book = bufdir.parse_workbook(data[name], name, BV)
    assert book.sheet == "Sheet1" and book.indicator == "2A"
    rows = {(r[1], r[3], r[4]): (r[5], r[6]) for r in book.rows}
    assert rows[("0", "Andel", 2023)] == (17689.64, None)
    assert rows[("0301", "Andel", 2024)] == (None, "..")
    assert len(BV.columns) == len(book.rows[0])  # no enhet column


def test_svalbard_placeholders_store_nothing():
    data = entries(build.barnevern_bundle())
    name = "1A_andel_ant_barn_tiltak_ilaaret_ialt_0_17.xlsx"
    book = bufdir.parse_workbook(data[name], name, BV)
    assert not [r for r in book.rows if r[1] in ("21", "2111")]
    assert book.blank_cells == 10
    assert sorted(book.tallformats) == ["Andel", "Antall"]


def test_one_monitors_workbook_is_not_the_others():
    data = entries(build.barnefattigdom_bundle())
    name = "Indikator_9a_barn_innvandrerbakgrunn_vedvarende_lavinntekt.xlsx"
    with pytest.raises(LayoutError, match="barnevern workbook name"):
        bufdir.parse_workbook(data[name], name, BV)
    # Same file renamed to a barnevern code: the sheet is wrong.
    with pytest.raises(LayoutError, match=r"sheet 'Sheet1': expected a sheet with that name; "
                                          r"found \['Data'\]"):
        bufdir.parse_workbook(data[name], "9A_renamed.xlsx", BV)


def test_layout_drift_names_file_sheet_and_what_was_found():
    unknown = build.unknown_workbook()
    with pytest.raises(LayoutError) as info:
        bufdir.parse_workbook(unknown, "5A_ny_indikator_under_arbeid.xlsx", BV)
    assert "5A_ny_indikator_under_arbeid.xlsx, sheet 'Sheet1'" in str(info.value)
    assert "Kommunenummer" in str(info.value)
    not_a_year = build.barnevern_workbook("1B_x", [2024, "Endring"], [["0", "Norge", "Antall", 1, 2]])
    with pytest.raises(LayoutError, match=r"found 'Endring' in column 5"):
        bufdir.parse_workbook(not_a_year, "1B_x.xlsx", BV)
    twice = build.barnevern_workbook("1B_x", [2024], [["0", "Norge", "Antall", 1],
                                                      ["0", "Norge", "Antall", 2]])
    with pytest.raises(LayoutError, match=r"row 5 repeats \('0', 'Antall'\) from row 4"):
        bufdir.parse_workbook(twice, "1B_x.xlsx", BV)


def test_an_enhet_column_in_barnevern_is_drift():
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["Region", "Regionnavn", "Enhet", "Tallformat", 2024])
    ws.append(["0", "Norge", "barn", "Antall", 1])
    with pytest.raises(LayoutError, match=r"1B_x.xlsx, sheet 'Sheet1': expected no Enhet column"):
        bufdir.parse_workbook(build.xlsx_bytes(wb), "1B_x.xlsx", BV)


# --------------------------------------------------------------------------------------------
# Bundles


def test_a_bundle_names_everything_it_did_not_parse():
    bundle = bufdir.read_bundle(build.zip_bytes(build.barnefattigdom_bundle()), BF)
    assert bundle.summary() == "parsed 3 of 3 workbooks"
    assert sorted(w.indicator for w in bundle.parsed) == ["17", "4", "9a"]
    assert {e for e, _ in bundle.not_workbooks} == {
        "__MACOSX/._Indikator_17_barn_0-5_i_hush_som_leier_bolig_kun_pers.xlsx",
        "._Indikator_4_barn_i_hush_mottat_sosialhjelp_ila_året.xlsx", "Les_meg.txt"}


def test_the_turnover_workbook_is_skipped_by_rule_and_counted():
    bundle = bufdir.read_bundle(build.zip_bytes(build.barnevern_bundle()), BV)
    assert bundle.summary() == ("parsed 3 of 4 workbooks; known other layout, skipped: "
                                "Turnover_kommunalt barnevern_2016-2024.xlsx")


def test_an_unknown_workbook_is_named():
    zipped = (GOLDEN / "bufdir_barnevern_unknown_workbook/responses/"
              "bundle_with_unknown_workbook_constructed.zip").read_bytes()
    bundle = bufdir.read_bundle(zipped, BV)
    assert bundle.summary() == ("parsed 1 of 2 workbooks; not recognised: "
                                "5A_ny_indikator_under_arbeid.xlsx")
    assert "expected a header row with ['Region', 'Regionnavn', 'Tallformat']" in bundle.failed[0][1]


def test_names_written_without_the_utf8_flag_are_read_as_utf8():
    # Python's zipfile always flags non-ASCII names as UTF-8, so write an ASCII placeholder and
    # put the UTF-8 bytes of "å" in its place, without the flag, as Windows' zip tools do.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("Indikator_4_ila_@@ret.xlsx"), b"x")
    data = out.getvalue().replace(b"@@", "å".encode())
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert not z.infolist()[0].flag_bits & 0x800
        assert bufdir.entry_name(z.infolist()[0]) == "Indikator_4_ila_året.xlsx"
