"""The shared Excel reader, tested on real NAV and Udir workbooks (see realdata/SOURCES.md)."""

from __future__ import annotations

import pytest

from atlas_crawl.formats.excel import (
    LayoutError,
    classify_region,
    find_header,
    get_sheet,
    melt,
    open_workbook,
    read_records,
    read_wide,
    restore_code,
    sheet_rows,
    split_code_name,
)
from atlas_crawl.formats.numbers import parse_cell
from atlas_crawl.run.golden import GOLDEN_DIR

LEDIGHET = (GOLDEN_DIR / "nav_workbook_ledighet" / "responses"
            / "nav_ledighet_og_stillinger_telemark_2026-02-05.xlsx")
NEDSATT = (GOLDEN_DIR / "nav_workbook_nedsatt" / "responses"
           / "nav_nedsatt_arbeidsevne_telemark_2025-12-16.xlsx")
GRUNNSKOLEPOENG = (GOLDEN_DIR / "udir_statistikkbank" / "responses"
                   / "udir_statistikkbank_grunnskolepoeng_export_20220621-1350.xlsx")

pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")

LEDIGHET_HEADER = ["År-måned", "Nåværende Kommune Nr Navn", "Arbeidsmarkedsstatus hovedgruppe",
                   "Kjønn", "Beh personer i mnd", "% av arbeidsstyrken"]


@pytest.fixture(scope="module")
def ledighet():
    return open_workbook(LEDIGHET.read_bytes())


@pytest.fixture(scope="module")
def nedsatt():
    return open_workbook(str(NEDSATT))


@pytest.fixture(scope="module")
def grunnskolepoeng():
    return open_workbook(GRUNNSKOLEPOENG.read_bytes())


# --- header detection -------------------------------------------------------------------------

def test_nav_header_is_found_in_row_2_from_column_b_with_two_tables_side_by_side(ledighet):
    rows = sheet_rows(get_sheet(ledighet, "Telemark"))
    header = find_header(rows, LEDIGHET_HEADER)
    assert header.row == 2
    assert [b.first_col for b in header.blocks] == [1, 10]  # B and K
    assert [b.col("År") for b in header.blocks] == [1, 10]
    assert header.blocks[0].col("Kjønn") == 6  # column G
    assert header.blocks[1].col("Beh personer i mnd") == 16  # column Q


def test_nav_long_records_keep_code_name_cells_numbers_and_stars(ledighet):
    ws = get_sheet(ledighet, "Telemark")
    records = list(read_records(ws, LEDIGHET_HEADER, file=LEDIGHET.name))
    first = records[0]
    assert (first.row, first.block) == (3, 0)
    assert first["Nåværende Kommune Nr Navn"] == "4001 Porsgrunn"
    assert first["År-måned"] == 202601
    assert first["Arbeidsmarkedsstatus hovedgruppe"] == "Arbeidssøkere på tiltak"
    assert first["Kjønn"] == "Kvinner"
    assert first["Beh personer i mnd"] == 54
    assert first["% av arbeidsstyrken"] == 0.6

    both = [r for r in records if r.block == 1]
    assert both[0]["Kjønn"] == "Begge kjønn"
    assert both[0]["Beh personer i mnd"] == 115
    helt_ledige_porsgrunn = [r for r in both if r["Nåværende Kommune Nr Navn"] == "4001 Porsgrunn"
                             and r["Arbeidsmarkedsstatus hovedgruppe"] == "Helt ledige"]
    assert [r["Beh personer i mnd"] for r in helt_ledige_porsgrunn] == [554]
    assert [r["% av arbeidsstyrken"] for r in helt_ledige_porsgrunn] == [3]

    # Siljan, women on measures: the count is suppressed, the share is not.
    siljan = next(r for r in records if r.row == 21 and r.block == 0)
    assert siljan["Nåværende Kommune Nr Navn"] == "4010 Siljan"
    assert parse_cell(siljan["Beh personer i mnd"]) == (None, "*")
    assert parse_cell(siljan["% av arbeidsstyrken"]) == (0.5, None)


