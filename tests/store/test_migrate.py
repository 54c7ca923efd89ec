"""`python -m atlas_crawl migrate`: a database written in the old wide layout becomes narrow, in
place, with every value, label and provenance kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import query

from atlas_crawl.items import Batch, Provenance
from atlas_crawl.run.cli import main
from atlas_crawl.store.migrate import NOT_RECORDED, migrate
from atlas_crawl.store.schema import OldLayoutError
from atlas_crawl.store.writes import Store

# The ledger and rows exactly as the wide layout wrote them.
OLD_LEDGER = """
CREATE TABLE _runs (run_id TEXT PRIMARY KEY, spider TEXT NOT NULL, source_ids TEXT,
    arguments TEXT, started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL,
    rows_received INTEGER NOT NULL DEFAULT 0, rows_written INTEGER NOT NULL DEFAULT 0,
    rows_quarantined INTEGER NOT NULL DEFAULT 0, error TEXT);
CREATE TABLE _fetches (run_id TEXT NOT NULL, source_id TEXT NOT NULL, table_name TEXT NOT NULL,
    url TEXT NOT NULL, sha256 TEXT NOT NULL, fetched_at TEXT NOT NULL, rows INTEGER NOT NULL,
    PRIMARY KEY (run_id, table_name, url, sha256));
CREATE TABLE quarantine (run_id TEXT NOT NULL, source_id TEXT NOT NULL, table_name TEXT NOT NULL,
    column_name TEXT NOT NULL, raw_value TEXT, reason TEXT NOT NULL, row_json TEXT NOT NULL,
    source_url TEXT);
CREATE TABLE "ssb_07459" ("region" TEXT NOT NULL, "region_label" TEXT,
    "contentscode" TEXT NOT NULL, "contentscode_label" TEXT, "unit" TEXT, "decimals" INTEGER,
    "tid" TEXT NOT NULL, "tid_label" TEXT, "value" REAL, "status" TEXT, "updated" TEXT,
    "region_canonical" TEXT, "region_current" TEXT, "region_level" TEXT,
    "region_geo_status" TEXT, "_run_id" TEXT, "_source_sha256" TEXT,
    PRIMARY KEY ("region", "contentscode", "tid"));
CREATE TABLE "nav_aap" ("kommune" TEXT NOT NULL, "year" TEXT NOT NULL, "value" REAL,
    "status" TEXT, "_run_id" TEXT, "_source_sha256" TEXT, PRIMARY KEY ("kommune", "year"));
