"""NAV's delivered ledighet workbook of October 2025 (real): a fylke under its old and its
current code, and zero rows under dissolved fylker, read whole and keyed by code."""

from __future__ import annotations

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import nav_workbook

OCTOBER = (PROJECT_DIR / "tests" / "data" / "nav_workbook"
           / "nav_ledighet_og_stillinger_telemark_2025-10-05.xlsx")


def _stillinger():
    tables = nav_workbook.parse_workbook(OCTOBER.read_bytes(), file=OCTOBER.name)
    return tables, [r for r in tables["nav_stillinger_yrke"] if r.area == "Fylker"]


def test_every_table_of_the_workbook_is_read():
    tables, _ = _stillinger()
    assert {t: len(rows) for t, rows in tables.items()} == {
        "nav_ledighet_maned": 624, "nav_arbeidssokere_yrke": 502, "nav_stillinger_yrke": 562}
    assert {r.period for rows in tables.values() for r in rows} == {"2025-09"}


def test_ostfold_under_its_old_and_its_current_code_are_two_regions():
    _, rows = _stillinger()
    old = [r for r in rows if r.region_code == "01"]
    new = [r for r in rows if r.region_code == "31"]
    assert [(r.region, r.dimensions, r.value) for r in old] == [
        ("01 Østfold", ("Kontorarbeid",), 0), ("01 Østfold", ("Serviceyrker og annet arbeid",), 0)]
    assert len(new) == 15 and {r.region_name for r in new} == {"Østfold"}
    kontor = next(r for r in new if r.dimensions == ("Kontorarbeid",))
    assert (kontor.value, kontor.row) == (113, 93)


def test_zero_rows_of_dissolved_fylker_are_kept_as_written():
    _, rows = _stillinger()
    for code, name in (("38", "Telemark og Vestfold"), ("54", "Finnmark og Troms")):
        mine = [r for r in rows if r.region_code == code]
        assert len(mine) == 15, code
        assert {(r.region_name, r.value, r.status) for r in mine} == {(name, 0, None)}
