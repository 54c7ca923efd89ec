"""IMDi bosettingstall pages, parsed from real captures (golden/imdi_bosetting/responses/, from realdata/imdi)."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas_crawl.formats.imdi import ImdiLayoutError, parse_hub, parse_year_page
from atlas_crawl.run.golden import GOLDEN_DIR

REAL = GOLDEN_DIR / "imdi_bosetting" / "responses"
HUB = REAL / "imdi_bosettingstall_hub_EXCERPT.html"
PAGE_2025 = REAL / "imdi_nokkeltall-bosetting-2025_EXCERPT.html"
PAGE_2026 = REAL / "imdi_nokkeltall-bosetting-2026_EXCERPT.html"
URL = "https://www.imdi.no/bosetting/bosettingstall/nokkeltall-bosetting-{}/"


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _cells(rows, name, level="kommune"):
    return {r.metric: (r.value if r.status is None else r.status)
            for r in rows if r.name == name and r.level == level}


def test_hub_lists_every_year_page_newest_first():
    pages = parse_hub(_read(HUB))
    assert [p.year for p in pages] == [2026, 2025, 2024, 2023, 2022]
    assert pages[1].url == URL.format(2025)


def test_2026_oslo_row_has_six_metrics():
    rows = parse_year_page(_read(PAGE_2026), year=2026, url=URL.format(2026))
    assert _cells(rows, "Oslo") == {
        "anmodet": 600, "vedtatt": 600, "bosatte": 386, "bosatte_kollektiv_beskyttelse": 345,
        "avtalt": 132, "avtalt_kollektiv_beskyttelse": 103,
    }
    oslo = [r for r in rows if r.name == "Oslo" and r.level == "kommune"]
    assert {r.group for r in oslo} == {"Oslo"}


def test_2026_status_text_dash_and_suppression_are_kept():
    rows = parse_year_page(_read(PAGE_2026), year=2026)
    assert _cells(rows, "Gjerstad") == {
        "anmodet": 15, "vedtatt": "avventer vedtak", "bosatte": 5,
        "bosatte_kollektiv_beskyttelse": ":", "avtalt": ":", "avtalt_kollektiv_beskyttelse": ":",
    }
    utsira = _cells(rows, "Utsira")
    assert utsira["anmodet"] == 0 and utsira["vedtatt"] == "-" and utsira["bosatte"] == 0
    gjerstad_vedtatt = next(r for r in rows if r.name == "Gjerstad" and r.metric == "vedtatt")
    assert gjerstad_vedtatt.value is None
    assert _cells(rows, "Arendal") == {
        "anmodet": 105, "vedtatt": 85, "bosatte": 67, "bosatte_kollektiv_beskyttelse": 57,
        "avtalt": 11, "avtalt_kollektiv_beskyttelse": ":",
    }


def test_2026_tables_and_fylke_summary():
    rows = parse_year_page(_read(PAGE_2026), year=2026)
    kommune = [r for r in rows if r.level == "kommune"]
    # the excerpt keeps Agder (25), Akershus (21), Buskerud (18), Oslo (1) and Rogaland (23)
    assert len({r.name for r in kommune}) == 25 + 21 + 18 + 1 + 23
    assert len(kommune) == (25 + 21 + 18 + 1 + 23) * 6
    assert {r.group for r in kommune} == {"Agder", "Akershus", "Buskerud", "Oslo", "Rogaland"}
    assert _cells(rows, "Agder", level="fylke") == {
        "anmodet": 800, "vedtatt": 585, "bosatte": 421, "bosatte_kollektiv_beskyttelse": 378,
        "avtalt": 95, "avtalt_kollektiv_beskyttelse": 79,
    }
    assert all(r.year == 2026 for r in rows)


def test_2025_has_four_metrics_and_its_own_values():
    rows = parse_year_page(_read(PAGE_2025), url=URL.format(2025))  # year from the heading
    assert {r.year for r in rows} == {2025}
    assert _cells(rows, "Arendal") == {
        "anmodet": 85, "vedtatt": 115, "bosatte": 86, "bosatte_kollektiv_beskyttelse": 75}
    assert _cells(rows, "Birkenes") == {
        "anmodet": 0, "vedtatt": "-", "bosatte": 0, "bosatte_kollektiv_beskyttelse": 0}
    assert _cells(rows, "Bygland") == {
        "anmodet": 5, "vedtatt": 5, "bosatte": ":", "bosatte_kollektiv_beskyttelse": ":"}
    assert _cells(rows, "Ås") == {
        "anmodet": 25, "vedtatt": 25, "bosatte": 24, "bosatte_kollektiv_beskyttelse": ":"}
    assert _cells(rows, "Agder", level="fylke") == {
        "anmodet": 765, "vedtatt": 970, "bosatte": 664, "bosatte_kollektiv_beskyttelse": 560}
    assert _cells(rows, "Østfold", level="fylke")["bosatte"] == 280
    assert len([r for r in rows if r.level == "fylke"]) == 15 * 4


def test_page_year_disagreeing_with_heading_is_drift():
    with pytest.raises(ImdiLayoutError, match="2024"):
        parse_year_page(_read(PAGE_2025), year=2024)


# Constructed from the documented 2022 layout (SOURCE-FACTS §3: Oslo 2022 anmodet 2000,
# vedtatt 2000, bosatte 1 924, kollektiv beskyttelse 1616), not a capture.
CONSTRUCTED_2022 = """<html><body>
<h2>Oversikt over bosettingen i kommunene i 2022</h2>
<h3><a id="Oslo"></a>Oslo - oversikt over bosettingen i 2022</h3>
<table border="1"><thead><tr><th>Kommune</th>
<th>Antall personer kommunen har blitt anmodet om &aring; bosette:</th>
<th>Antall personer kommunen har vedtatt &aring; bosette:</th>
<th>Antall bosatte personer:</th>
<th>Antall bosatte personer med kollektiv beskyttelse:</th></tr></thead>
<tbody><tr><td>Oslo</td><td>2000</td><td>2000</td><td>1&nbsp;924</td><td>1616</td></tr></tbody>
</table></body></html>"""


def test_thousands_space_is_read():
    rows = parse_year_page(CONSTRUCTED_2022.encode(), year=2022)
    assert _cells(rows, "Oslo") == {
        "anmodet": 2000, "vedtatt": 2000, "bosatte": 1924, "bosatte_kollektiv_beskyttelse": 1616}


def test_unknown_header_is_drift_with_the_header_named():
    page = CONSTRUCTED_2022.replace("Antall bosatte personer:", "Antall bosatte barn:")
    with pytest.raises(ImdiLayoutError) as err:
        parse_year_page(page, year=2022, url=URL.format(2022))
    message = str(err.value)
    assert "Antall bosatte barn:" in message
    assert "Oslo - oversikt over bosettingen i 2022" in message
    assert URL.format(2022) in message


def test_page_without_kommune_section_is_drift():
    page = CONSTRUCTED_2022.replace("Oversikt over bosettingen i kommunene", "Tall")
    with pytest.raises(ImdiLayoutError, match="kommune tables"):
        parse_year_page(page, year=2022)


def test_row_with_missing_cell_is_drift():
    page = CONSTRUCTED_2022.replace("<td>1616</td>", "")
    with pytest.raises(ImdiLayoutError, match="5 cells per row"):
        parse_year_page(page, year=2022)
