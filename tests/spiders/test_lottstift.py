"""Lottstift momskompensasjon: per-year column maps from the manifest, recipients summed, orgnr
normalised, unmapped or drifted years failing with the headers found, geography through Brreg.

The workbooks are the constructed ones in golden/lottstift_momskompensasjon/ (built by its
build.py from the documented headers; see its README)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import pytest_twisted
from conftest import crawl_file, xlsx

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import lottstift as lf
from atlas_crawl.formats.excel import LayoutError
from atlas_crawl.manifests import get_manifest
from atlas_crawl.run.golden import crawl, crawl_settings, runs, table_rows

GOLDEN = PROJECT_DIR / "golden" / "lottstift_momskompensasjon"
RESPONSES = GOLDEN / "responses"
MAPS = lf.year_maps(get_manifest("lottstift_momskompensasjon").extra["years"])
A, B, C, D, E, F = "991000100", "992000201", "993000302", "994000403", "995000504", "996000605"
FILES = {
    2019: "Oversikt-over-alle-mottakarar_2019-1.xlsx",
    2020: "Oversikt-over-alle-sokarar_2020_moms.xlsx",
    2021: "Oversikt-over-alle-mottakarar_2021_moms.xlsx",
    2022: "Oversikt-over-mottakere-og-tildelt-belop-2022.xlsx",
    2023: "Oversikt-over-mottakere-og-tildelt-belop-2023.xlsx",
    2024: "Oversikt-over-tildelinger-momskompensasjon-2024.xlsx",
}


def parse(year: int, name: str | None = None):
    name = name or FILES[year]
    return lf.parse_workbook((RESPONSES / name).read_bytes(), year, MAPS, file=name)


def by_orgnr(grants):
    return {g.organisasjonsnummer: g for g in grants}


def one_sheet(sheet: str, rows: list[list]) -> bytes:
    return xlsx({sheet: rows})


# -- the manifest's maps ---------------------------------------------------------------------


def test_every_documented_year_has_a_map_with_its_meaning():
    assert sorted(MAPS) == [2019, 2020, 2021, 2022, 2023, 2024]
    assert MAPS[2019].amount == "Tildelt etter avkorting (NOK)"
    assert MAPS[2020].orgnr == "Org.nr. søkar" and "applicant" in MAPS[2020].orgnr_note
    assert MAPS[2021].amount_meaning.startswith("paid out including the administration fee")
    assert (MAPS[2022].sheet, MAPS[2022].orgnr) == ("Uttrekk_moms", "Org.nr")
    assert MAPS[2024].url.endswith("/2026/06/Oversikt-over-tildelinger-momskompensasjon-2024.xlsx")


def test_a_map_without_its_meaning_is_refused_naming_the_year():
    with pytest.raises(lf.ManifestMapError, match=r"years\.2025: missing \['amount_meaning'\]"):
        lf.year_maps({2025: {"url": "u", "sheet": "s", "orgnr": "o", "amount": "a"}},
                     where="years")


# -- organisation numbers --------------------------------------------------------------------


@pytest.mark.parametrize("raw", [991000100, 991000100.0, "991000100", "991 000 100",
                                 "NO 991 000 100 MVA", " 991.000.100 "])
def test_orgnr_is_normalised_to_nine_digit_text(raw):
    assert lf.normalise_orgnr(raw) == A


def test_a_number_that_lost_its_leading_zero_gets_it_back():
    assert lf.orgnr_checks("012345674")
    assert lf.normalise_orgnr(12345674) == "012345674"
    with pytest.raises(ValueError, match="not 9 digits"):
        lf.normalise_orgnr("12345674")  # text keeps what it says: no guessing


@pytest.mark.parametrize("raw, message", [
    ("991000101", "fails Brreg's mod-11 check"), (9910001000, "more than 9 digits"),
    ("Ukjent", "not 9 digits"), (991000100.5, "not an organisation number"),
    (None, "not an organisation number")])
def test_bad_orgnr_is_refused(raw, message):
    with pytest.raises(ValueError, match=message):
        lf.normalise_orgnr(raw)


def test_the_data_year_comes_from_the_file_name_not_the_upload_folder():
    assert lf.year_from_name("https://lottstift.no/app/uploads/2026/06/"
                             "Oversikt-over-tildelinger-momskompensasjon-2024.xlsx") == 2024
    assert lf.year_from_name("Oversikt-over-alle-mottakarar_2019-1.xlsx") == 2019
    assert lf.year_from_name("moms.xlsx") is None
    assert lf.year_from_name("moms_2019_til_2020.xlsx") is None


# -- each year's workbook --------------------------------------------------------------------


def test_2019_recipients_with_several_cases_are_summed():
    grants, rejected = parse(2019)
    got = by_orgnr(grants)
    assert (got[A].amount_nok, got[A].cases) == (109234.5, 2)  # 101,234.50 + 8,000
    assert got[A].amount_label == "Tildelt etter avkorting (NOK)"
    assert got[A].amount_meaning == "awarded after reduction (tildelt etter avkorting)"
    # the recipient column is read, not the applicant's (B applied for its local branch C)
    assert got[C].amount_nok == 41000 and B not in got
    assert [r.reason for r in rejected] == [
        "'Org.nr. mottakar', row 6: no organisation number"]
    assert rejected[0].row["Tildelt etter avkorting (NOK)"] == 4000


def test_blank_amounts_are_counted_never_read_as_zero():
    got = by_orgnr(parse(2019)[0])
    assert (got[D].amount_nok, got[D].cases, got[D].cases_without_amount) == (None, 1, 1)
    got = by_orgnr(parse(2021)[0])
    assert (got[D].amount_nok, got[D].cases_without_amount) == (None, 2)
    got = by_orgnr(parse(2024)[0])
    assert (got[C].amount_nok, got[C].cases_without_amount) == (None, 1)
    assert (got[F].amount_nok, got[F].cases_without_amount) == (0, 0)  # a real zero stays 0


def test_2020_text_orgnr_three_cases_and_a_bad_checksum():
    grants, rejected = parse(2020)
    got = by_orgnr(grants)
    assert (got[C].amount_nok, got[C].cases) == (60500.25, 3)
    assert got[C].amount_label == "Utbetalt Beløp (NOK)"
    assert [(r.raw_value, r.column) for r in rejected] == [("991000101", "organisasjonsnummer")]
    assert "mod-11" in rejected[0].reason


def test_2021_amount_as_text_with_a_decimal_comma():
    got = by_orgnr(parse(2021)[0])
    assert got[F].amount_nok == 8100.5
    assert got[A].amount_label == "Utbetalt beløp ink. administrasjonsgebyr (NOK)"


def test_2022_reads_org_nr_not_the_applicant_beside_it():
    got = by_orgnr(parse(2022)[0])
    assert set(got) == {A, C, E}
    assert (got[E].amount_nok, got[E].cases) == (34000, 2)


def test_2023_spaced_orgnr_and_rows_without_a_usable_orgnr():
    grants, rejected = parse(2023)
    assert {g.organisasjonsnummer: g.amount_nok for g in grants} == {A: 150000, F: 11000}
    assert [(r.raw_value, r.reason) for r in rejected] == [
        (None, "'Org.nr', row 4: no organisation number"),
        ("Ukjent", "'Org.nr', row 5: organisation number 'Ukjent' is not 9 digits")]


def test_2024_numeric_orgnr():
    got = by_orgnr(parse(2024)[0])
    assert (got[B].amount_nok, got[B].cases) == (39500.75, 2)
    assert got[B].amount_meaning == "awarded (tildelt)"


# -- layouts that match no map ---------------------------------------------------------------


def test_a_year_without_a_map_fails_with_the_headers_found():
    with pytest.raises(LayoutError) as err:
        parse(2025, "unmapped_2025.xlsx")
    message = str(err.value)
    assert "a column map for 2025" in message
    assert "sheet 'Tildelinger 2025': ['Sak', 'Orgnr mottaker', 'Navn', 'Beløp tildelt']" in message


def test_a_workbook_read_with_another_years_map_fails_naming_sheets_and_headers():
    with pytest.raises(LayoutError) as err:
        parse(2023, FILES[2024])
    message = str(err.value)
    assert "the 2023 map: sheet 'Uttrekk_moms'" in message
    assert "sheet 'Tildelinger': ['Saksnummer', 'Organisasjonsnummer'" in message


def test_a_renamed_amount_header_fails_with_the_headers_found():
    body = one_sheet("Uttrekk_moms", [["Saksnummer", "Org.nr", "Mottaker", "Tildelt (NOK)"],
                                 ["S1", A, "Mottakar A", 100]])
    with pytest.raises(LayoutError) as err:
        lf.parse_workbook(body, 2023, MAPS, file="drifted.xlsx")
    message = str(err.value)
    assert message.startswith("drifted.xlsx, sheet 'Uttrekk_moms'")
    assert "missing ['Tildelt beløp']" in message
    assert "['Saksnummer', 'Org.nr', 'Mottaker', 'Tildelt (NOK)']" in message


# -- crawls ----------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_an_unmapped_year_fails_the_run_and_stores_nothing(tmp_path):
    db = tmp_path / "atlas.db"
    run = await crawl_file(db, "lottstift_momskompensasjon", RESPONSES / "unmapped_2025.xlsx")
    assert run["status"] == "failed"
    assert "a column map for 2025" in run["error"]
    assert "Orgnr mottaker" in run["error"]
    assert table_rows(db, "lottstift_momskompensasjon") == []


def make_brreg(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.executescript("""
        CREATE TABLE brreg_enheter (organisasjonsnummer TEXT PRIMARY KEY, navn TEXT,
            organisasjonsform_kode TEXT, forretningsadresse_kommune TEXT,
            forretningsadresse_kommunenummer TEXT,
            forretningsadresse_kommunenummer_current TEXT, doc TEXT);
        INSERT INTO brreg_enheter VALUES
            ('991000100', 'MOTTAKAR A', 'FLI', 'OSLO', '0301', '0301', '{}'),
            ('993000302', 'LOKALLAG C', 'FLI', 'HAMAR', '3403', '3403', '{}');
    """)
    conn.commit()
    conn.close()


@pytest_twisted.ensureDeferred
async def test_geography_comes_from_brreg_through_a_view(tmp_path):
    db = tmp_path / "atlas.db"
    make_brreg(db)
    settings = crawl_settings(db, cassette=GOLDEN, ATLAS_RAW_DIR="")
    await crawl("lottstift_momskompensasjon", settings)
    assert runs(db)[-1]["status"] == "ok"
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT organisasjonsnummer, year, amount_nok, in_brreg, brreg_navn, "
        "forretningsadresse_kommunenummer, forretningsadresse_kommunenummer_current "
        "FROM lottstift_momskompensasjon_brreg WHERE year = 2024 ORDER BY 1").fetchall()
    conn.close()
    assert rows == [
        (A, 2024, 160000.0, 1, "MOTTAKAR A", "0301", "0301"),
        (B, 2024, 39500.75, 0, None, None, None),  # not in Brreg: kept, with NULL geography
        (C, 2024, None, 1, "LOKALLAG C", "3403", "3403"),
        (F, 2024, 0.0, 0, None, None, None),
    ]


@pytest_twisted.ensureDeferred
async def test_without_brreg_the_run_succeeds_and_makes_no_view(tmp_path):
    db = tmp_path / "atlas.db"
    await crawl("lottstift_momskompensasjon",
                crawl_settings(db, cassette=GOLDEN, ATLAS_RAW_DIR=""), years="2024")
    assert runs(db)[-1]["status"] == "ok"
    conn = sqlite3.connect(db)
    views = conn.execute("SELECT name FROM sqlite_master WHERE type='view'").fetchall()
    conn.close()
    assert views == []
    assert {r["year"] for r in table_rows(db, "lottstift_momskompensasjon")} == {2024}