def test_right_hand_table_ends_earlier_and_its_blank_rows_are_skipped(ledighet):
    ws = get_sheet(ledighet, "Fylker")
    header = ["År-måned", "Nåværende Fylke Nr Navn", "Kjønn", "Beh personer i mnd"]
    records = list(read_records(ws, header))
    left = [r for r in records if r.block == 0]
    right = [r for r in records if r.block == 1]
    assert len(left) == 100 and len(right) == 50  # rows 3-102 vs 3-52
    svalbard = [r for r in right if r["Nåværende Fylke Nr Navn"] == "97 Svalbard og øvrige områder"]
    # Svalbard has no share; its "Delvis ledige" count is suppressed.
    assert [(r["Arbeidsmarkedsstatus hovedgruppe"], parse_cell(r["Beh personer i mnd"]),
             r.get("% av arbeidsstyrken")) for r in svalbard] == [
        ("Delvis ledige", (None, "*"), None), ("Helt ledige", (13, None), None)]
    ukjent = [r for r in left if r["Nåværende Fylke Nr Navn"] == "Ukjent"]
    assert [r["Beh personer i mnd"] for r in ukjent] == [14, 6, 46, 199, 8, 5]


def test_name_only_regions_and_header_from_column_a(nedsatt):
    required = ["Månednummer", "Region", "Kjønn", "Beh personer i mnd", "D_År-Måned"]
    ws = get_sheet(nedsatt, "Nedsatt 18 - 66 år Telemark")
    records = list(read_records(ws, required))
    bamble = records[0]
    assert bamble["Region"] == "Bamble"
    assert (bamble["Kjønn"], bamble["Beh personer i mnd"], bamble["D_År-Måned"]) == (
        "Kvinner", 360, 202511)
    assert bamble["V_Prosent_av_befolkningen"] == 8.6
    assert classify_region(bamble["Region"]).level is None  # a name: left to the resolver

    young = list(read_records(get_sheet(nedsatt, "Nedsatt 18 - 29 år Telemark"), required))
    tokke = [r for r in young if r["Region"] == "Tokke" and r.block == 0]
    assert [(r["Kjønn"], parse_cell(r["Beh personer i mnd"]).status,
             r["V_Prosent_av_befolkningen"]) for r in tokke] == [
        ("Kvinner", "*", 2.2), ("Menn", "*", 2.3)]


def test_header_drift_names_file_sheet_expected_and_found(ledighet):
    ws = get_sheet(ledighet, "Telemark")
    with pytest.raises(LayoutError) as err:
        list(read_records(ws, ["År-måned", "Nåværende Kommune Nr Navn", "Antall personer"],
                          file="2026-02-05.xlsx"))
    message = str(err.value)
    assert "2026-02-05.xlsx" in message
    assert "'Telemark'" in message
    assert "Antall personer" in message
    assert "closest row 2" in message and "Beh personer i mnd" in message


def test_missing_sheet_lists_the_sheets_found(ledighet):
    with pytest.raises(LayoutError) as err:
        get_sheet(ledighet, "3. Kommune Antall", file="x.xlsx")
    assert "Telemark stilling" in str(err.value)


def test_truncated_and_padded_sheet_names(ledighet):
    # Excel cuts sheet names at 31 characters; NAV's names end mid-word.
    assert get_sheet(ledighet, "Telemark yrkesbakgrunn arbeidssøkere").title == (
        "Telemark yrkesbakgrunn arbeidss")
    assert get_sheet(ledighet, "  fylker ").title == "Fylker"


# --- Udir statistikkbank export: wide -> long, lost leading zeros ----------------------------

UDIR_IDS = ["EnhetNivaa", "Fylkekode", "Kommunekode", "Organisasjonsnummer", "EnhetNavn"]


def test_udir_export_restores_leading_zeros_by_column_level(grunnskolepoeng):
    ws = grunnskolepoeng.worksheets[0]
    records = list(read_records(ws, UDIR_IDS))
    assert len(records) == 2824
    trogstad = next(r for r in records if r["EnhetNavn"] == "Trøgstad")
    assert (trogstad["Fylkekode"], trogstad["Kommunekode"]) == (1, 122)  # as stored
    assert restore_code(trogstad["Fylkekode"], "fylke") == "01"
    assert restore_code(trogstad["Kommunekode"], "kommune") == "0122"
    oslo = next(r for r in records if r["EnhetNivaa"] == 3 and r["Kommune"] == "Oslo")
    assert restore_code(oslo["Kommunekode"], "kommune") == "0301"
    agder = next(r for r in records if r["EnhetNivaa"] == 2 and r["Fylke"] == "Agder")
    assert restore_code(agder["Kommunekode"], "kommune") is None
    school = next(r for r in records if r["EnhetNavn"] == "Asdal skole")
    with pytest.raises(ValueError):
        restore_code(school["Organisasjonsnummer"], "kommune")  # 975280888 is an orgnr


