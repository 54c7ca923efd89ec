"""The catalogue generator: periods, dimensions, foreign keys, annual views, sources, canned
queries and metadata, on a small database built here with known values, and against every
manifest in atlas_crawl/manifests/."""

from __future__ import annotations

import copy
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from conftest import query_dicts as rows

from atlas_crawl.manifests import all_manifests, parse_manifest
from atlas_crawl.publish import publish
from atlas_crawl.publish.metadata import SENSITIVE_NOTE, table_metadata
from atlas_crawl.publish.periods import parse_period
from atlas_crawl.publish.profile import TableProfile
from atlas_crawl.publish.queries import load_specs

NOW = datetime(2026, 11, 1, tzinfo=UTC)

BASE = {
    "upstream_id": "x", "upstream_url": "https://example.test/api",
    "upstream_landing_page": "https://example.test/page", "publisher": "Testbyrå",
    "license": "CC BY 4.0", "license_url": "https://creativecommons.org/licenses/by/4.0/",
    "eu_theme": "SOCI", "methodology_version": "2", "presentation_policy": "standard",
    "tags": {"provider": "ssb", "topic": "income", "geo": "kommune", "cadence": "annual"},
}


def manifest(source_id: str, **fields):
    data = copy.deepcopy(BASE)
    data.update(source_id=source_id, upstream_title=f"Title of {source_id}",
                description=f"Description of {source_id}", attribution=f"Kilde: {source_id}")
    data.update(fields)
    return parse_manifest(Path(f"{source_id}.yml"), data)


MANIFESTS = {
    "lowinc": manifest(
        "lowinc", periodicity="P1Y",
        upstream_title="Vedvarende lavinntekt", description="Persistent low income per kommune.",
        dimensions=[{"code": "Region", "meaning": "Region"},
                    {"code": "ContentsCode", "meaning": "Statistikkvariabel"},
                    {"code": "Tid", "meaning": "Treårsperiode"}],
        places=[{"column": "region"}]),
    "monthly": manifest(
        "monthly", periodicity="P1M", presentation_policy="sensitive",
        tags={"provider": "nav", "topic": "social", "geo": "kommune", "cadence": "monthly"},
        dimensions=[{"code": "region", "meaning": "Kommune"},
                    {"code": "measure", "meaning": "antall | andel"},
                    {"code": "period", "meaning": "Month"}],
        places=[{"column": "region", "level": "kommune"}]),
    "settled": manifest(
        "settled", periodicity="P1Y", license="NLOD 2.0",
        license_url="https://data.norge.no/nlod/no/2.0",
        dimensions=[{"code": "year", "meaning": "Year"}, {"code": "name", "meaning": "Place"},
                    {"code": "metric", "meaning": "anmodet | vedtatt | bosatte"}],
        places=[{"column": "name"}]),
    "kids": manifest(
        "kids", periodicity="P1Y", tables=["kids_indikatorer"],
        dimensions=[{"code": "indicator", "meaning": "Indicator number"},
                    {"code": "region", "meaning": "Region"}],
        places=[{"column": "region"}]),
    "never": manifest(
        "never", periodicity="P1Y", dimensions=[{"code": "x", "meaning": "x"}]),
}

QUERIES = {
    "picture": {"title": "A picture", "description": "Test picture.",
                "sources": [{"table": "lowinc"}, {"table": "monthly"},
                            {"table": "settled", "indicators": ["vedtatt"]},
                            {"table": "kids"}, {"table": "not_crawled"}]},
}


