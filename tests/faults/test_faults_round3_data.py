"""Fault suite, round three, the data classes: input that parses without error must still not
undo a final count, store garbled text or a status the publisher never declared, and a monitor
must judge values (not provenance, not suppressed cells).

Run with `pytest -m faults`; every case uses files in the project and loopback addresses only.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3

import pytest
import pytest_twisted
from conftest import LOCAL_PACE, crawl_file, query, watch_manifest

from atlas_crawl import PROJECT_DIR
from atlas_crawl.items import Batch, Provenance
from atlas_crawl.run.golden import crawl, crawl_settings, runs, table_rows
from atlas_crawl.spiders.valgresultat import COUNT_ORDER
from atlas_crawl.store.writes import Store

pytestmark = pytest.mark.faults

GOLDEN = PROJECT_DIR / "golden"
FINAL = GOLDEN / "valgresultat" / "responses" / "st2025_kommune_03-0301_2025-10-20T1217.json"
PARTIAL = (GOLDEN / "valgresultat_paagaar" / "responses"
           / "st2025_kommune_03-0301_oslo_partialcount_2025-09-08T2003.json")


# --- 1. a final count is never undone ---------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_fault_provisional_answer_after_the_final_one_changes_nothing(tmp_path, caplog):
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="")
    await crawl("valgresultat", settings, file=str(FINAL))
    stored = (table_rows(db, "valgresultat"), table_rows(db, "valgresultat_partier"))
    assert query(db, "SELECT count_status, stemmer FROM valgresultat") == [("ferdig", 424036)]

    with caplog.at_level(logging.WARNING):
        await crawl("valgresultat", settings, file=str(PARTIAL))
    run = runs(db)[-1]
    assert (run["status"], run["rows_received"], run["rows_written"]) == ("ok", 24, 0)
    assert (table_rows(db, "valgresultat"), table_rows(db, "valgresultat_partier")) == stored
    held = [r.getMessage() for r in caplog.records if "kept as stored" in r.getMessage()]
    assert held[0] == (
        "valgresultat: 1 row(s) kept as stored, e.g. valgaar=2025, valgtype=st, nr=0301: the "
        "delivered answer (paagaar, 2025-09-08T22:02:36) is older or less final than the "
        "stored one (ferdig, 2025-09-17T12:10:25); kept as a fetch, nothing changed")
    assert held[1].startswith("valgresultat_partier: 23 row(s) kept as stored")
    # the provisional answer is kept as a fetch of that run
    assert query(db, "SELECT count(*) FROM _fetches WHERE run_id = "
                     f"'{run['run_id']}' AND table_name = 'valgresultat'") == [(1,)]


def _area_batch(status: str, when: str, stemmer: int) -> Batch:
    return Batch(source_id="valgresultat",
                 columns=["valgaar", "valgtype", "nr", "count_status", "rapport_generert",
                          "stemmer"],
                 rows=[(2025, "st", "0301", status, when, stemmer)],
                 key=["valgaar", "valgtype", "nr"], types={"valgaar": int, "stemmer": int},
                 provenance=Provenance.of(f"file:{status}-{when}", str(stemmer).encode()),
                 forward=COUNT_ORDER)


def test_fault_count_moves_only_forward_within_one_run(tmp_path):
    store = Store(tmp_path / "atlas.db")
    run = store.start_run("valgresultat", {})
    order = [("paagaar", "2025-09-08T21:00:00", 200_000),   # stored
             ("paagaar", "2025-09-08T22:02:36", 300_939),   # later provisional: moves on
             ("paagaar", "2025-09-08T21:30:00", 250_000),   # earlier provisional: held
             ("ferdig", "2025-09-10T10:00:00", 400_000),    # final: moves on
             ("paagaar", "2025-09-11T00:00:00", 300_939),   # provisional, even if later: held
             ("ferdig", "2025-09-09T10:00:00", 399_000),    # an earlier final: held
             ("ferdig", "2025-10-20T12:17:12", 424_036)]    # a later final: moves on
    seen = []
    for status, when, votes in order:
        store.write_batch(_area_batch(status, when, votes), run)
        seen.append(store.conn.execute("SELECT stemmer FROM valgresultat").fetchone()[0])
    store.commit()
    assert seen == [200_000, 300_939, 300_939, 400_000, 400_000, 400_000, 424_036]
    assert store.conn.execute("SELECT count(*) FROM _fetches").fetchone()[0] == 7
    store.close()


# --- 4. max_changed judges values: not suppressed cells, not provenance ------------------------

HL060 = GOLDEN / "nav_helt_ledige" / "responses" / "202601_HL060_constructed.xlsx"
KOMMUNE_SHEETS = ("3. Kommune Antall", "4. Kommune Prosent av arbeidsst")
SUPPRESSED = ("4001 ", "4003 ", "4005 ", "4010 ", "4012 ")


def _hl060(change) -> bytes:
    """HL060 with five kommuner suppressed (`*`) on both kommune sheets, every other number (of
    every sheet) passed through `change`."""
    import io

    from openpyxl import load_workbook

    wb = load_workbook(HL060)
    for ws in wb.worksheets:
        for label, cell in ws.iter_rows(min_col=2, max_col=3):
            if ws.title in KOMMUNE_SHEETS and isinstance(label.value, str) and \
                    label.value.startswith(SUPPRESSED):
                cell.value = "*"
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, (int, float)) and cell.value != "*":
                    cell.value = change(cell.value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest_twisted.ensureDeferred
async def test_fault_every_number_changed_fails_max_changed_despite_suppressed_cells(tmp_path):
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="")
    base, shifted = tmp_path / "HL060.xlsx", tmp_path / "HL060-shifted.xlsx"
    base.write_bytes(_hl060(lambda v: v))
    shifted.write_bytes(_hl060(lambda v: v * 10 + 1))
    await crawl("nav_helt_ledige", settings, file=str(base))
    stored = table_rows(db, "nav_helt_ledige")
    assert sum(r["value"] is None for r in stored) == 12  # of 52: near a quarter suppressed
    await crawl("nav_helt_ledige", settings, file=str(shifted))
    run = runs(db)[-1]
    assert run["status"] == "failed"
    assert run["error"] == (
        "monitors failed: max_changed: nav_helt_ledige: values of 40 of 40 existing rows with a "
        "value changed (100%, more than 90%)")
    assert table_rows(db, "nav_helt_ledige") == stored


@pytest_twisted.ensureDeferred
async def test_fault_same_bufdir_zip_as_a_file_after_a_replay_is_not_a_change(tmp_path):
    from atlas_crawl.run.golden import GoldenCase, crawl_case

    case = GoldenCase.load(GOLDEN / "bufdir_barnevern")
    db = tmp_path / "atlas.db"
    await crawl_case(case, db)
    assert runs(db)[-1]["status"] == "ok"
    values = table_rows(db, "bufdir_barnevern")
    zip_path = case.folder / "responses" / "Kommunemonitor_barnevern_constructed.zip"
    run = await crawl_file(db, "bufdir_barnevern", zip_path)
    assert run["status"] == "ok", run["error"]
    assert table_rows(db, "bufdir_barnevern") == values
    # only the provenance of the indicator rows moved: where the zip was read from
    indicators = table_rows(db, "bufdir_barnevern_indikatorer")
    assert {r["zip_url"] for r in indicators} == {zip_path.as_uri()}


# --- 3. a status is one of the publisher's declared symbols -----------------------------------

IMDI_2025 = GOLDEN / "imdi_bosetting" / "responses" / "imdi_nokkeltall-bosetting-2025_EXCERPT.html"


@pytest_twisted.ensureDeferred
async def test_fault_words_around_a_number_go_to_quarantine_not_to_status(tmp_path):
    page = IMDI_2025.read_bytes()
    cell = b'<td style="text-align: center;">1006</td>'  # Akershus, anmodet
    assert page.count(cell) == 1
    edited = tmp_path / "bosetting-2025.html"
    edited.write_bytes(page.replace(cell, cell.replace(b"1006", b"ca. 1006")))
    db = tmp_path / "atlas.db"
    await crawl("imdi_bosetting", crawl_settings(db, replay=False, ATLAS_RAW_DIR=""),
                file=str(edited), year="2025")
    run = runs(db)[-1]
    assert run["status"] == "ok" and run["rows_quarantined"] == 1
    stored = table_rows(db, "imdi_bosetting")
    assert not [r for r in stored if r["status"] not in (None, ":", "-", "avventer vedtak")]
    assert not [r for r in stored if r["name"] == "Akershus" and r["value"] is None]
    (column, raw, reason, row), = query(db, "SELECT column_name, raw_value, reason, row_json "
                                            "FROM quarantine")
    assert (column, raw) == ("value", "ca. 1006")
    assert reason == ("row 5 of the batch, column value: 'ca. 1006' is neither a number nor a "
                      "symbol Integrerings- og mangfoldsdirektoratet (IMDi) declares ('*', '-', "
                      "'.', '..', ':', 'avventer vedtak', '…')")
    assert json.loads(row)["name"] == "Akershus"


@pytest_twisted.ensureDeferred
async def test_fault_many_undeclared_statuses_fail_the_run(tmp_path):
    page = IMDI_2025.read_bytes()
    import re as _re

    # the fylke summary's 60 numbers written with words around them (a quarter of the rows)
    edited = tmp_path / "bosetting-2025.html"
    edited.write_bytes(_re.sub(rb'(<td style="text-align: center;">)(\d+)(</td>)',
                               rb"\1ca. \2\3", page, count=60))
    fresh = tmp_path / "fresh.db"
    await crawl("imdi_bosetting", crawl_settings(fresh, replay=False, ATLAS_RAW_DIR=""),
                file=str(edited), year="2025")
    run = runs(fresh)[-1]
    assert run["status"] == "failed"
    assert run["error"] == ("monitors failed: max_quarantine_share: 60 of 244 rows quarantined "
                            "(25%, more than 10%)")
    assert table_rows(fresh, "imdi_bosetting") == []
    # over stored data the rows held back are also a shrink the store refuses
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="")
    await crawl("imdi_bosetting", settings, file=str(IMDI_2025), year="2025")
    stored = table_rows(db, "imdi_bosetting")
    await crawl("imdi_bosetting", settings, file=str(edited), year="2025")
    assert runs(db)[-1]["status"] == "failed"
    assert table_rows(db, "imdi_bosetting") == stored


# --- 2. garbled text is never stored ----------------------------------------------------------

INNVANDRINGSGRUNN = (GOLDEN / "imdi_innvandringsgrunn" / "responses"
                     / "05-befolkning_innvandringsgrunn-kommune-2014.csv")


def _half_utf8(latin1: bytes, from_line: int) -> bytes:
    """The real ISO-8859-1 export with its lines from `from_line` on re-encoded as UTF-8."""
    lines = latin1.split(b"\n")
    return b"\n".join(lines[:from_line - 1]
                      + [line.decode("latin-1").encode("utf-8") for line in lines[from_line - 1:]])


@pytest_twisted.ensureDeferred
async def test_fault_csv_half_latin1_half_utf8_is_refused_naming_the_first_bad_line(tmp_path):
    db = tmp_path / "atlas.db"
    await crawl_file(db, "imdi_innvandringsgrunn", INNVANDRINGSGRUNN)
    stored = table_rows(db, "imdi_innvandringsgrunn")
    assert {r["kommune_navn"] for r in stored if r["kommune_nr"] == "1247"} == {"Askøy"}
    mixed = tmp_path / "05-befolkning_innvandringsgrunn-kommune-2014.csv"
    mixed.write_bytes(_half_utf8(INNVANDRINGSGRUNN.read_bytes(), 200))
    run = await crawl_file(db, "imdi_innvandringsgrunn", mixed)
    assert run["status"] == "failed"
    assert "\n" not in run["error"]
    assert re.search(r"05-befolkning_innvandringsgrunn-kommune-2014\.csv: line 2\d\d: garbled "
                     r"text '[^']*Ã[^']*' \('Ã.', UTF-8 read in another encoding\): the file read "
                     r"as cp1252 mixes encodings or was decoded wrongly; refused, nothing stored",
                     run["error"]), run["error"]
    assert table_rows(db, "imdi_innvandringsgrunn") == stored
    assert not [r for r in table_rows(db, "imdi_innvandringsgrunn") if "Ã" in str(r)]


# --- 5. an incomplete sitemap provider keeps every stored field ---------------------------------

FILES = ("a", "b", "c", "d")


def provider_site(state: dict):
    """robots.txt -> sitemap.xml (answers state["sitemap"]) listing four files with a lastmod;
    the landing page /stats/ links the same four files."""
    from fakes.local_http import text_site

    def answer(path: str, root: str) -> tuple[int, str, str]:
        if path == "/robots.txt":
            return 200, f"User-agent: *\nAllow: /\nSitemap: {root}/sitemap.xml\n", "text/plain"
        if path == "/sitemap.xml" and state["sitemap"] == 200:
            urls = "".join(f"<url><loc>{root}/files/{f}.xlsx</loc><lastmod>2026-09-0{n}"
                           "</lastmod></url>" for n, f in enumerate(FILES, 1))
            return 200, ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                         f'sitemap/0.9">{urls}</urlset>'), "application/xml"
        if path == "/sitemap.xml":
            return state["sitemap"], "<h1>Service Unavailable</h1>", "text/html"
        if path == "/stats/":
            links = "".join(f'<a href="/files/{f}.xlsx">{f}</a>' for f in FILES)
            return 200, f"<html><body>{links}</body></html>", "text/html"
        if path.startswith("/files/"):
            return 200, f"workbook {path}", "application/octet-stream"
        return 404, "not found", "text/plain"

    return text_site(answer)


@pytest_twisted.ensureDeferred
async def test_fault_sitemap_503_keeps_every_stored_lastmod_and_listing(tmp_path):
    db = tmp_path / "atlas.db"
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    state = {"sitemap": 200}
    with provider_site(state) as site:
        (manifests / "fault_watch.yml").write_text(watch_manifest(
            "fault_watch", site.url, [f"{site.url}/stats/", f"{site.url}/files/*.xlsx"]))

        async def watch(now):
            settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="",
                                      ATLAS_RETRY_BACKOFF_BASE=0.01, ATLAS_WATCH_NOW=now,
                                      **LOCAL_PACE)
            await crawl("sitemap_watch", settings, manifests=str(manifests))
            return runs(db)[-1]

        first = await watch("2026-10-01T06:00:00Z")
        urls = table_rows(db, "sitemap_urls")
        assert [(r["lastmod"], r["via"]) for r in urls] == [
            (f"2026-09-0{n}", "sitemap") for n in range(1, 5)]
        state["sitemap"] = 503
        second = await watch("2026-10-02T06:00:00Z")
    assert first["status"] == second["status"] == "ok"
    assert table_rows(db, "sitemap_urls") == urls  # every field as it was
    events = query(db, "SELECT event, url FROM site_changes WHERE detected_at LIKE '2026-10-02%'")
    assert events == []


# --- 6. NAV workbooks keyed by code --------------------------------------------------------------

NAV_OCTOBER = (PROJECT_DIR / "tests" / "data" / "nav_workbook"
               / "nav_ledighet_og_stillinger_telemark_2025-10-05.xlsx")
NAV_FEBRUARY = (GOLDEN / "nav_workbook_ledighet" / "responses"
                / "nav_ledighet_og_stillinger_telemark_2026-02-05.xlsx")


@pytest_twisted.ensureDeferred
async def test_fault_nav_workbook_with_old_and_new_fylke_codes_is_stored_whole(tmp_path):
    from atlas_crawl.store.schema import primary_key, rekey_table

    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="")
    await crawl("nav_workbook", settings, file=str(NAV_FEBRUARY))
    # a database from before: the tables keyed by the region's name
    conn = sqlite3.connect(db)
    for table in ("nav_ledighet_maned", "nav_arbeidssokere_yrke", "nav_stillinger_yrke"):
        key = primary_key(conn, table)
        rekey_table(conn, table, [("region_name" if c == "region" else c) for c in key])
    conn.commit()
    conn.close()
    february = table_rows(db, "nav_stillinger_yrke")

    await crawl("nav_workbook", settings, file=str(NAV_OCTOBER))
    run = runs(db)[-1]
    assert (run["status"], run["rows_received"], run["rows_quarantined"]) == ("ok", 1688, 0)
    assert "region" in primary_key(sqlite3.connect(db), "nav_stillinger_yrke")
    rows = query(db, "SELECT region, place_current, place_geo_status, count(*), sum(value) "
                     "FROM nav_stillinger_yrke WHERE period = '2025-09' AND area = 'Fylker' AND "
                     "region_code IN ('01', '31', '38', '54') GROUP BY region ORDER BY region")
    assert rows == [("01 Østfold", None, "split", 2, 0.0), ("31 Østfold", "31", "exact", 15, 1650.0),
                    ("38 Telemark og Vestfold", None, "split", 15, 0.0),
                    ("54 Finnmark og Troms", None, "split", 15, 0.0)]
    # the February rows, stored under the old key, are all still there
    kept = [r for r in table_rows(db, "nav_stillinger_yrke") if r["period"] != "2025-09"]
    assert sorted(map(str, kept)) == sorted(map(str, february))


# --- 7. NAV's public HL060: every sheet, the national total, names in all official forms --------

HL060_2022 = PROJECT_DIR / "tests" / "data" / "nav_hl060" / "202210_HL060_telemark_archive.xlsx"


@pytest_twisted.ensureDeferred
async def test_fault_real_hl060_with_sami_fylke_names_quarantines_nothing(tmp_path):
    db = tmp_path / "atlas.db"
    run = await crawl_file(db, "nav_helt_ledige", HL060_2022)
    assert (run["status"], run["rows_received"], run["rows_quarantined"]) == ("ok", 7680, 0)
    rows = query(db, "SELECT region, place_current, place_geo_status, value FROM nav_helt_ledige "
                     "WHERE measure = 'antall' AND period = '2022-01' AND region IN "
                     "('0', '54', '99', 'I alt Troms og Finnmark - Romsa ja Finnmárku', "
                     "'I alt Øvrige områder') ORDER BY region")
    assert rows == [("0", "0", "aggregate", 74143.0), ("54", None, "split", 2699.0),
                    ("99", "21", "special", 30.0),
                    ("I alt Troms og Finnmark - Romsa ja Finnmárku", None, "split", 2699.0),
                    ("I alt Øvrige områder", "21", "special", 30.0)]


# --- 8. Udir's text export: UTF-16, tab-separated, per fylke ----------------------------------

SLUTTA = PROJECT_DIR / "tests" / "data" / "udir" / "20220505-1453_Slutta_VGO.csv.gz"


@pytest_twisted.ensureDeferred
async def test_fault_udir_utf16_per_fylke_export_is_read(tmp_path):
    import gzip

    export = tmp_path / "20220505-1453_Slutta_VGO.csv"
    export.write_bytes(gzip.decompress(SLUTTA.read_bytes()))
    db = tmp_path / "atlas.db"
    run = await crawl_file(db, "udir_statistikkbank", export)
    assert (run["status"], run["rows_received"], run["rows_quarantined"]) == ("ok", 6645, 0)
    rows = query(db, "SELECT unit_path, level, place_code, name, value FROM udir_statistikkbank "
                     "WHERE school_year = '2020-21' AND unit_path IN ('0', 'U', '54', "
                     "'42/974573873') ORDER BY unit_path")
    assert rows == [("0", "national", "0", "Hele landet", 3.0),
                    ("42/974573873", "skole", "42", "Arendal videregående skole Avd Tyholmen",
                     2.3),
                    ("54", "fylke", "54",
                     "Troms og Finnmark - Romsa ja Finnmárku - Tromssa ja Finmarkku", 4.1),
                    ("U", "national", "25", "Utlandet", None)]  # "*" that year


# --- 9. PxWebApi table info of a discontinued table; JSON-stat 1.0 with another key ------------

TABLE_INFO = (PROJECT_DIR / "tests" / "data" / "ssb_pxwebapi_v2"
              / "v2_table_13138_discontinued_constructed.json")
V1_29843 = GOLDEN / "ssb_v0_jsonstat1" / "responses" / "v0_dataset_29843_lang-en_jsonstat1.json"


@pytest_twisted.ensureDeferred
async def test_fault_table_info_of_a_discontinued_table_is_recorded_not_refused(tmp_path,
                                                                                 caplog):
    db = tmp_path / "atlas.db"
    with caplog.at_level(logging.WARNING):
        run = await crawl_file(db, "ssb_table", TABLE_INFO)
    assert (run["status"], run["error"]) == ("ok", None)
    assert query(db, "SELECT source_id, table_id, discontinued FROM source_status") == [
        ("ssb_13138", "13138", 1)]
    assert ("v2_table_13138_discontinued_constructed.json: PxWebApi table info (/tables/13138), "
            "no figures: SSB has discontinued table 13138 (last period 2021); recorded in "
            "source_status") in caplog.messages


@pytest_twisted.ensureDeferred
async def test_fault_jsonstat1_with_another_key_beside_dataset_is_read(tmp_path):
    doc = json.loads(V1_29843.read_bytes())
    path = tmp_path / "v0_29843_with_note.json"
    path.write_text(json.dumps({**doc, "note": "Statistisk sentralbyrå"}), encoding="utf-8")
    db, plain_db = tmp_path / "atlas.db", tmp_path / "plain.db"
    await crawl("ssb_table", crawl_settings(db, replay=False, ATLAS_RAW_DIR=""), table="29843",
                file=str(path))
    await crawl("ssb_table", crawl_settings(plain_db, replay=False, ATLAS_RAW_DIR=""),
                table="29843", file=str(V1_29843))
    assert runs(db)[-1]["status"] == runs(plain_db)[-1]["status"] == "ok"
    assert table_rows(db, "ssb_29843") == table_rows(plain_db, "ssb_29843")
    assert len(table_rows(db, "ssb_29843")) > 0
