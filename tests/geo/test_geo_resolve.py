"""atlas_crawl.geo.resolve: every case issue 3 names, with the values the reform history gives."""

from datetime import date

import pytest

from atlas_crawl.geo import Place, resolve
from atlas_crawl.geo.reference import on_date


def where(raw, on=None, within=None) -> tuple:
    p = resolve(raw, on, within)
    return p.level, p.code, p.current, p.status


# --- the forms a source writes ---------------------------------------------------------------

@pytest.mark.parametrize("raw", [301, "301", "0301", " 0301 ", "0301 Oslo", "0301 - Oslo",
                                 "Oslo", "oslo", "Oslo - Oslove", 301.0, "301.0"])
def test_forms_of_oslo(raw):
    assert where(raw) == ("kommune", "0301", "0301", "exact")


def test_int_and_padded_codes():
    assert where(3) == ("fylke", "03", "03", "exact")
    assert where(118, 2019) == ("kommune", "0118", "3124", "renamed")  # Udir writes 118
    assert where(30101) == ("bydel", "030101", "030101", "exact")


def test_k_prefix_is_an_aggregate_with_todays_code():
    assert where("K-0301") == ("kommune", "0301", "0301", "aggregate")
    k3001 = resolve("K-3001", 2010)  # KommSummer: 3001's borders, whatever the year
    assert (k3001.code, k3001.current, k3001.name, k3001.status) == (
        "3001", "3101", "Halden", "aggregate")
    assert where("K-1507") == ("kommune", "1507", None, "split")
    assert resolve("K-1507").successors == ("1508", "1580")


def test_ssb_kommsummer_specials():
    svalbard = resolve("K-21-22")
    assert (svalbard.level, svalbard.status, svalbard.name) == (
        "special", "special", "Svalbard og Jan Mayen")
    rest = resolve("K-Rest")
    assert (rest.status, rest.name) == ("unknown", "Delte kommuner og uoppgitt")


def test_bydel_code_with_name():
    p = resolve("030101 Gamle Oslo")
    assert (p.level, p.code, p.current, p.name, p.status) == (
        "bydel", "030101", "030101", "Gamle Oslo", "exact")


def test_code_and_name_that_disagree_is_not_placed():
    p = resolve("0301 Bergen")
    assert p.status == "unresolvable" and not p.placed
    assert p.note == "code 0301 is Oslo, but the name beside it says 'Bergen'"


def test_name_with_period_qualifier():
    p = resolve("Halden (2020-2023)")
    assert (p.code, p.current, p.status) == ("3001", "3101", "renamed")
    assert where("Skiptvet ( - 2019)") == ("kommune", "0127", "3116", "renamed")  # Udir style


def test_land_and_unknown():
    assert where("Hele landet") == ("land", "0", "0", "aggregate")
    assert where("0") == where(0) == ("land", "0", "0", "aggregate")
    ukjent = resolve("Ukjent")
    assert (ukjent.level, ukjent.code, ukjent.status) == ("kommune", "9999", "unknown")
    assert where("9999") == ("kommune", "9999", "9999", "unknown")
    assert where("99") == ("fylke", "99", "99", "unknown")


def test_xx99_is_a_real_uoppgitt_code():
    p = resolve("5099")
    assert (p.level, p.code, p.current, p.status) == ("kommune", "5099", "5099", "unknown")
    assert p.name == "Uoppgitt kommune i Trøndelag - Trööndelage"
    # Viken's uoppgitt code has no single successor fylke: kept, without a current code
    assert where("3099") == ("kommune", "3099", None, "unknown")


# --- the reforms --------------------------------------------------------------------------------

def test_moss_and_rygge_to_3002_to_3103():
    assert where("0104", 2019) == ("kommune", "0104", "3103", "merged")
    assert where("0136", 2019) == ("kommune", "0136", "3103", "merged")
    assert resolve("0136", 2019).name == "Rygge"
    assert where("3002", 2021) == ("kommune", "3002", "3103", "renamed")
    assert where("3103", 2024) == ("kommune", "3103", "3103", "exact")


def test_drammen_nedre_eiker_svelvik_to_3005_to_3301():
    for old in ("0602", "0625", "0711"):
        assert where(old, 2019) == ("kommune", old, "3301", "merged")
    assert where("3005", 2022) == ("kommune", "3005", "3301", "renamed")


def test_trondheim_1601_to_5001_and_klaebu_joins_in_2020():
    t = resolve("1601", 2017)
    assert (t.code, t.current, t.name, t.status) == ("1601", "5001", "Trondheim", "merged")
    assert where("5030", 2019) == ("kommune", "5030", "5001", "merged")  # Klæbu
    assert where("1662", 2017) == ("kommune", "1662", "5001", "merged")  # Klæbu before 2018
    # 5001's own numbers before 2020 cover less ground than today's 5001
    assert where("5001", 2019) == ("kommune", "5001", "5001", "merged")
    assert where("5001", 2020) == ("kommune", "5001", "5001", "exact")


