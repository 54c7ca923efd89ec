"""Udir USS API answers and the statistikkbank export, parsed from real captures
(golden/udir_*/responses/, copied from realdata/udir; see their READMEs)."""

from __future__ import annotations

import pytest

from atlas_crawl.formats import udir
from atlas_crawl.run.golden import GOLDEN_DIR

pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")


def _read(name: str) -> bytes:
    found = sorted(GOLDEN_DIR.glob(f"udir_*/responses/{name}"))
    assert found, f"{name}: no golden/udir_*/responses/ holds this capture"
    return found[0].read_bytes()


def _by(cells, kode, level="Kommune"):
    return {c.measure: (c.value if c.status is None else c.status)
            for c in cells if c.row_kode == kode and c.level == level}


def test_rapportside_gives_base_path_period_filter_and_defaults():
    gsi = udir.parse_rapportside(_read("udir_api_rapportside_GSK_Elev_Skol.json"))
    assert gsi.base == "rest/v1/Statistikk/GSK/GSI/1/8"
    assert (gsi.period_filter, gsi.default_periods) == ("TidID", [202510])
    fravar = udir.parse_rapportside(_read("udir-fravar_rapportside.json"))
    assert fravar.default_periods == [202306, 202406, 202506]
    np5 = udir.parse_rapportside(_read("udir-nasjonale-prover_rapportside.trinn5.json"))
    assert np5.base == "rest/v1/Statistikk/GSK/NasjonaleProever/4/1"
    assert (np5.period_filter, np5.default_periods) == ("SkoleAarID", [20252026])
    assert "TrinnID" not in np5.filters  # yet the API accepts TrinnID(4)
    eug = udir.parse_rapportside(_read("udir-elevundersokelsen-mobbing_rapportside.json"))
    assert eug.defaults["TrinnID"] == [6, 9]


def test_urls():
    gsi = udir.parse_rapportside(_read("udir_api_rapportside_GSK_Elev_Skol.json"))
    assert udir.filterverdier_url(gsi) == (
        "https://statistikkportalen.udir.no/api/rapportering/rest/v1/Statistikk/GSK/GSI/1/8/"
        "filterVerdier?filter=TidID(202510)_EnhetID(*)")
    url = udir.data_url(gsi, {"TidID": 202410, "TrinnID": -10, "KjoennID": -10,
                              "KommunalitetID": -10}, "-12.*.*")
    assert url.endswith("/GSI/1/8/data?filter=TidID(202410)_TrinnID(-10)_KjoennID(-10)_"
                        "KommunalitetID(-10)&radSti=-12.*.*&inkluderKoder=true")


def test_gsi_data_strings_become_numbers_and_stars_status():
    cells = udir.parse_data(_read("udir-gsi_data_202410.json"))
    assert _by(cells, "42", "Fylke") == {
        "Antall elever": 38967,
        "Antall elever med individuelt tilrettelagt opplæring/spesialundervisning": 3630,
        "Antall elever med forsterket opplæring i norsk": 2189,
        "Antall skoler": 175,
    }
    assert _by(cells, "4203")["Antall elever"] == 5423
    traena = _by(cells, "1835")
    assert traena["Antall elever"] == 28
    assert traena["Antall elever med forsterket opplæring i norsk"] == "*"
    solund = _by(cells, "4636")  # a real zero, not a suppression
    assert solund["Antall elever med individuelt tilrettelagt opplæring/spesialundervisning"] == 0
    assert _by(cells, "2100")["Antall elever"] == 219  # Svalbard, listed under Troms
    assert _by(cells, "03", "Fylke") == _by(cells, "0301")  # Oslo twice
    assert {c.level for c in cells} == {"Fylke", "Kommune"}
    assert len({c.row_kode for c in cells if c.level == "Kommune"}) == 358
    first = cells[0]
    assert first.column == ("2024-25", "Alle trinn", "Alle trinn", "Alle kjønn",
                            "Alle eierformer", "Antall elever")


def test_fravar_decimal_commas_whole_row_suppression_and_absence():
    cells = udir.parse_data(_read("udir-fravar_data.202506.anchor12.json"))
    assert _by(cells, "42", "Fylke") == {
        "Median dager": 9.0, "Median timer": 8.0, "Snitt dager": 13.3, "Snitt timer": 13.1,
        "Antall elever": 4277}
    assert _by(cells, "4203") == {
        "Median dager": 10.0, "Median timer": 10.0, "Snitt dager": 14.8, "Snitt timer": 17.1,
        "Antall elever": 601}
    assert set(_by(cells, "5630").values()) == {"*"}  # Berlevåg
    assert set(_by(cells, "4629").values()) == {"*"}  # Modalen
    assert _by(cells, "1151") == {}  # Utsira: absent in 2024-25, not suppressed
    assert len({c.row_kode for c in cells if c.level == "Kommune"}) == 356


def test_nasjonale_prover_three_measures():
    cells = udir.parse_data(_read("udir-nasjonale-prover_data.trinn5.NPLES.anchor12.json"))
    assert _by(cells, "4203") == {"Skalapoeng": 48, "Usikkerhet": 0.8,
                                  "Antall elever deltatt": 465}
    assert _by(cells, "42", "Fylke")["Antall elever deltatt"] == 3484
    assert set(_by(cells, "4220").values()) == {"*"}