def build_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
    CREATE TABLE lowinc (region TEXT NOT NULL, region_label TEXT, region_canonical TEXT,
        region_current TEXT, region_level TEXT, contentscode TEXT NOT NULL,
        contentscode_label TEXT, tid TEXT NOT NULL, unit TEXT, value REAL, status TEXT,
        _run INTEGER, _fetch INTEGER, PRIMARY KEY (region, contentscode, tid));
    CREATE TABLE monthly (region TEXT NOT NULL, region_canonical TEXT, region_current TEXT,
        region_level TEXT, measure TEXT NOT NULL, period TEXT NOT NULL, value REAL, status TEXT,
        _run INTEGER, _fetch INTEGER, PRIMARY KEY (region, measure, period));
    CREATE TABLE settled (year INTEGER NOT NULL, level TEXT NOT NULL, name TEXT NOT NULL,
        metric TEXT NOT NULL, value INTEGER, status TEXT, name_canonical TEXT, name_current TEXT,
        name_level TEXT, _run INTEGER, _fetch INTEGER,
        PRIMARY KEY (year, level, name, metric));
    CREATE TABLE kids (indicator TEXT NOT NULL, region TEXT NOT NULL, region_canonical TEXT,
        region_current TEXT, region_level TEXT, year INTEGER NOT NULL, value REAL, status TEXT,
        _run INTEGER, _fetch INTEGER, PRIMARY KEY (indicator, region, year));
    CREATE TABLE kids_indikatorer (indicator TEXT PRIMARY KEY NOT NULL, title TEXT,
        _run INTEGER, _fetch INTEGER);
    INSERT INTO kids VALUES ('4', '0301', '0301', '0301', 'kommune', 2023, 7.4, NULL, 'r4', 'h'),
                            ('17', '0301', '0301', '0301', 'kommune', 2023, 12.0, NULL, 'r4', 'h');
    INSERT INTO kids_indikatorer VALUES ('4', 'Tab. 4: Barn i husholdninger med sosialhjelp',
                                         'r4', 'h');
    CREATE VIEW settled_kommune AS SELECT * FROM settled WHERE level = 'kommune';
    CREATE TABLE _runs (run_id TEXT PRIMARY KEY, spider TEXT NOT NULL, source_ids TEXT,
        arguments TEXT, started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL,
        rows_received INTEGER NOT NULL DEFAULT 0, rows_written INTEGER NOT NULL DEFAULT 0,
        rows_quarantined INTEGER NOT NULL DEFAULT 0, error TEXT);
    """)
    conn.executemany("INSERT INTO lowinc VALUES (?,?,?,?,?,?,?,?,?,?,?,'r1','h')", [
        ("K-0301", "Oslo", "0301", "0301", "kommune", "Andel", "Andel (prosent)", "2020-2022",
         "prosent", 11.5, None),
        ("K-0301", "Oslo", "0301", "0301", "kommune", "Andel", "Andel (prosent)", "2021-2023",
         "prosent", 12.25, None),
        ("K-0104", "Moss (-2019)", "0104", "3103", "kommune", "Andel", "Andel (prosent)",
         "2021-2023", "prosent", None, ".."),
        ("K-1103", "Stavanger", "1103", "1103", "kommune", "Andel", "Andel (prosent)",
         "2021-2023", "prosent", 9.5, None),
    ])
    months = [("0301", "0301", "0301", "kommune", "antall", f"2025-{m:02d}", 100.0 + m - 1, None)
              for m in range(1, 13)]
    months += [("0301", "0301", "0301", "kommune", "antall", "2026-01", 200.0, None),
               ("0301", "0301", "0301", "kommune", "antall", "2026-02", None, "*")]
    conn.executemany("INSERT INTO monthly VALUES (?,?,?,?,?,?,?,?,'r2','h')", months)
    conn.executemany("INSERT INTO settled VALUES (?,?,?,?,?,?,?,?,?,'r3','h')", [
        (2025, "kommune", "Oslo", "anmodet", 640, None, None, None, None),
        (2025, "kommune", "Oslo", "vedtatt", 850, None, None, None, None),
        (2025, "fylke", "Oslo", "vedtatt", 851, None, None, None, None),
        (2025, "kommune", "Bergen", "vedtatt", None, ":", None, None, None),
    ])
    conn.executemany("INSERT INTO _runs VALUES (?,?,?,?,?,?,?,0,0,0,?)", [
        ("r1", "lowinc", "lowinc", '{"atlas_replay": true}', "2026-10-22T10:00:00Z",
         "2026-10-22T10:01:00Z", "ok", None),
        ("r1b", "lowinc", "lowinc", "{}", "2026-10-30T10:00:00Z", "2026-10-30T10:01:00Z",
         "failed", "closed: finished; boom"),
        ("r2", "monthly", "monthly", "{}", "2024-01-01T10:00:00Z", "2024-01-01T10:01:00Z",
         "ok", None),
        ("r3", "settled", "settled", "{}", "2026-06-01T10:00:00Z", "2026-06-01T10:01:00Z",
         "ok", None),
    ])
    # r1 replayed a real capture: its rows are statistics (a constructed fixture's are left out
    # of the canned queries, tests/run/test_demo_real_only.py)
    conn.execute("ALTER TABLE _runs ADD COLUMN data_origin TEXT")
    conn.execute("ALTER TABLE _runs ADD COLUMN capture_date TEXT")
    conn.execute("UPDATE _runs SET data_origin = 'capture', capture_date = '2026-10-01' "
                 "WHERE run_id = 'r1'")
    conn.commit()
    conn.close()


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogue")
    db = folder / "atlas.db"
    build_db(db)
    conn = sqlite3.connect(db)
    before = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4").fetchall()
              for t in ("lowinc", "monthly", "settled")}
    conn.close()
    report = publish(db, folder / "metadata.yml", manifests=MANIFESTS, query_specs=QUERIES,
                     now=NOW)
    meta = yaml.safe_load((folder / "metadata.yml").read_text(encoding="utf-8"))
    return folder, db, report, meta, before


# -- periods ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, hint, grain, year, start, end, label", [
    ("2022", None, "P1Y", 2022, "2022-01-01", "2022-12-31", "2022"),
    (2022, None, "P1Y", 2022, "2022-01-01", "2022-12-31", "2022"),
    ("2026-08", None, "P1M", 2026, "2026-08-01", "2026-08-31", "August 2026"),
    ("2024M02", None, "P1M", 2024, "2024-02-01", "2024-02-29", "February 2024"),
    ("2024K3", None, "P3M", 2024, "2024-07-01", "2024-09-30", "2024 Q3"),
    ("2021-2023", None, "P3Y", 2023, "2021-01-01", "2023-12-31", "2021–2023 (3 years)"),
    ("2019-2020", None, "P2Y", 2020, "2019-01-01", "2020-12-31", "2019–2020 (2 years)"),
    ("2011-12", None, "P1Y", 2012, "2011-08-01", "2012-07-31", "school year 2011/12"),
    ("2011-12", "P1M", "P1M", 2011, "2011-12-01", "2011-12-31", "December 2011"),
])
def test_parse_period(raw, hint, grain, year, start, end, label):
    p = parse_period(raw, hint)
    assert (p.grain, p.year, p.start, p.end, p.label) == (grain, year, start, end, label)


@pytest.mark.parametrize("raw", ["Hele landet", "2026-13", "", None, "2023-2021", "20x2"])
def test_parse_period_refuses_what_it_does_not_know(raw):
    assert parse_period(raw) is None


# -- the database after publishing --------------------------------------------------------------

def test_crawled_rows_are_untouched(published):
    _, db, _, _, before = published
    conn = sqlite3.connect(db)
    after = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4").fetchall()
             for t in before}
    assert after == before
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_foreign_keys_to_places_and_periods(published):
    _, db, _, _, _ = published
    fks = {(r["table"], r["from"]): (r["to_table"], r["to"]) for t in
           ("lowinc", "monthly", "settled") for r in rows(
               db, f"SELECT '{t}' AS \"table\", \"from\", \"table\" AS to_table, \"to\" "
                   f"FROM pragma_foreign_key_list('{t}')")}
    assert fks == {
        ("lowinc", "region_canonical"): ("dim_place", "code"),
        ("lowinc", "region_current"): ("dim_place", "code"),
        ("lowinc", "tid"): ("dim_period", "period"),
        # monthly's raw codes are its canonical ones and lead its key: the place link is on
        # the raw column, which its key finds, not on the unindexed copy of it
        ("monthly", "region"): ("dim_place", "code"),
        ("monthly", "region_current"): ("dim_place", "code"),
        ("monthly", "period"): ("dim_period", "period"),
        ("settled", "name_canonical"): ("dim_place", "code"),
        ("settled", "name_current"): ("dim_place", "code"),
        # settled.year is an integer column: no text period to link
    }


def test_dim_period_has_grain_year_and_label(published):
    _, db, _, _, _ = published
    periods = {r["period"]: r for r in rows(db, "SELECT * FROM dim_period")}
    assert periods["2021-2023"] == {"period": "2021-2023", "label": "2021–2023 (3 years)",
                                    "period_grain": "P3Y", "year": 2023,
                                    "start_date": "2021-01-01", "end_date": "2023-12-31"}
    assert periods["2025-03"]["period_grain"] == "P1M"
    assert periods["2025-03"]["label"] == "March 2025"
    assert len([p for p in periods if p.startswith("2025-")]) == 12


def test_dim_place_names_codes_from_the_snapshot(published):
    _, db, report, _, _ = published
    places = {r["code"]: r for r in rows(db, "SELECT * FROM dim_place")}
    assert places["0"]["name"] == "Hele landet"
    assert places["0301"]["name"] == "Oslo" and places["0301"]["level"] == "kommune"
    assert places["03"]["level"] == "fylke"
    assert (places["2100"]["name"], places["2100"]["level"]) == ("Svalbard", "special")
    assert "21xx" not in places  # patterns are not places
    assert report.places["kommune"] > 300


def test_indexes_on_place_and_period_columns(published):
    _, db, _, _, _ = published
    made = {(r["tbl_name"], r["name"]): r["columns"] for r in rows(
        db, "SELECT tbl_name, name, (SELECT group_concat(name, ', ') FROM pragma_index_info(m.name))"
            " AS columns FROM sqlite_master m WHERE type = 'index' AND name LIKE 'idx_%'")}
    assert made == {
        # one index on the period and today's code per table; the code valid then has its own
        # where the raw column differs from it (lowinc's K-0301, settled's names) or does not
        # lead the key (kids), and none where the key finds it (monthly: region)
        ("lowinc", "idx_lowinc_tid_region_current"): "tid, region_current",
        ("lowinc", "idx_lowinc_region_canonical"): "region_canonical",
        ("monthly", "idx_monthly_period_region_current"): "period, region_current",
        ("settled", "idx_settled_year_name_current"): "year, name_current",
        ("settled", "idx_settled_name_canonical"): "name_canonical",
        ("kids", "idx_kids_year_region_current"): "year, region_current",
        ("kids", "idx_kids_region_canonical"): "region_canonical",
    }


def test_an_index_an_earlier_publish_made_and_no_page_reads_is_dropped(published, tmp_path):
    _, db, _, _, _ = published
    copy_db = tmp_path / "atlas.db"
    copy_db.write_bytes(db.read_bytes())
    conn = sqlite3.connect(copy_db)
    # what publish made before: the period, today's code and the period, the canonical code
    conn.execute("CREATE INDEX idx_monthly_period ON monthly (period)")
    conn.execute("CREATE INDEX idx_monthly_region_current_period ON monthly "
                 "(region_current, period)")
    conn.execute("CREATE INDEX idx_monthly_region_canonical ON monthly (region_canonical)")
    conn.execute("CREATE INDEX kept_by_hand ON monthly (status)")
    conn.commit()
    conn.close()
    report = publish(copy_db, tmp_path / "metadata.yml", manifests=MANIFESTS,
                     query_specs=QUERIES, now=NOW)
    assert report.indexes_created == []
    names = {r["name"] for r in rows(copy_db, "SELECT name FROM sqlite_master "
                                              "WHERE type = 'index' AND tbl_name = 'monthly' "
                                              "AND sql IS NOT NULL")}
    assert names == {"idx_monthly_period_region_current", "kept_by_hand"}


def test_every_index_has_statistics_for_the_planner(published):
    _, db, _, _, _ = published
    stats = {(r["tbl"], r["idx"]): r["stat"] for r in rows(db, "SELECT * FROM sqlite_stat1")}
    # 14 months of one kommune: 14 rows, 1 per month, 1 per month and kommune
    assert stats[("monthly", "idx_monthly_period_region_current")] == "14 1 1"
    assert stats[("lowinc", "idx_lowinc_tid_region_current")] == "4 2 1"


def test_annual_view_of_a_monthly_table(published):
    _, db, report, _, _ = published
    assert report.annual_views == ["monthly_annual"]
    years = {r["year"]: r for r in rows(db, "SELECT * FROM monthly_annual")}
    full, partial = years[2025], years[2026]
    assert (full["months"], full["months_with_value"], full["value_mean"]) == (12, 12, 105.5)
    assert (full["last_month"], full["value_last_month"]) == ("2025-12", 111.0)
    # a suppressed month: no mean is derived around it; the last month keeps its symbol
    assert (partial["months"], partial["months_with_value"], partial["value_mean"]) == (2, 1, None)
    assert (partial["last_month"], partial["value_last_month"],
            partial["status_last_month"]) == ("2026-02", None, "*")


def test_sources_table_with_runs_and_freshness(published):
    _, db, _, _, _ = published
    src = {r["source_id"]: r for r in rows(db, "SELECT * FROM sources")}
    assert set(src) == set(MANIFESTS)
    low = src["lowinc"]
    assert (low["provider"], low["eu_theme"], low["periodicity"], low["licence"]) == (
        "ssb", "SOCI", "P1Y", "CC BY 4.0")
    assert (low["presentation_policy"], low["methodology_version"]) == ("standard", "2")
    assert (low["period_grain"], low["first_period"], low["last_period"]) == (
        "P3Y", "2020-2022", "2021-2023")
    assert low["rows"] == 4 and low["tables"] == "lowinc"
    assert low["last_successful_run"] == "2026-10-22T10:01:00Z"
    assert low["last_successful_run_mode"] == "replay of recorded responses"
    assert (low["data_origin"], low["capture_date"]) == ("capture", "2026-10-01")
    assert (low["last_run_status"], low["last_run_error"]) == ("failed", "closed: finished; boom")
    # a replay says nothing about what the source publishes today: never fresh
    assert (low["freshness"], low["days_since_success"]) == ("not live (replay)", 9)
    assert low["last_live_run"] is None
    assert (src["settled"]["freshness"], src["settled"]["last_live_run"]) == (
        "fresh", "2026-06-01T10:01:00Z")
    assert (src["monthly"]["freshness"], src["monthly"]["presentation_policy"]) == (
        "overdue", "sensitive")
    assert src["never"]["freshness"] == "never crawled" and src["never"]["rows"] is None
    assert src["settled"]["licence"] == "NLOD 2.0"


def test_sources_full_text_search(published):
    _, db, _, _, _ = published
    hits = rows(db, "SELECT source_id FROM sources WHERE rowid IN "
                    "(SELECT rowid FROM sources_fts WHERE sources_fts MATCH 'lavinntekt')")
    assert hits == [{"source_id": "lowinc"}]
    hits = rows(db, "SELECT source_id FROM sources WHERE rowid IN "
                    "(SELECT rowid FROM sources_fts WHERE sources_fts MATCH 'persistent')")
    assert hits == [{"source_id": "lowinc"}]


# -- canned queries -----------------------------------------------------------------------------

def canned(meta, name):
    return meta["databases"]["atlas"]["queries"][name]


def test_canned_query_by_code_and_year(published):
    _, db, _, meta, _ = published
    q = canned(meta, "picture")
    assert q["title"] == "A picture" and q["params"] == ["kommune", "year", "samples"]
    got = rows(db, q["sql"], {"kommune": "0301", "year": "2023", "samples": ""})
    assert [(r["source"], r["period"], r["value"], r["place_name"]) for r in got
            if r["source"] == "lowinc"] == [("lowinc", "2021-2023", 12.25, "Oslo")]
    missing = [r for r in got if r["source"] == "not_crawled"]
    assert len(missing) == 1 and "not been crawled" in missing[0]["note"]
    assert "Not available in this database: not_crawled" in q["description"]


def test_codes_described_in_another_table_of_the_source_are_linked_and_labelled(published):
    _, db, _, meta, _ = published
    fks = rows(db, "SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list('kids')")
    assert {"from": "indicator", "table": "kids_indikatorer", "to": "indicator"} in fks
    assert meta["databases"]["atlas"]["tables"]["kids_indikatorer"]["label_column"] == "title"
    got = [r for r in rows(db, canned(meta, "picture")["sql"], {"kommune": "0301", "year": "2023", "samples": ""})
           if r["source"] == "kids"]
    # the label where the source describes the code, the code itself where it does not
    assert sorted((r["indicator"], r["value"]) for r in got) == [
        ("17", 12.0), ("Tab. 4: Barn i husholdninger med sosialhjelp", 7.4)]


def test_canned_query_reads_monthly_tables_through_the_annual_view(published):
    _, db, _, meta, _ = published
    got = rows(db, canned(meta, "picture")["sql"], {"kommune": "0301", "year": "2025", "samples": ""})
    monthly = [r for r in got if r["source"] == "monthly"]
    assert [(r["year"], r["value"], r["indicator"]) for r in monthly] == [(2025, 105.5, "antall")]
    assert monthly[0]["note"] == "annual mean of 12 month(s); 2025-12: 111.0"


def test_canned_query_matches_current_codes_names_and_indicator_patterns(published):
    _, db, _, meta, _ = published
    sql = canned(meta, "picture")["sql"]
    # Moss 0104 was published under its old code; today's code 3103 finds it
    moss = [r for r in rows(db, sql, {"kommune": "3103", "year": "2023", "samples": ""}) if r["source"] == "lowinc"]
    assert [(r["kommune"], r["kommune_current"], r["status"]) for r in moss] == [
        ("0104", "3103", "..")]
    # a name finds the kommune row (not Oslo fylke), and only the 'vedtatt' indicator is kept
    oslo = [r for r in rows(db, sql, {"kommune": "Oslo", "year": "2025", "samples": ""})
            if r["source"] == "settled"]
    assert [(r["indicator"], r["value"]) for r in oslo] == [("vedtatt", 850)]
    # an empty year means every year
    every = [r for r in rows(db, sql, {"kommune": "0301", "year": "", "samples": ""}) if r["source"] == "lowinc"]
    assert [r["period"] for r in every] == ["2020-2022", "2021-2023"]


def test_canned_queries_of_the_project_compile_on_a_database_without_their_tables(published):
    _, db, _, _, _ = published
    from atlas_crawl.publish.queries import canned_queries

    for name, q in canned_queries({}).items():
        got = rows(db, q["sql"], {"kommune": "0301", "year": "2024", "samples": ""})
        assert got and all("not been crawled" in r["note"] for r in got), name


# -- metadata -----------------------------------------------------------------------------------

def test_metadata_per_table(published):
    _, _, _, meta, _ = published
    tables = meta["databases"]["atlas"]["tables"]
    low = tables["lowinc"]
    assert low["title"] == "Vedvarende lavinntekt"
    assert (low["license"], low["license_url"]) == ("CC BY 4.0",
                                                    "https://creativecommons.org/licenses/by/4.0/")
    assert (low["source"], low["source_url"]) == ("Testbyrå", "https://example.test/page")
    assert "Persistent low income per kommune." in low["description_html"]
    assert "Attribution: Kilde: lowinc" in low["description_html"]
    assert low["columns"]["contentscode"] == "Statistikkvariabel"
    assert low["columns"]["contentscode_label"] == "contentscode: label"
    assert low["columns"]["tid"].startswith("Treårsperiode — grain P3Y")
    assert low["columns"]["value"].startswith("The number as published")
    assert low["facets"][:2] == ["tid", "region_level"]
    assert low["sort_desc"] == "tid"
    assert "units" not in low
    assert SENSITIVE_NOTE not in low["description_html"]
    assert tables["settled"]["license"] == "NLOD 2.0"
    assert tables["dim_place"]["label_column"] == "name"
    assert tables["dim_period"]["label_column"] == "label"
    assert "sources" in tables and "provider" in tables["sources"]["facets"]


def test_a_view_made_by_a_spider_is_described_as_its_source(published):
    _, _, _, meta, _ = published
    view = meta["databases"]["atlas"]["tables"]["settled_kommune"]
    assert view["title"] == "Title of settled — kommune"
    assert (view["license"], view["source"]) == ("NLOD 2.0", "Testbyrå")


def test_sensitive_source_says_so_on_its_table_and_annual_view(published):
    _, _, _, meta, _ = published
    tables = meta["databases"]["atlas"]["tables"]
    assert SENSITIVE_NOTE in tables["monthly"]["description_html"]
    assert SENSITIVE_NOTE in tables["monthly_annual"]["description_html"]
    assert tables["monthly_annual"]["title"] == "Title of monthly — annual"


def test_chart_link_is_a_datasette_vega_preset(published):
    _, _, _, meta, _ = published
    html = meta["databases"]["atlas"]["tables"]["lowinc"]["description_html"]
    assert ('href="/atlas/lowinc?region_canonical=0301&amp;_sort=tid#g.mark=line&amp;'
            'g.x_column=tid.value&amp;g.x_type=ordinal&amp;g.y_column=value') in html


def test_publishing_twice_changes_nothing(published):
    folder, db, _, _, _ = published
    dump = "\n".join(sqlite3.connect(db).iterdump())
    first = (folder / "metadata.yml").read_text(encoding="utf-8")
    report = publish(db, folder / "metadata.yml", manifests=MANIFESTS, query_specs=QUERIES,
                     now=NOW)
    assert report.foreign_keys_changed == [] and report.indexes_created == []
    assert "\n".join(sqlite3.connect(db).iterdump()) == dump
    assert (folder / "metadata.yml").read_text(encoding="utf-8") == first


def test_publish_without_a_database_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="no database to publish"):
        publish(tmp_path / "nothing.db", tmp_path / "m.yml", manifests=MANIFESTS)


# -- against the project's manifests ------------------------------------------------------------

def _profile_from_dimensions(m) -> TableProfile:
    columns = {d.code.lower(): "TEXT" for d in m.dimensions}
    columns.update({"value": "REAL", "status": "TEXT"})
    return TableProfile(table=m.source_id, manifest=m, columns=columns, pk=[], rows=0)


@pytest.mark.parametrize("m", list(all_manifests().values()), ids=lambda m: m.source_id)
def test_every_manifest_gives_table_metadata(m):
    meta = table_metadata(m, _profile_from_dimensions(m), "atlas")
    assert meta["title"] == m.upstream_title
    assert (meta["license"], meta["license_url"]) == (m.license, m.license_url)
    assert meta["source"] == m.publisher
    assert meta["source_url"] == (m.upstream_landing_page or m.upstream_url)
    import html
    assert html.escape(m.attribution, quote=True) in meta["description_html"]
    for d in m.dimensions:
        assert meta["columns"][d.code.lower()].startswith(d.meaning), d.code
    assert (SENSITIVE_NOTE in meta["description_html"]) == (m.presentation_policy == "sensitive")
    assert "units" not in meta


def test_queries_file_is_valid():
    specs = load_specs()
    assert {"child_welfare_picture", "welfare_picture", "resettlement_picture"} <= set(specs)
    for spec in specs.values():
        assert spec["title"][0].isupper()