def test_tysfjord_and_snillfjord_split_in_2020():
    tysfjord = resolve("1850", 2019)
    assert (tysfjord.current, tysfjord.successors, tysfjord.status) == (
        None, ("1806", "1875"), "split")
    assert tysfjord.placed  # a split is placed (its own code), just not mapped forward
    snillfjord = resolve("5012", 2019)
    assert (snillfjord.current, snillfjord.successors, snillfjord.status) == (
        None, ("5055", "5056", "5059"), "split")


def test_alesund_1507_splits_into_1508_and_haram_1580_in_2024():
    p = resolve("1507", 2023)
    assert (p.code, p.current, p.successors, p.status) == ("1507", None, ("1508", "1580"), "split")
    # Klass's note on 1507: 1580's border is pre-2020 Haram's, so the kommuner that formed 1507
    # in 2020 map onto today's codes by ground
    assert where("1534", 2019) == ("kommune", "1534", "1580", "renamed")  # Haram
    assert where("1504", 2019) == ("kommune", "1504", "1508", "merged")  # Ålesund
    assert where("1546", 2019) == ("kommune", "1546", "1508", "merged")  # Sandøy
    assert where("1580") == ("kommune", "1580", "1580", "exact")
    assert resolve("Haram").code == "1580"


def test_county_splits_of_2024():
    assert resolve("30", 2023).successors == ("31", "32", "33")
    assert resolve("38", 2023).successors == ("39", "40")
    assert resolve("54", 2023).successors == ("55", "56")
    for code in ("30", "38", "54"):
        assert resolve(code).status == "split" and resolve(code).current is None
    assert where("Viken") == ("fylke", "30", None, "split")


def test_county_history_follows_the_kommuner():
    assert where("34", 2021) == ("fylke", "34", "34", "exact")
    assert where("03", 2019) == ("fylke", "03", "03", "exact")
    assert where("04", 2019) == ("fylke", "04", "34", "merged")  # Hedmark: Oppland joined it
    # Østfold 2019 is not Østfold 2024: Rømskog (0121) went to Aurskog-Høland, in Akershus
    assert resolve("01", 2019).successors == ("31", "32")
    assert where("16", 2017) == ("fylke", "16", "50", "merged")


def test_renumbering_only():
    assert where("0101", 2019) == ("kommune", "0101", "3101", "renamed")
    assert where("1201", 2019) == ("kommune", "1201", "4601", "renamed")
    assert where("120101", 2019) == ("bydel", "120101", "460101", "renamed")
    assert where("160104", 2017) == ("bydel", "160104", "500104", "renamed")


def test_rindal_moved_county_on_2019_01_01():
    assert where("1567", 2018) == ("kommune", "1567", "5061", "renamed")
    assert where("5061", 2019) == ("kommune", "5061", "5061", "exact")


# --- names that exist twice -------------------------------------------------------------------

def test_heroy_is_ambiguous_without_a_fylke():
    p = resolve("Herøy")
    assert (p.status, p.code, p.candidates) == ("ambiguous", None, ("1515", "1818"))
    assert not p.placed
    assert "1515 Herøy (Møre og Romsdal), 1818 Herøy (Nordland)" in p.note
    assert where("Herøy", within="Nordland") == ("kommune", "1818", "1818", "exact")
    assert where("Herøy", within="18") == ("kommune", "1818", "1818", "exact")
    assert where("Herøy", within="Møre og Romsdal") == ("kommune", "1515", "1515", "exact")
    assert where("Herøy (Nordland)") == ("kommune", "1818", "1818", "exact")


def test_valer_in_innlandet_and_ostfold():
    assert resolve("Våler", 2022).candidates == ("3018", "3419")
    assert resolve("Våler").candidates == ("3114", "3419")
    assert where("Våler", 2022, within="Viken") == ("kommune", "3018", "3114", "renamed")
    assert where("Våler", within="Østfold") == ("kommune", "3114", "3114", "exact")
    assert where("Våler", within="Hedmark") == ("kommune", "3419", "3419", "exact")
    assert where("Våler (Hedm.)", 2022) == ("kommune", "3419", "3419", "exact")  # IMDi
    assert where("Våler (Østfold)") == ("kommune", "3114", "3114", "exact")


