"""Udir's period choice, region cells and dim_school / export rows, tested function by function.

Real answers come from golden/udir_*/responses/ (copied from realdata/udir). The ExportRow values below are copied from the
statistikkbank export capture (Trøgstad 0122 and Asdal skole 975280888 in 2015-16, the national
count; see test_udir_parse.py, which parses that workbook); the rows are built directly so these
tests stay fast. Other small inputs are CONSTRUCTED and say so.
"""

from __future__ import annotations

import pytest

from atlas_crawl.formats import udir
from atlas_crawl.formats.udir import DataCell, ExportRow, Option, School
from atlas_crawl.run.golden import GOLDEN_DIR


def _read(name: str) -> bytes:
    found = sorted(GOLDEN_DIR.glob(f"udir_*/responses/{name}"))
    assert found, f"{name}: no golden/udir_*/responses/ holds this capture"
    return found[0].read_bytes()


def gsi_years() -> list[Option]:
    return udir.parse_filterverdier(_read("udir-gsi_filterverdier_years.json")).periods("TidID")


# -- periods ----------------------------------------------------------------------------------


def test_pick_periods_all_latest_and_named():
    years = gsi_years()
    assert len(udir.pick_periods(years, "all")) == 12
    assert [(o.id, o.navn) for o in udir.pick_periods(years, "latest")] == [(202510, "2025-26")]
    # school years and period codes mix; the answer keeps Udir's order, not the request's
    assert [o.id for o in udir.pick_periods(years, "202310, 2024-25")] == [202410, 202310]
    assert [o.id for o in udir.pick_periods(years, "2014-15,1999-00")] == [201410]
    assert udir.pick_periods(years, "") == []
    assert udir.pick_periods([], "latest") == []


def test_checked_school_year_on_real_period_lists():
    years = gsi_years()
    assert [udir.checked_school_year(o, "YYYY10") for o in years] == [o.navn for o in years]
    fravar = udir.parse_filterverdier(_read("udir-fravar_filterVerdier_EXCERPT.json"))
    first = fravar.periods("TidID")[0]
    assert (first.id, udir.checked_school_year(first, "YYYY06")) == (202506, "2024-25")
    np5 = udir.parse_filterverdier(_read("udir-nasjonale-prover_filterVerdier.trinn5_EXCERPT.json"))
    first = np5.periods("SkoleAarID")[0]
    assert (first.id, udir.checked_school_year(first, "YYYYYYYY")) == (20252026, "2025-26")


def test_checked_school_year_refuses_a_name_that_disagrees():
    # CONSTRUCTED: fravær's 202506 is 2024-25; a list calling it 2025-26 is read wrongly
    wrong = Option(indeks=0, id=202506, kode="202506", navn="2025-26")
    with pytest.raises(udir.UdirFormatError,
                       match="period 202506 should be school year 2024-25 but Udir calls it "
                             "2025-26"):
        udir.checked_school_year(wrong, "YYYY06")
    unnamed = Option(indeks=0, id=202410, kode="202410", navn="")
    assert udir.checked_school_year(unnamed, "YYYY10") == "2024-25"
    with pytest.raises(udir.UdirFormatError):
        udir.checked_school_year(unnamed, "YYYY12")  # the code has the wrong shape


# -- data -------------------------------------------------------------------------------------


def test_region_cells_keep_fylke_and_kommune_of_a_real_answer():
    cells = udir.parse_data(_read("udir-gsi_data_202410.json"))
    regions = list(udir.region_cells(cells))
    assert len(regions) == len(cells) == 1492  # this answer holds only fylker and kommuner
    assert sum(c.level == "Fylke" for c in regions) == 60
    agder = next(c for c in regions if c.row_kode == "42" and c.measure == "Antall elever")
    assert (agder.level, agder.value) == ("Fylke", 38967)
    assert {c.row_kode for c in regions} >= {"03", "0301", "4203"}


def test_region_cells_drop_other_levels():
    eug = udir.parse_data(_read("udir_api_elevundersokelsen_mobbing_data_arendal_trinn10.json"))
    assert {c.level for c in eug} == {"Indikator", "Spørsmål"}
    assert list(udir.region_cells(eug)) == []

    # CONSTRUCTED: one cell per level
    def cell(level: str, kode: str) -> DataCell:
        return DataCell(kode, kode, "1", level, ("2024-25", "Antall elever"), 1, None)
    mixed = [cell("Nasjonalt", "0"), cell("Fylke", "42"), cell("Kommune", "4203"),
             cell("Enhet", "975280888"), cell("depth 5", "x")]
    assert [c.row_kode for c in udir.region_cells(mixed)] == ["42", "4203"]