def test_elevundersokelsen_rows_are_measures():
    arendal = udir.parse_data(_read("udir_api_elevundersokelsen_mobbing_data_arendal_trinn10.json"))
    assert [(c.row_kode, c.level, c.value, c.status) for c in arendal] == [
        ("EUIndeks_1398", "Indikator", 12.2, None),
        ("EUSpoersmaal_Q11811", "Spørsmål", 7.6, None),
        ("EUSpoersmaal_Q11824", "Spørsmål", 6.0, None),
        ("EUSpoersmaal_Q11816", "Spørsmål", 4.9, None),
    ]
    assert arendal[0].column[3:5] == ("Arendal", "Alle skoler")
    bykle = udir.parse_data(_read("udir_api_elevundersokelsen_mobbing_data_bykle_trinn10.json"))
    assert [(c.value, c.status) for c in bykle] == [
        (None, "*"), (None, "*"), (0.0, None), (0.0, None)]


def test_the_column_header_names_the_kommune_a_saved_answer_was_asked_for():
    arendal = udir.parse_data(_read("udir_api_elevundersokelsen_mobbing_data_arendal_trinn10.json"))
    assert udir.column_region(arendal, "4203", "Arendal") == "Arendal"
    # a name in several language forms is also found by its first form
    kautokeino = [udir.DataCell(c.row_kode, c.row_navn, c.row_id, c.level,
                                (*c.column[:3], "Guovdageaidnu", *c.column[4:]), c.value,
                                c.status) for c in arendal]
    assert udir.column_region(kautokeino, "5612", "Guovdageaidnu - Kautokeino") == "Guovdageaidnu"
    assert udir.column_region([], "4203", "Arendal") == "Arendal"  # an empty answer
    assert udir.column_region([], "4299", None) == "4299"  # a code the geography does not know
    with pytest.raises(udir.UdirFormatError,
                       match=r"^-a regions=4222 \(Bykle\) is not among the answer's columns "
                             r"\['2025-26', 'Hele landet', 'Agder', 'Arendal', "):
        udir.column_region(arendal, "4222", "Bykle")


def test_empty_answer_is_absent():
    assert udir.parse_data(b'{"metadata":{"columns":[]},"rows":[]}') == []


def test_filterverdier_years_and_schools():
    fv = udir.parse_filterverdier(_read("udir-fravar_filterVerdier_EXCERPT.json"))
    years = fv.periods("TidID")
    assert (len(years), years[0].id, years[0].navn, years[-1].navn) == (
        11, 202506, "2024-25", "2014-15")
    assert all(udir.school_year(y.id, "YYYY06") == y.navn for y in years)

    eug = udir.parse_filterverdier(_read("udir-elevundersokelsen-mobbing_filterVerdier_EXCERPT.json"))
    schools = {s.school_id: s for s in udir.schools(eug)}
    asdal = next(s for s in schools.values() if s.name == "Asdal skole")  # "Asdal skole " upstream
    assert (asdal.kommune_code, asdal.kommune_name, asdal.fylke_code) == ("4203", "Arendal", "42")
    assert asdal.organisasjonsnummer == asdal.school_id and len(asdal.school_id) == 9
    london = schools["U90099013"]
    assert (london.name, london.kommune_code, london.fylke_code, london.organisasjonsnummer) == (
        "The Norwegian School in London", "2599", "25", None)
    kommuner = {r.kode for r in udir.regions(eug)}
    assert {"4203", "2599"} <= kommuner


@pytest.mark.parametrize(("code", "kind", "year"), [
    (202410, "YYYY10", "2024-25"), (202512, "YYYY12", "2025-26"),
    (202506, "YYYY06", "2024-25"), (20252026, "YYYYYYYY", "2025-26"),
    (199906, "YYYY06", "1998-99"),
])
def test_school_year(code, kind, year):
    assert udir.school_year(code, kind) == year


def test_school_year_rejects_the_wrong_shape():
    with pytest.raises(udir.UdirFormatError):
        udir.school_year(202410, "YYYY06")
    with pytest.raises(udir.UdirFormatError):
        udir.school_year(20252027, "YYYYYYYY")


def test_statistikkbank_export_long_rows_with_restored_codes():
    rows = udir.parse_statistikkbank_export(
        _read("udir_statistikkbank_grunnskolepoeng_export_20220621-1350.xlsx"))
    by = {(r.level, r.kommune_code, r.organisasjonsnummer, r.school_year, r.measure): r
          for r in rows}
    trogstad = by[("kommune", "0122", None, "2015-16", "Grunnskolepoeng")]
    assert (trogstad.name, trogstad.fylke_code, trogstad.value) == ("Trøgstad", "01", 39.5)
    assert by[("national", None, None, "2015-16", "Antall elever")].value == 60679
    oslo = by[("kommune", "0301", None, "2019-20", "Grunnskolepoeng")]
    assert oslo.value == 44.9
    assert oslo.brudd.startswith("Skoleårene 2019-20 og 2020-21 ble alle eksamener")
    rost = by[("kommune", "1856", None, "2017-18", "Grunnskolepoeng")]
    assert (rost.value, rost.status) == (None, "*")
    asdal = by[("skole", "4203", "975280888", "2015-16", "Grunnskolepoeng")]
    assert (asdal.name, asdal.value) == ("Asdal skole", 39.3)
    assert len(rows) == 26296  # blank cells (places and years without figures) give no row
    assert len(list(udir.iter_export_schools(rows))) == 1198