def test_imdi_disambiguations():
    assert where("Os (Hedm.)", 2022) == ("kommune", "3430", "3430", "exact")
    assert where("Nes (Ak.)", 2022) == ("kommune", "3034", "3228", "renamed")
    assert where("Nes (Ak.)", 2025) == ("kommune", "3228", "3228", "exact")
    assert where("Bø (Nordland)") == ("kommune", "1867", "1867", "exact")
    assert where("Sande (Møre og Romsdal)") == ("kommune", "1514", "1514", "exact")
    assert resolve("Sande", 2019).candidates == ("0713", "1514")


def test_unknown_bracket_and_unknown_parent_say_why():
    p = resolve("Våler (Oslo)")
    assert p.status == "unresolvable"
    assert p.note == "no place called 'Våler' lies in the fylke named in 'Våler (Oslo)'"
    p = resolve("Herøy", within="Atlantis")
    assert p.status == "unresolvable" and "'Atlantis'" in p.note


# --- Sámi and Kven variants --------------------------------------------------------------------

@pytest.mark.parametrize("raw,code", [
    ("Harstad - Hárstták", "5503"), ("Hárstták", "5503"), ("Harstad", "5503"),
    ("Kaivuono", "5540"), ("Gáivuotna", "5540"), ("Kåfjord", "5540"),
    ("Guovdageaidnu", "5612"), ("Kautokeino", "5612"), ("Tana", "5628"), ("Deatnu", "5628"),
    ("Tråante", "5001"), ("Tråanten", "5001"), ("Raane", "1833"), ("Snåase", "5041"),
])
def test_sami_and_kven_variants(raw, code):
    p = resolve(raw)
    assert (p.level, p.code, p.current) == ("kommune", code, code)


def test_sami_name_of_a_fylke():
    assert where("Romsa") == ("fylke", "55", "55", "exact")
    assert where("Nordlánnda") == ("fylke", "18", "18", "exact")
    assert where("Harstad - Hárstták", 2021) == ("kommune", "5402", "5503", "renamed")


# --- Svalbard, Jan Mayen and the other special codes -------------------------------------------

@pytest.mark.parametrize("raw,name", [
    ("21", "Svalbard"), ("2100", "Svalbard"), ("2111", "Spitsbergen"), ("2199", "Svalbard"),
    ("22", "Jan Mayen"), ("2211", "Jan Mayen"), ("23", "Kontinentalsokkelen"),
    ("25", "Utlandet"), ("2599", "Utlandet, uspesifisert"), ("26", "Havområder"),
    ("88", "Ikke bosatt i Norge"), ("2100 Svalbard", "Svalbard"),
])
def test_special_codes(raw, name):
    p = resolve(raw)
    assert (p.level, p.status, p.name, p.current) == ("special", "special", name, p.code)


def test_u_suffixed_historical_code():
    p = resolve("0716u")
    assert (p.code, p.name, p.current, p.status) == ("0716", "Våle", "3905", "merged")
    assert where("0716", 2010) == ("kommune", "0716", "3905", "merged")  # Re, same code later
    assert resolve("0716", 2010).name == "Re"
    p = resolve("0432u")
    assert p.status == "unresolvable" and "refresh_snapshot" in p.note


# --- entities, spaces, service bydeler, Husbanken -----------------------------------------------

@pytest.mark.parametrize("raw", ["B&aelig;rum", "B&amp;aelig;rum", "Bærum ", " Bærum\u00a0",
                                 "Bærum  ", "BÆRUM", "Bærum kommune"])
def test_entities_and_spaces(raw):
    assert where(raw) == ("kommune", "3201", "3201", "exact")


def test_husbanken_oslo_numbering_and_service_bydeler():
    p = resolve("0311")
    assert (p.level, p.code, p.current, p.name, p.status) == (
        "bydel", "030101", "030101", "Gamle Oslo", "exact")
    assert "Husbanken" in p.note and "Sentrum" in p.note
    assert resolve("0325").code == "030115"
    assert resolve("0326").status == "unresolvable"
    assert resolve("Bydel Grünerløkka").code == "030102"
    assert resolve("Grunerløkka").code == "030102"  # Husbanken's spelling
    assert where("030116") == ("bydel", "030116", "030116", "exact")  # Sentrum: geographic only
    assert where("Marka") == ("bydel", "030117", "030117", "exact")


def test_unknown_bydel():
    assert where("030199") == ("bydel", "030199", "030199", "unknown")
    assert where("120199", 2019) == ("bydel", "120199", "460199", "unknown")
    assert where("110399") == ("bydel", "110399", "110399", "unknown")


def test_stavanger_gained_finnoy_and_rennesoy_in_2020():
    assert where("Finnøy", 2019) == ("kommune", "1141", "1103", "merged")
    assert where("Finnøy") == ("bydel", "110308", "110308", "exact")
    assert where("1103", 2019) == ("kommune", "1103", "1103", "merged")


