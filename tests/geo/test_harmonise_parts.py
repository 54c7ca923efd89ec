"""Which kommuner of a year make up today's kommune or fylke (atlas_crawl.geo.harmonise), on the
shipped snapshot: merges, renumbering, the 2020 and 2024 splits, gaps in the change history, and
the value rule (no sum unless every part has a value)."""

from __future__ import annotations

from collections import Counter

import pytest

from atlas_crawl.geo.build_snapshot import HORIZON
from atlas_crawl.geo.harmonise import (
    AS_PUBLISHED,
    COMPUTED,
    HISTORY_FROM,
    NOT_COMPARABLE,
    SUM,
    combine,
    composition,
    fylke_compositions,
    kommune_compositions,
    kommuner_of_fylke,
    source_on_today_codes,
)


def test_kristiansand_before_2020_is_three_kommuner():
    c = composition("4204", 2019)
    assert (c.method, c.parts, c.today_name) == (SUM, ("1001", "1017", "1018"), "Kristiansand")
    assert c.parts_text == "1001+1017+1018"
    assert composition("4204", 2020).method == AS_PUBLISHED
    assert composition("4204", 2020).parts == ("4204",)


def test_renumbered_kommune_is_as_published_under_its_old_code():
    assert composition("3101", 2015).parts == ("0101",)
    assert composition("3101", 2015).method == AS_PUBLISHED
    assert composition("3101", 2022).parts == ("3001",)  # Viken's code, 2020-2023


def test_alesund_split_2024_uses_klass_note_on_old_haram():
    before = composition("1508", 2019)
    assert (before.method, before.parts) == (SUM, ("1504", "1523", "1529", "1546"))
    haram = composition("1580", 2019)
    assert (haram.method, haram.parts) == (AS_PUBLISHED, ("1534",))
    for code in ("1508", "1580"):
        for year in (2020, 2021, 2022, 2023):
            c = composition(code, year)
            assert c.method == NOT_COMPARABLE and c.parts == ("1507",)
            assert c.reason == "split in 2024: Ålesund → Ålesund and Haram"
    assert composition("1508", 2024).method == AS_PUBLISHED


def test_tysfjord_split_2020_makes_narvik_and_hamaroy_not_comparable_before():
    narvik = composition("1806", 2019)
    assert narvik.method == NOT_COMPARABLE
    assert narvik.parts == ("1805", "1850", "1854")
    assert narvik.reason.startswith("split in 2020: Tysfjord")
    assert "Narvik" in narvik.reason and "Hamarøy" in narvik.reason


def test_before_the_history_is_complete_nothing_is_claimed():
    # Skjerstad joined Bodø in 2005: the code history has it, but before 2006 no sum is claimed
    assert HISTORY_FROM == "2006-01-01" == HORIZON  # the snapshot builder's own horizon
    bodo = composition("1804", 2004)
    assert bodo.method == NOT_COMPARABLE and "before 2006" in bodo.reason
    assert composition("1804", 2006).method == AS_PUBLISHED


def test_counts_per_year_follow_the_reforms():
    def methods(year):
        return Counter(c.method for c in kommune_compositions(year))

    assert methods(2024) == {AS_PUBLISHED: 357}
    # 2020-2023: only Ålesund's split leaves two kommuner without a comparable value
    assert methods(2021) == {AS_PUBLISHED: 355, NOT_COMPARABLE: 2}
    # 2019: Narvik, Hamarøy (Tysfjord) and Heim, Hitra, Orkland (Snillfjord) were splits
    assert methods(2019)[NOT_COMPARABLE] == 5
    assert methods(2019)[SUM] == 38


def test_fylker_across_the_viken_years_are_computed_from_kommuner():
    by_code = {c.today: c for c in fylke_compositions(2022)}
    for code in ("31", "32", "33", "39", "40", "55", "56"):
        assert by_code[code].method == COMPUTED
        assert by_code[code].parts == kommuner_of_fylke(code)
    assert by_code["31"].parts[0] == "3101" and len(by_code["31"].parts) == 12
    assert by_code["03"].method == AS_PUBLISHED and by_code["03"].parts == ("03",)
    # Østfold of 2019 lost Rømskog to Akershus: not today's Østfold
    assert composition("31", 2019, "fylke").method == COMPUTED


def test_a_code_the_source_uses_before_it_existed_is_todays_place():
    assert source_on_today_codes("3101", 2015)  # Halden on today's code, in a 2015 row
    assert not source_on_today_codes("0301", 2015)  # Oslo's own code in 2015
    assert not source_on_today_codes("0101", 2015)  # ended: not today's code
    assert source_on_today_codes("31", 2022, "fylke")


# -- constructed cases (values made up for the test) ----------------------------------------------

def test_sum_needs_every_part_with_a_value():
    c = composition("4204", 2015)
    parts = [("1001", 90000, None), ("1017", 6500, None), ("1018", 11000, None)]
    assert combine(parts, True, c) == (107500, SUM, None)
    assert combine(parts, False, c) == (None, NOT_COMPARABLE, "not additive")
    suppressed = [("1001", 90, None), ("1017", None, ":"), ("1018", 11, None)]
    assert combine(suppressed, True, c) == (None, NOT_COMPARABLE, "part suppressed: 1017 :")
    assert combine(parts[:2], True, c) == (None, NOT_COMPARABLE, "part not published: 1018")


def test_split_gives_the_reason_not_a_value():
    c = composition("1580", 2022)
    assert combine([("1507", 67000, None)], True, c) == (
        None, NOT_COMPARABLE, "split in 2024: Ålesund → Ålesund and Haram")


def test_unknown_today_code_is_an_error():
    with pytest.raises(KeyError, match="1001 is not a kommune today"):
        composition("1001", 2015)