# -- dim_school -------------------------------------------------------------------------------


def test_school_rows_from_real_filter_values_once_per_school_and_kommune():
    eug = udir.schools(udir.parse_filterverdier(
        _read("udir-elevundersokelsen-mobbing_filterVerdier_EXCERPT.json")))
    fravar = udir.schools(udir.parse_filterverdier(
        _read("udir-fravar_filterVerdier_EXCERPT.json")))
    rows = udir.school_rows(eug + fravar)  # two reports list many of the same schools
    assert len(rows) == len({(s.school_id, s.kommune_code) for s in eug + fravar})
    assert len(rows) < len(eug) + len(fravar)
    by = {r[0]: dict(zip(udir.SCHOOL_COLUMNS, r)) for r in rows}
    assert by["975280888"] == {"school_id": "975280888", "kommune_code": "4203",
                               "organisasjonsnummer": "975280888", "name": "Asdal skole",
                               "kommune_name": "Arendal", "fylke_code": "42"}
    assert by["U90099013"]["organisasjonsnummer"] is None  # a school abroad has no orgnr
    assert by["U90099013"]["kommune_code"] == "2599"


def test_school_rows_skip_schools_without_a_kommune():
    # CONSTRUCTED: a school hanging straight under a fylke, and one listed under two kommuner
    schools = [School("999999999", "999999999", "Fylkesskole", None, None, "42", 1),
               School("975280888", "975280888", "Asdal skole", "4203", "Arendal", "42", 2),
               School("975280888", "975280888", "Asdal skole", "4204", "Kristiansand", "42", 2)]
    assert udir.school_rows(schools) == [
        ("975280888", "4203", "975280888", "Asdal skole", "Arendal", "42"),
        ("975280888", "4204", "975280888", "Asdal skole", "Kristiansand", "42")]


# -- statistikkbank export --------------------------------------------------------------------


def export(level, fylke, kommune, orgnr, name, measure="Grunnskolepoeng", value=39.5,
           year="2015-16", status=None, brudd=None) -> ExportRow:
    return ExportRow(level, fylke, kommune, orgnr, name, year, "Alle eierformer",
                     "Alle kjønn", measure, value, status, brudd, row=7)


def test_export_row_unit_path_and_place_code_by_level():
    def head(r: ExportRow) -> tuple:
        return udir.export_row(r)[:3]  # unit_path, level, place_code
    assert head(export("national", None, None, None, "Hele landet", "Antall elever",
                       60679)) == ("0", "national", "0")
    assert head(export("fylke", "01", None, None, "Østfold")) == ("01", "fylke", "01")
    assert head(export("kommune", "01", "0122", None, "Trøgstad")) == (
        "01/0122", "kommune", "0122")
    assert head(export("skole", "42", "4203", "975280888", "Asdal skole", value=39.3)) == (
        "42/4203/975280888", "skole", "4203")


def test_export_row_carries_every_value_in_column_order():
    rost = export("kommune", "18", "1856", None, "Røst", year="2017-18", value=None,
                  status="*", brudd="Ny skala")  # the note is CONSTRUCTED
    row = dict(zip(udir.EXPORT_COLUMNS, udir.export_row(rost)))
    assert row == {
        "unit_path": "18/1856", "level": "kommune", "place_code": "1856", "fylke_code": "18",
        "kommune_code": "1856", "organisasjonsnummer": None, "name": "Røst",
        "school_year": "2017-18", "eierform": "Alle eierformer", "kjonn": "Alle kjønn",
        "measure": "Grunnskolepoeng", "value": None, "status": "*", "brudd": "Ny skala",
        "trinn": None}
    assert set(udir.EXPORT_KEY) <= set(row)


def test_export_school_rows_once_per_school_and_kommune():
    rows = [
        export("national", None, None, None, "Hele landet"),
        export("kommune", "42", "4203", None, "Arendal"),
        export("skole", "42", "4203", "975280888", "Asdal skole", value=39.3),
        export("skole", "42", "4203", "975280888", "Asdal skole", year="2016-17", value=40.1),
        export("skole", "42", "4203", "975280888", "Asdal skole", "Antall elever", 41),
        export("skole", "42", None, "999999999", "Uten kommune"),  # CONSTRUCTED
    ]
    assert udir.export_school_rows(rows) == [
        ("975280888", "4203", "975280888", "Asdal skole", None, "42")]


def test_sluttet_vgs_report_can_be_named():
    from atlas_crawl.spiders.udir import UdirSluttetVgsSpider

    assert UdirSluttetVgsSpider().reports == ("VGO_sluttet",)
    assert UdirSluttetVgsSpider(report="VGO_SluttaV").reports == ("VGO_SluttaV",)