def test_failures_say_why():
    assert resolve("Atlantis").note == "no fylke, kommune or bydel in the snapshot is called 'Atlantis'"
    assert resolve("").note == "empty value"
    assert resolve(None).status == "unresolvable"
    assert resolve("0333").note == "0333 is not a kommune code in the snapshot"
    assert resolve("999999").status == "unresolvable"


def test_code_used_outside_its_lifetime_keeps_its_own_validity():
    p = resolve("3101", 2019)  # a source applying today's division to old years
    assert (p.code, p.current, p.status) == ("3101", "3101", "exact")
    assert p.note == "kommune 3101 is not valid on 2019-01-01 (valid from 2024-01-01)"
    p = resolve("0104", 2022)  # a stale code
    assert (p.code, p.current) == ("0104", "3103")
    assert p.note == "kommune 0104 is not valid on 2022-01-01 (valid until 2020-01-01)"


def test_on_accepts_dates_years_and_periods():
    assert on_date(2019) == on_date("2019") == on_date(date(2019, 1, 1)) == "2019-01-01"
    assert on_date("2026K2") == "2026-04-01"
    assert on_date("202603") == "2026-03-01"
    assert on_date("2023-2024") == "2023-01-01"
    with pytest.raises(ValueError):
        on_date("last year")


def test_results_are_cached_value_objects():
    a = resolve("0301 Oslo", 2020)
    assert a is resolve("0301 Oslo", 2020)
    assert isinstance(a, Place)
    with pytest.raises(AttributeError):
        a.code = "x"


def test_level_says_which_oslo():
    assert where("Oslo") == ("kommune", "0301", "0301", "exact")
    p = resolve("Oslo", level="fylke")
    assert (p.level, p.code, p.current, p.status) == ("fylke", "03", "03", "exact")
    # a code keeps its own level whatever is preferred
    assert resolve("0301", level="fylke").level == "kommune"


def test_nav_rollup_labels():
    assert where("I alt Telemark") == ("fylke", "40", "40", "exact")
    assert where("I alt Stavanger") == ("kommune", "1103", "1103", "exact")
    assert where("I alt Ukjent") == ("kommune", "9999", "9999", "unknown")
    assert where("I alt Svalbard og øvrige områder") == ("special", "21", "21", "special")


def test_a_place_is_within_itself():
    # IMDi lists Oslo as the only kommune under the heading "Oslo"
    assert where("Oslo", 2025, within="Oslo") == ("kommune", "0301", "0301", "exact")
    assert where("Arna", within="Bergen") == ("bydel", "460101", "460101", "exact")


def test_bilingual_kommune_name_in_a_fylke_column_means_the_fylke():
    # NAV labels the Oslo fylke block "03 Oslo - Oslove", which is the kommune's Klass name.
    place = resolve("Oslo - Oslove", level="fylke")
    assert (place.level, place.code) == ("fylke", "03")
    assert resolve("Oslo - Oslove").code == "0301"


def test_name_of_a_code_is_a_lookup_not_a_placement():
    from atlas_crawl.geo import name_of
    assert name_of("4203") == "Arendal"
    assert name_of("5612") == "Guovdageaidnu - Kautokeino"
    assert name_of("42") == "Agder" and name_of("030101") == "Gamle Oslo"
    # a code no longer in use keeps its last name; a reused code has its latest holder's
    assert name_of("1850") == "Tysfjord - Divtasvuodna"
    assert name_of("0716") == "Re"
    # what is not a plain fylke, kommune or bydel code has no name here (resolve places those)
    assert [name_of(c) for c in ("9999", "K-0301", "0301 Oslo", "12345")] == [None] * 4


def test_codes_given_up_between_1971_and_2006():
    """Klass 131's own history places the codes FHI's table (from 2006) does not know."""
    assert where("0102", 1990) == ("kommune", "0102", "3105", "merged")  # Sarpsborg -> 0105
    varteig = resolve("0114", 1990)  # split between Sarpsborg and Rakkestad: never apportioned
    assert (varteig.status, varteig.current, varteig.successors) == ("split", None,
                                                                      ("3105", "3120"))
    assert where("0703", 1987) == ("kommune", "0703", "3901", "merged")  # Horten -> 0701
    assert where("1214", 1995) == ("kommune", "1214", "1160", "merged")  # Ølen, via 1159
    assert where("0718", 1999) == ("kommune", "0718", "3905", "merged")  # Ramnes -> Re
    assert resolve("0716", 1999).name == "Våle"
    assert resolve("0716", 2003).name == "Re"
