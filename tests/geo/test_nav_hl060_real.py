"""The real HL060 workbook of 2022 (golden/nav_helt_ledige_hl060_2022_10/) and what it showed the
geography: a fylke written with only some of its language variants is still that fylke."""

from __future__ import annotations

import pytest

from atlas_crawl.formats import nav
from atlas_crawl.geo import resolve
from atlas_crawl.run.golden import GOLDEN_DIR

WORKBOOK = (GOLDEN_DIR / "nav_helt_ledige_hl060_2022_10" / "responses"
            / "Telemark 202210_HL060 Helt ledige. Fylke og kommune. Tidsserie maaned.xlsx")

pytestmark = pytest.mark.filterwarnings("ignore:Workbook contains no default style")


def test_a_fylke_named_with_two_of_its_three_language_variants():
    place = resolve("Troms og Finnmark - Romsa ja Finnmárku", 2022, level="fylke")
    assert (place.code, place.level) == ("54", "fylke")
    # the whole name as Klass writes it, and the Norwegian one, as before
    assert resolve("Troms og Finnmark - Romsa ja Finnmárku - Tromssa ja Finmarkku", 2022).code \
        == "54"
    assert resolve("Troms og Finnmark", 2022, level="fylke").code == "54"


def test_nav_s_other_areas_are_svalbard_and_the_rest_not_a_kommune():
    assert resolve("Øvrige områder", 2022).status == "special"


def test_real_hl060_figures():
    rows = nav.parse_workbook(WORKBOOK.read_bytes(), "HL060", file=WORKBOOK.name)
    cells = {(r.region_code, r.period, r.measure): r.value for r in rows if r.region_code}
    assert cells[("4601", "2022-10", "antall")] == 2749
    assert cells[("4601", "2022-10", "prosent")] == 1.8
    assert cells[("0301", "2022-01", "antall")] == 13613