CREATE INDEX "idx_nav_aap_year" ON "nav_aap" ("year");
CREATE VIEW ssb_07459_labels AS SELECT region, region_label FROM ssb_07459;
"""
RUN1, RUN2 = "20250101T000000Z-ssb_07459-aaaaaa", "20260101T000000Z-ssb_07459-bbbbbb"
RUN3 = "20260102T000000Z-nav_aap-cccccc"
SHA1, SHA2, SHA3, LOST = "1" * 64, "2" * 64, "3" * 64, "f" * 64
URL1, URL2, URL3 = "https://data.ssb.no/a", "https://data.ssb.no/b", "https://nav.no/aap.xlsx"


def ssb_row(region, label, tid, value, status, run, sha):
    return (region, label, "Personer1", "Personer", "personer", 0, tid, tid, value, status,
            "2026-03-01T07:00:00Z", region, region, "kommune", "exact", run, sha)


SSB_ROWS = [
    ssb_row("0301", "Oslo", "2024", 1.0, None, RUN1, SHA1),
    # Run 2 changed this row and renamed 1103: the newest label is the one kept.
    ssb_row("0301", "Oslo", "2025", 2.0, None, RUN2, SHA2),
    ssb_row("1103", "Stavanger", "2024", None, "..", RUN1, SHA1),
    ssb_row("1103", "Stavanger kommune", "2025", 4.0, None, RUN2, SHA2),
]
NAV_ROWS = [("0301", "2024", 10.0, None, RUN3, SHA3),
            ("0301", "2025", 11.0, None, RUN3, LOST)]  # a hash the ledger never recorded


@pytest.fixture
def old_db(tmp_path) -> Path:
    path = tmp_path / "atlas.db"
    conn = sqlite3.connect(path)
    conn.executescript(OLD_LEDGER)
    conn.executemany("INSERT INTO _runs (run_id, spider, started, status) VALUES (?, ?, ?, 'ok')",
                     [(RUN1, "ssb_07459", "2025-01-01"), (RUN2, "ssb_07459", "2026-01-01"),
                      (RUN3, "nav_aap", "2026-01-02")])
    conn.executemany("INSERT INTO _fetches VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [(RUN1, "ssb_07459", "ssb_07459", URL1, SHA1, "2025-01-01T00:00:01Z", 4),
                      (RUN2, "ssb_07459", "ssb_07459", URL2, SHA2, "2026-01-01T00:00:01Z", 4),
                      (RUN3, "nav_aap", "nav_aap", URL3, SHA3, "2026-01-02T00:00:01Z", 2)])
    conn.executemany(f"INSERT INTO ssb_07459 VALUES ({', '.join('?' * 17)})", SSB_ROWS)
    conn.executemany("INSERT INTO nav_aap VALUES (?, ?, ?, ?, ?, ?)", NAV_ROWS)
    conn.commit()
    conn.close()
    return path



def test_the_store_refuses_an_old_database_and_names_the_command(old_db):
    with pytest.raises(OldLayoutError, match=f"python -m atlas_crawl migrate --db {old_db}"):
        Store(old_db)


def test_migrate_keeps_every_value_label_and_provenance(old_db):
    report = migrate(old_db)
    assert report.migrated and report.tables == {"nav_aap": 2, "ssb_07459": 4}
    assert sorted(report.dimension_tables) == [
        "ssb_07459__contentscode", "ssb_07459__region", "ssb_07459__tid"]
    assert report.broken_views == ["ssb_07459_labels"]

    # The fact table holds codes, value, status, the place columns and two integers.
    assert [r[1] for r in query(old_db, "PRAGMA table_info(ssb_07459)")] == [
        "region", "contentscode", "tid", "value", "status", "region_canonical",
        "region_current", "region_level", "region_geo_status", "_run", "_fetch"]
    assert query(old_db, "SELECT sql LIKE '%WITHOUT ROWID' FROM sqlite_master "
                         "WHERE name = 'ssb_07459'") == [(1,)]
    assert sorted((r[3], r[2], r[4]) for r in query(
        old_db, "PRAGMA foreign_key_list(ssb_07459)")) == [
        ("_fetch", "_fetches", "id"), ("_run", "_runs", "id"),
        ("contentscode", "ssb_07459__contentscode", "code"),
        ("region", "ssb_07459__region", "code"), ("tid", "ssb_07459__tid", "code")]

    # Joined back to its dimensions and ledger, every old row comes back exactly.
    rebuilt = query(old_db, """
        SELECT t.region, r.label, t.contentscode, c.label, c.unit, c.decimals, t.tid, p.label,
               t.value, t.status, c.updated, t.region_canonical, t.region_current,
               t.region_level, t.region_geo_status, f.run_id, f.sha256
        FROM ssb_07459 AS t JOIN ssb_07459__region AS r ON r.code = t.region
        JOIN ssb_07459__contentscode AS c ON c.code = t.contentscode
        JOIN ssb_07459__tid AS p ON p.code = t.tid JOIN _fetches AS f ON f.id = t._fetch
        ORDER BY t.region, t.tid""")
    expected = [list(row) for row in SSB_ROWS]
    expected[2][1] = "Stavanger kommune"  # one label per code: the newest
    assert rebuilt == [tuple(row) for row in expected]
    assert query(old_db, "SELECT DISTINCT f.url FROM ssb_07459 AS t "
                         "JOIN _fetches AS f ON f.id = t._fetch ORDER BY 1") == [(URL1,), (URL2,)]
    assert query(old_db, "SELECT r.run_id, count(*) FROM ssb_07459 AS t "
                         "JOIN _runs AS r ON r.id = t._run GROUP BY 1 ORDER BY 1") == [
        (RUN1, 2), (RUN2, 2)]

    # A plain table: bookkeeping only; its index stays; an unknown hash gets a marked fetch.
    assert query(old_db, "SELECT t.kommune, t.year, t.value, f.run_id, f.sha256, f.url "
                         "FROM nav_aap AS t JOIN _fetches AS f ON f.id = t._fetch "
                         "ORDER BY t.year") == [
        ("0301", "2024", 10.0, RUN3, SHA3, URL3), ("0301", "2025", 11.0, RUN3, LOST, NOT_RECORDED)]
    assert query(old_db, "SELECT name FROM sqlite_master WHERE type = 'index' "
                         "AND tbl_name = 'nav_aap'") == [("idx_nav_aap_year",)]
    # The ledger keeps its order and values, now with integer keys.
    assert query(old_db, "SELECT id, run_id, spider FROM _runs ORDER BY id") == [
        (1, RUN1, "ssb_07459"), (2, RUN2, "ssb_07459"), (3, RUN3, "nav_aap")]


def test_a_migrated_database_is_written_like_a_new_one(old_db):
    assert main(["migrate", "--db", str(old_db)]) == 0
    assert migrate(old_db).migrated is False  # a second run has nothing to do
    store = Store(old_db)
    run = store.start_run("nav_aap", {})
    prov = Provenance(URL3, SHA3, "2026-02-01T00:00:00Z")
    same = Batch("nav_aap", ["kommune", "year", "value", "status"],
                 [("0301", "2024", 10.0, None)], ["kommune", "year"], prov)
    assert store.write_batch(same, run) == 0  # unchanged data is not rewritten
    changed = Batch("nav_aap", ["kommune", "year", "value", "status"],
                    [("0301", "2025", 12.0, None)], ["kommune", "year"], prov)
    assert store.write_batch(changed, run) == 1
    store.commit()
    store.close()
    assert query(old_db, "SELECT t.year, t.value, r.run_id FROM nav_aap AS t "
                         "JOIN _runs AS r ON r.id = t._run ORDER BY t.year") == [
        ("2024", 10.0, RUN3), ("2025", 12.0, run)]