def test_udir_export_melts_year_columns_and_keeps_stars(grunnskolepoeng):
    ws = grunnskolepoeng.worksheets[0]

    def key(label: str):
        parts = label.split(".")
        if len(parts) < 4 or parts[-1] == "brudd":
            return None  # an id column (Nasjonalt, Fylke, ...) or a break note
        return parts[0], parts[-1]

    long = list(melt(read_records(ws, UDIR_IDS), UDIR_IDS, key))
    by = {(ids["enhetnavn"], ids["enhetnivaa"], k): raw for ids, k, raw in long}
    assert by[("Hele landet", 1, ("2015-16", "grunnskolepoeng"))] == 41.2
    assert by[("Hele landet", 1, ("2015-16", "antall elever"))] == 60679
    assert by[("Hele landet", 1, ("2020-21", "grunnskolepoeng"))] == 43.3
    assert by[("Oslo", 3, ("2020-21", "antall elever"))] == 5989
    assert parse_cell(by[("Røst", 3, ("2017-18", "grunnskolepoeng"))]) == (None, "*")
    assert by[("Træna", 3, ("2019-20", "grunnskolepoeng"))] == 43.9
    # 20 year columns: 12 values (6 years x 2 measures) and 8 .Brudd notes
    assert len(long) == 2824 * 12


# --- wide sheets with a repeated month header --------------------------------------------------

def test_read_wide_melts_repeated_month_blocks():
    # The shape of NAV's public kommune sheets: label column B, months from C, a title row and
    # a month row above every fylke block.
    rows = [
        (None, None, None, None),
        (None, "03 Oslo - Oslove", None, None),
        (None, None, "Januar", "Februar"),
        (None, "I alt 03 Oslo - Oslove", 22311, 22400),
        (None, "0301 Oslo - Oslove", 22311, "*"),
        (None, None, None, None),
        (None, "11 Rogaland", None, None),
        (None, None, "Januar", "Februar"),
        (None, "1151 Utsira", "*", "*"),
    ]
    cells = list(read_wide(None, ["Januar", "Februar", "Mars"], rows=rows))
    assert [(c.row, c.label, c.column, c.raw) for c in cells] == [
        (4, "I alt 03 Oslo - Oslove", "Januar", 22311),
        (4, "I alt 03 Oslo - Oslove", "Februar", 22400),
        (5, "0301 Oslo - Oslove", "Januar", 22311),
        (5, "0301 Oslo - Oslove", "Februar", "*"),
        (9, "1151 Utsira", "Januar", "*"),
        (9, "1151 Utsira", "Februar", "*"),
    ]


def test_read_wide_without_header_is_layout_drift():
    with pytest.raises(LayoutError, match="Januar"):
        list(read_wide(None, ["Januar"], rows=[(None, "x", 1)], file="f.xlsx"))


# --- region labels -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("label", "code", "name", "level", "aggregate"),
    [
        ("4001 Porsgrunn", "4001", "Porsgrunn", "kommune", False),
        ("030101 Gamle Oslo", "030101", "Gamle Oslo", "bydel", False),
        ("03 Oslo", "03", "Oslo", "fylke", False),
        ("03 Oslo - Oslove i alt  ", "03", "Oslo - Oslove", "fylke", True),
        ("I alt 03 Oslo - Oslove", "03", "Oslo - Oslove", "fylke", True),
        ("I alt Oslo - Oslove", None, "Oslo - Oslove", "fylke", True),
        ("0301 Oslo - Oslove", "0301", "Oslo - Oslove", "kommune", False),
        ("1103 Stavanger i alt  ", "1103", "Stavanger", "kommune", True),
        ("2100 Svalbard", "2100", "Svalbard", "kommune", False),
        ("Hele landet", "0", "Hele landet", "national", True),
        ("Ukjent", None, "Ukjent", "unknown", False),
        ("I alt Ukjent", None, "Ukjent", "fylke", True),
        ("Bamble", None, "Bamble", None, False),
    ],
)
def test_classify_region(label, code, name, level, aggregate):
    got = classify_region(label)
    assert (got.code, got.name, got.level, got.aggregate) == (code, name, level, aggregate)


def test_split_code_name():
    assert split_code_name("4001 Porsgrunn") == ("4001", "Porsgrunn")
    assert split_code_name("\u00a0030101\u00a0Gamle Oslo ") == ("030101", "Gamle Oslo")
    assert split_code_name("Ukjent") == (None, "Ukjent")


def test_restore_code():
    assert restore_code(122, "kommune") == "0122"
    assert restore_code(1.0, "fylke") == "01"
    assert restore_code("30101", "bydel") == "030101"
    assert restore_code(" ", "kommune") is None
    with pytest.raises(ValueError):
        restore_code(12.5, "kommune")
    with pytest.raises(ValueError):
        restore_code("K-0301", "kommune")
