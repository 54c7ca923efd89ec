"""The compare-kommuner canned queries, run as SQL on small databases with known values: ranking
within a fylke, shares from published numbers only, a kommune asked for by name or code."""

from __future__ import annotations

import sqlite3

import pytest

from atlas_crawl.publish.compare import child_poverty, refugees, unemployment
from atlas_crawl.publish.profile import TableProfile


def profile(table: str, **fields) -> TableProfile:
    return TableProfile(table=table, manifest=None, columns={}, pk=[], rows=0, **fields)


@pytest.fixture
def conn():
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.executescript("""
    CREATE TABLE dim_place (code TEXT PRIMARY KEY, level TEXT, name TEXT, valid_from TEXT,
                            valid_to TEXT);
    INSERT INTO dim_place VALUES ('4203', 'kommune', 'Arendal', '2020-01-01', NULL),
        ('4204', 'kommune', 'Kristiansand', '2020-01-01', NULL),
        ('4201', 'kommune', 'Risør', '2020-01-01', NULL),
        ('0301', 'kommune', 'Oslo', '1838-01-01', NULL),
        ('0906', 'kommune', 'Arendal', '1992-01-01', '2019-12-31');
    CREATE TABLE kids (indicator TEXT, region TEXT, region_name TEXT, enhet TEXT,
        tallformat TEXT, year INTEGER, value REAL, status TEXT, region_canonical TEXT,
        region_current TEXT, region_level TEXT);
    CREATE TABLE kids_indikatorer (indicator TEXT PRIMARY KEY, title TEXT);
    INSERT INTO kids_indikatorer VALUES ('1', 'Tab. 1: Vedvarende lavinntekt');
    """)
    rows = [  # indicator 1, per cent of children; 2022 and 2023
        ("4203", "Arendal", 2023, 14.0, None, "kommune"), ("4204", "Kristiansand", 2023, 12.5,
         None, "kommune"), ("4201", "Risør", 2023, None, "..", "kommune"),
        ("4203", "Arendal", 2022, 11.0, None, "kommune"), ("4204", "Kristiansand", 2022, 13.0,
         None, "kommune"), ("0301", "Oslo", 2023, 15.0, None, "kommune"),
        ("42", "Agder", 2023, 12.8, None, "fylke"), ("0", "Norge", 2023, 11.3, None, "land")]
    conn.executemany(
        "INSERT INTO kids VALUES ('1', ?, ?, 'barn', 'prosent', ?, ?, ?, ?, ?, ?)",
        [(code, name, year, value, status, code, code, level)
         for code, name, year, value, status, level in rows])
    # a count is never ranked with shares
    conn.execute("INSERT INTO kids VALUES ('1', '4201', 'Risør', 'barn', 'antall', 2023, 999, "
                 "NULL, '4201', '4201', 'kommune')")
    return conn


KIDS = profile("kids", lookups={"indicator": ("kids_indikatorer", "indicator", "title")})


def run(conn, query: dict, **params) -> list[dict]:
    return [dict(r) for r in conn.execute(query["sql"], {"kommune": "", "year": "", **params})]


def test_child_poverty_ranks_the_kommuner_of_the_fylke(conn):
    rows = run(conn, child_poverty(KIDS), kommune="Arendal")  # today's Arendal, not 0906
    assert [(r["kommune"], r["rank_in_fylke"], r["percent"], r["status"], r["chosen"])
            for r in rows] == [
        ("Arendal", "1 of 2", 14.0, None, "◀ chosen"),
        ("Kristiansand", "2 of 2", 12.5, None, ""),
        ("Risør", None, None, "..", ""),  # suppressed: shown, not ranked
    ]
    assert {(r["year"], r["fylke_percent"], r["norway_percent"]) for r in rows} == {
        (2023, 12.8, 11.3)}
    assert rows[0]["indicator"] == "Tab. 1: Vedvarende lavinntekt"
    # another year, asked by code
    rows = run(conn, child_poverty(KIDS), kommune="4203", year="2022")
    assert [(r["kommune"], r["rank_in_fylke"]) for r in rows] == [
        ("Kristiansand", "1 of 2"), ("Arendal", "2 of 2")]


