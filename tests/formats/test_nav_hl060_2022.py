"""NAV's public HL060 of October 2022 (real): every NAV sheet read, the national total, fylke
names in their Sámi forms and NAV's "Øvrige områder" placed, never quarantined."""

from __future__ import annotations

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import nav
from atlas_crawl.geo.reference import resolve
from atlas_crawl.items import Batch, Provenance
from atlas_crawl.pipelines.geography import GeographyPipeline
from atlas_crawl.spiders.nav import place_of

HL060_2022 = PROJECT_DIR / "tests" / "data" / "nav_hl060" / "202210_HL060_telemark_archive.xlsx"


def _rows():
    return nav.parse_workbook(HL060_2022.read_bytes(), "HL060", file=HL060_2022.name)


def test_every_nav_sheet_is_read():
    rows = _rows()
    assert {r.sheet for r in rows} == {"1. Fylke Antall", "2. Fylke Prosent av arbeidsstyr",
                                      "3. Kommune Antall", "4. Kommune Prosent av arbeidsst"}
    assert len(rows) == 7680
    assert {r.period for r in rows} == {f"2022-{m:02d}" for m in range(1, 11)}


def test_the_national_total_and_the_fylke_rows():
    by = {(r.region, r.measure, r.period): r for r in _rows()}
    total = by[("0", "antall", "2022-01")]
    assert (total.level, total.aggregate, total.value, total.sheet) == (
        "national", True, 74143, "1. Fylke Antall")
    assert by[("0", "prosent", "2022-02")].value == 2.2
    tf = by[("54", "antall", "2022-01")]
    assert (tf.region_name, tf.level, tf.value) == (
        "Troms og Finnmark - Romsa ja Finnmárku", "fylke", 2699)
    other = by[("99", "antall", "2022-01")]
    assert (other.region_name, other.value) == ("Øvrige områder", 30)
    assert (by[("99", "prosent", "2022-01")].value, by[("99", "prosent", "2022-01")].status) == (
        None, "*")
    # Ukjent is on both kinds of sheet with the same numbers: kept once
    ukjent = [r for r in _rows() if r.region == "Ukjent" and r.measure == "antall"]
    assert len(ukjent) == 10 and ukjent[0].sheet == "3. Kommune Antall"
    # the national total is the sum of the fylker, NAV's group and Ukjent
    parts = [r.value for (region, m, p), r in by.items()
             if m == "antall" and p == "2022-01" and r.sheet == "1. Fylke Antall"
             and region != "0"]
    assert sum(parts) + 9 == 74143


def _placed(rows: list[nav.NavRow]) -> dict[str, tuple]:
    """region -> (place, code, level, status): each row as the spider hands it to the geography
    pipeline, placed as nav_helt_ledige's manifest says; nothing may be quarantined."""
    batch = Batch(source_id="nav_helt_ledige", columns=["region", "level", "place", "period"],
                  rows=[(r.region, r.level, place_of(r), r.period) for r in rows],
                  key=["region", "period"], provenance=Provenance.of("test", b""))
    GeographyPipeline().process_item(batch)
    assert batch.quarantine == []
    return {row[0]: (row[2], row[4], row[6], row[7]) for row in batch.rows}


def test_fylke_names_in_their_official_forms_are_placed():
    rows = [r for r in _rows() if r.measure == "antall" and r.period == "2022-01"]
    placed = _placed(rows)
    # the rollups carry no code: the name as NAV wrote it, placed as a fylke by the row's level
    assert placed["I alt Troms og Finnmark - Romsa ja Finnmárku"] == (
        "Troms og Finnmark - Romsa ja Finnmárku", "54", "fylke", "split")
    assert placed["I alt Nordland - Nordlánnda"] == ("Nordland - Nordlánnda", "18", "fylke",
                                                     "exact")
    assert placed["I alt Trøndelag - Trööndelage"] == ("Trøndelag - Trööndelage", "50", "fylke",
                                                       "exact")
    assert placed["I alt Oslo"] == ("Oslo", "03", "fylke", "exact")  # not kommune 0301
    # NAV's own group 99 is handed over by its name, not as Klass's 99 "Uoppgitt fylke"
    assert placed["99"] == ("Øvrige områder", "21", "special", "special")
    assert placed["3806"] == ("3806", "3806", "kommune", "renamed")
    other = resolve("Øvrige områder", "2022-01")
    assert (other.code, other.status) == ("21", "special")
    tf = resolve("Troms og Finnmark - Romsa ja Finnmárku", "2022-01", level="fylke")
    assert (tf.code, tf.level) == ("54", "fylke")
    # each form alone names the same fylke; forms of two different places name none
    assert resolve("Romsa ja Finnmárku", "2022-01").code == "54"
    assert not resolve("Troms og Finnmark - Trööndelage", "2022-01").placed