def test_child_poverty_without_the_table_says_so(conn):
    assert run(conn, child_poverty(None), kommune="0301") == [
        {"note": "Not in this database: bufdir_barnefattigdom has not been crawled yet "
                 "(scrapy crawl bufdir_barnefattigdom)."}]


def test_refugees_share_settled_from_published_numbers_only(conn):
    conn.executescript("""
    CREATE TABLE imdi (year INTEGER, level TEXT, name TEXT, metric TEXT, value INTEGER,
        status TEXT, place_canonical TEXT, place_current TEXT);
    INSERT INTO imdi VALUES
      (2025, 'kommune', 'Arendal', 'anmodet', 85, NULL, '4203', '4203'),
      (2025, 'kommune', 'Arendal', 'vedtatt', 115, NULL, '4203', '4203'),
      (2025, 'kommune', 'Arendal', 'bosatte', 86, NULL, '4203', '4203'),
      (2024, 'kommune', 'Arendal', 'anmodet', 90, NULL, '4203', '4203'),
      (2024, 'kommune', 'Arendal', 'vedtatt', NULL, 'avventer vedtak', '4203', '4203'),
      (2024, 'kommune', 'Arendal', 'bosatte', 40, NULL, '4203', '4203'),
      (2025, 'fylke', 'Agder', 'anmodet', 765, NULL, '42', '42'),
      (2025, 'fylke', 'Agder', 'vedtatt', 970, NULL, '42', '42'),
      (2025, 'fylke', 'Agder', 'bosatte', 664, NULL, '42', '42');
    """)
    rows = run(conn, refugees(profile("imdi")), kommune="Arendal")
    assert [(r["year"], r["requested"], r["decided"], r["settled"], r["settled_pct_of_decided"],
             r["notes"], r["fylke_settled_pct"]) for r in rows] == [
        (2025, 85, 115, 86, 74.8, None, 68.5),
        (2024, 90, None, 40, None, "vedtatt: avventer vedtak", None)]
    assert [r["year"] for r in run(conn, refugees(profile("imdi")), kommune="4203",
                                   year="2024")] == [2024]


def test_unemployment_against_fylke_and_norway(conn):
    conn.executescript("""
    CREATE TABLE nav (region TEXT, region_name TEXT, level TEXT, aggregate INTEGER,
        measure TEXT, period TEXT, value REAL, status TEXT, place_canonical TEXT,
        place_current TEXT);
    INSERT INTO nav VALUES
      ('4203', 'Arendal', 'kommune', 0, 'antall', '2026-01', 700, NULL, '4203', '4203'),
      ('4203', 'Arendal', 'kommune', 0, 'prosent', '2026-01', 3.1, NULL, '4203', '4203'),
      ('4203', 'Arendal', 'kommune', 0, 'antall', '2025-12', 650, NULL, '4203', '4203'),
      ('4203', 'Arendal', 'kommune', 0, 'prosent', '2025-12', NULL, '*', '4203', '4203'),
      ('I alt Agder', 'Agder', 'fylke', 1, 'antall', '2026-01', 5000, NULL, '42', '42'),
      ('I alt Agder', 'Agder', 'fylke', 1, 'prosent', '2026-01', 2.6, NULL, '42', '42'),
      ('I alt Oslo', 'Oslo', 'fylke', 1, 'antall', '2026-01', 12000, NULL, '03', '03');
    """)
    rows = run(conn, unemployment(profile("nav")), kommune="Arendal")
    assert [(r["period"], r["kommune_count"], r["kommune_pct"], r["fylke_count"], r["fylke_pct"],
             r["norway_count"], r["norway_pct"]) for r in rows] == [
        ("2025-12", 650, "*", None, None, None, None),
        ("2026-01", 700, 3.1, 5000, 2.6, 17000, None)]
