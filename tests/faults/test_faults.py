"""Fault suite: hostile files, failing servers, killed and concurrent runs, bad command lines.

Every case here is a fault an unattended crawl meets sooner or later. Each test provokes one and
asserts the promise: the run fails loudly (one readable line, non-zero exit, the cause in `_runs`)
or survives, and never loses or silently removes stored rows. Only loopback addresses
(127.0.0.1) and generated files are used; every case is bounded in time and memory.
Run them alone with `pytest -m faults`.
"""

from __future__ import annotations

import io
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest
import pytest_twisted
from conftest import LOCAL_PACE, scrapy_crawl, watch_manifest
from openpyxl import load_workbook

from atlas_crawl import PROJECT_DIR
from atlas_crawl.run.golden import crawl, crawl_settings, runs, table_rows

pytestmark = pytest.mark.faults

GOLDEN = PROJECT_DIR / "golden"
HL060 = GOLDEN / "nav_helt_ledige" / "responses" / "202601_HL060_constructed.xlsx"
KOMMUNE_SHEETS = ("3. Kommune Antall", "4. Kommune Prosent av arbeidsst")


def edited(data: bytes, edit) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    edit(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def with_parts(data: bytes, edit) -> bytes:
    """The same workbook with every part's bytes passed through `edit(name, part)`."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, edit(info.filename, src.read(info)))
    return out.getvalue()


def with_dimension(data: bytes, ref: str) -> bytes:
    """The same workbook with every sheet's <dimension> tag rewritten to `ref` (a stale tag)."""
    tag = f'<dimension ref="{ref}"/>'.encode()
    return with_parts(data, lambda name, part: re.sub(rb'<dimension ref="[^"]*"/>', tag, part)
                      if name.startswith("xl/worksheets/sheet") else part)


def nav_settings(db: Path, **overrides):
    return crawl_settings(db, replay=False, ATLAS_RAW_DIR="", **overrides)


async def crawl_nav_file(db: Path, data: bytes, tmp_path: Path, name: str, **args):
    path = tmp_path / name
    path.write_bytes(data)
    crawler = await crawl("nav_helt_ledige", nav_settings(db), file=str(path), **args)
    return crawler, runs(db)[-1]


# --- 1. short reads -----------------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_fault_stale_dimension_tag_reads_every_row(tmp_path):
    db = tmp_path / "atlas.db"
    _, first = await crawl_nav_file(db, HL060.read_bytes(), tmp_path, "HL060.xlsx")
    assert (first["status"], first["rows_received"]) == ("ok", 52)
    stored = table_rows(db, "nav_helt_ledige")
    stale = with_dimension(HL060.read_bytes(), "A1:C3")
    _, second = await crawl_nav_file(db, stale, tmp_path, "HL060-stale.xlsx")
    assert (second["status"], second["rows_received"], second["rows_written"]) == (
        "ok", first["rows_received"], 0)
    assert table_rows(db, "nav_helt_ledige") == stored


@pytest_twisted.ensureDeferred
async def test_fault_replace_refuses_to_remove_most_of_a_partition(tmp_path):
    db = tmp_path / "atlas.db"
    await crawl_nav_file(db, HL060.read_bytes(), tmp_path, "HL060.xlsx")
    stored = table_rows(db, "nav_helt_ledige")

    def lose_telemark(wb):  # 16 of Telemark's 17 kommuner gone from both kommune sheets
        for title in KOMMUNE_SHEETS:
            wb[title].delete_rows(13, 16)

    short = edited(HL060.read_bytes(), lose_telemark)
    crawler, run = await crawl_nav_file(db, short, tmp_path, "HL060-short.xlsx")
    assert run["status"] == "failed" and crawler.atlas_run_status == "failed"
    assert run["error"].startswith("nav_helt_ledige: partition period=2026-01: stored 52, "
                                   "delivered 20, would remove 32 (62%, more than 20%)")
    assert table_rows(db, "nav_helt_ledige") == stored  # nothing lost

    _, forced = await crawl_nav_file(db, short, tmp_path, "HL060-short.xlsx", allow_shrink="1")
    assert forced["status"] == "ok" and len(table_rows(db, "nav_helt_ledige")) == 20


@pytest_twisted.ensureDeferred
async def test_fault_header_only_workbook_fails_the_run(tmp_path):
    db = tmp_path / "atlas.db"
    await crawl_nav_file(db, HL060.read_bytes(), tmp_path, "HL060.xlsx")
    stored = table_rows(db, "nav_helt_ledige")

    def header_only(wb):
        for ws in wb.worksheets[1:]:
            ws.delete_rows(7, ws.max_row)

    _, run = await crawl_nav_file(db, edited(HL060.read_bytes(), header_only), tmp_path,
                                  "HL060-empty.xlsx")
    assert run["status"] == "failed"
    assert "sheet '3. Kommune Antall': expected data rows under the header" in run["error"]
    assert table_rows(db, "nav_helt_ledige") == stored


def brreg_records(n: int) -> list[dict]:
    import gzip
    import json

    template = json.loads(gzip.decompress(
        (GOLDEN / "brreg_enheter" / "responses" / "enheter_lastned_constructed.json.gz")
        .read_bytes()))[0]
    return [{**template, "organisasjonsnummer": f"{920000000 + i}"} for i in range(n)]


@pytest_twisted.ensureDeferred
async def test_fault_empty_bulk_file_is_an_error(tmp_path):
    import json

    db = tmp_path / "atlas.db"
    good = tmp_path / "enheter.json"
    good.write_text(json.dumps(brreg_records(12)))
    await crawl("brreg_enheter", nav_settings(db), file=str(good))
    assert len(table_rows(db, "brreg_enheter")) == 12
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    crawler = await crawl("brreg_enheter", nav_settings(db), file=str(empty))
    run = runs(db)[-1]
    assert run["status"] == "failed" and crawler.atlas_run_status == "failed"
    assert "empty.json: the bulk file holds no records (an empty array)" in run["error"]
    assert len(table_rows(db, "brreg_enheter")) == 12


@pytest_twisted.ensureDeferred
async def test_fault_renamed_json_field_names_the_empty_column(tmp_path):
    import json

    db = tmp_path / "atlas.db"
    records = brreg_records(12)
    for rec in records:
        rec["organisasjonsForm"] = rec.pop("organisasjonsform")  # upstream renamed the field
    path = tmp_path / "renamed.json"
    path.write_text(json.dumps(records))
    await crawl("brreg_enheter", nav_settings(db), file=str(path))
    run = runs(db)[-1]
    assert run["status"] == "failed"
    assert ("declared column 'organisasjonsform_kode' of table 'brreg_enheter' is empty in all "
            "12 rows") in run["error"]
    assert table_rows(db, "brreg_enheter") == []


# --- 2. decompression bombs ---------------------------------------------------------------------

BUFDIR_ZIP = GOLDEN / "bufdir_barnevern" / "responses" / "Kommunemonitor_barnevern_constructed.zip"


def declaring(archive: bytes, entry: str, size: int) -> bytes:
    """`archive` with the central directory claiming `entry` expands to `size` bytes (the
    figure a bomb declares; the bytes are never produced)."""
    import struct

    name = entry.encode()
    at = 0
    while True:
        at = archive.index(b"PK\x01\x02", at)
        n = struct.unpack_from("<H", archive, at + 28)[0]
        if archive[at + 46:at + 46 + n] == name:
            return archive[:at + 24] + struct.pack("<I", size) + archive[at + 28:]
        at += 4


def with_entry(archive: bytes, entry: str, data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(archive))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(entry, data)
    return out.getvalue()


@pytest_twisted.ensureDeferred
async def test_fault_zip_bomb_is_refused_before_reading(tmp_path):
    db = tmp_path / "atlas.db"
    good = tmp_path / "bundle.zip"
    good.write_bytes(BUFDIR_ZIP.read_bytes())
    await crawl("bufdir_barnevern", nav_settings(db), file=str(good))
    stored = table_rows(db, "bufdir_barnevern")
    assert runs(db)[-1]["status"] == "ok" and stored

    # 3 GiB declared by an entry of a few bytes: refused by its header, nothing inflated.
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(declaring(with_entry(BUFDIR_ZIP.read_bytes(), "bomb.xlsx", b"0" * 64),
                               "bomb.xlsx", 3 * 2**30))
    crawler = await crawl("bufdir_barnevern", nav_settings(db), file=str(bomb))
    run = runs(db)[-1]
    assert run["status"] == "failed" and crawler.atlas_run_status == "failed"
    assert run["error"].endswith(
        "bomb.zip: entry bomb.xlsx would expand to 3,072.0 MiB (0.0 MiB compressed), more than "
        "the 200.0 MiB allowed (ATLAS_ZIP_ENTRY_MAX_BYTES); refused")
    assert table_rows(db, "bufdir_barnevern") == stored


def test_fault_honest_bomb_stops_at_the_configured_limit_in_bounded_memory():
    import tracemalloc

    from atlas_crawl.formats import bufdir, expansion

    zeros = with_entry(BUFDIR_ZIP.read_bytes(), "zeros.xlsx", bytes(64 * 2**20))
    assert len(zeros) < 2**20  # 64 MiB of zeros deflate to well under a megabyte
    expansion.configure(entry_max=16 * 2**20)
    try:
        tracemalloc.start()
        with pytest.raises(bufdir.BufdirError, match=r"entry zeros.xlsx would expand to 64.0 "
                                                     r"MiB .* more than the 16.0 MiB allowed"):
            bufdir.read_bundle(zeros, bufdir.MONITORS["barnevern"], name="zeros.zip")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        expansion.configure()
    assert peak < 8 * 2**20


def test_fault_lying_entry_header_is_caught_by_its_checksum():
    from atlas_crawl.formats import bufdir

    # The entry says 64 bytes and holds 8 MiB: zipfile stops at 64 and the CRC does not match.
    liar = declaring(with_entry(BUFDIR_ZIP.read_bytes(), "liar.xlsx", bytes(8 * 2**20)),
                     "liar.xlsx", 64)
    with pytest.raises(bufdir.BufdirError, match=r"liar.zip: not a readable ZIP \(Bad CRC-32"):
        bufdir.read_bundle(liar, bufdir.MONITORS["barnevern"], name="liar.zip")


def test_fault_xlsx_part_bomb_is_refused():
    from atlas_crawl.formats.excel import open_workbook
    from atlas_crawl.formats.expansion import ExpansionError

    bomb = declaring(HL060.read_bytes(), "xl/worksheets/sheet3.xml", 2**31)
    with pytest.raises(ExpansionError, match=r"entry xl/worksheets/sheet3.xml would expand to "
                                             r"2,048.0 MiB"):
        open_workbook(bomb)


# --- 3. two crawls on one database; a run killed with -9 ----------------------------------------

def hold_write_lock(db: Path, run_id: str = "20260101T000000Z-other-crawl"):
    """Another crawl, alive in this process, in the middle of its write transaction."""
    import os

    from atlas_crawl.store import lock as dblock
    from atlas_crawl.store.writes import Store

    Store(db).close()  # the ledger exists, as after any earlier run
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("INSERT INTO _runs (run_id, spider, started, status, pid, host) "
                 "VALUES (?, 'other', '2026-01-01T00:00:00Z', 'running', ?, ?)",
                 (run_id, os.getpid(), dblock.HOST))
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE _runs SET arguments = '{}' WHERE run_id = ?", (run_id,))
    return conn


@pytest_twisted.ensureDeferred
async def test_fault_second_crawl_waits_then_is_refused_and_recorded(tmp_path, caplog):
    db = tmp_path / "atlas.db"
    holder = hold_write_lock(db)
    path = tmp_path / "HL060.xlsx"
    path.write_bytes(HL060.read_bytes())
    crawler = await crawl("nav_helt_ledige", nav_settings(db, ATLAS_DB_WAIT=1.5), file=str(path))
    assert crawler.atlas_run_status == "refused"
    assert ("is busy: run 20260101T000000Z-other-crawl (pid" in caplog.text
            and "is writing to it; waiting (at most" in caplog.text)
    holder.execute("COMMIT")
    holder.close()
    # The refusal could not be written while the other crawl held the lock; the next run that
    # opens the database records it.
    await crawl("nav_helt_ledige", nav_settings(db), file=str(path))
    ledger = {r["run_id"]: r for r in runs(db)}
    refused = ledger[crawler.spider.run_id]
    assert refused["status"] == "refused" and refused["spider"] == "nav_helt_ledige"
    assert refused["error"].startswith(
        f"refused: database {db} is busy: run 20260101T000000Z-other-crawl (pid ")
    assert refused["error"].endswith("is writing to it; gave up after 2 s (ATLAS_DB_WAIT)")
    # The other crawl is alive: it is not taken for abandoned.
    assert ledger["20260101T000000Z-other-crawl"]["status"] == "running"
    assert [r["status"] for r in ledger.values()].count("ok") == 1


@pytest_twisted.ensureDeferred
async def test_fault_second_crawl_waits_for_the_first_and_succeeds(tmp_path):
    import logging
    import threading

    db = tmp_path / "atlas.db"
    holder = hold_write_lock(db)
    waited = []

    class ReleaseWhenWaiting(logging.Handler):  # the other crawl commits once this one waits
        def emit(self, record):
            if "waiting (at most" in record.getMessage() and not waited:
                waited.append(record.getMessage())
                threading.Timer(0.5, lambda: (holder.execute("COMMIT"), holder.close())).start()

    handler = ReleaseWhenWaiting()
    logging.getLogger("atlas_crawl.store.lock").addHandler(handler)
    try:
        path = tmp_path / "HL060.xlsx"
        path.write_bytes(HL060.read_bytes())
        crawler = await crawl("nav_helt_ledige", nav_settings(db, ATLAS_DB_WAIT=30),
                              file=str(path))
    finally:
        logging.getLogger("atlas_crawl.store.lock").removeHandler(handler)
    assert crawler.atlas_run_status == "ok"
    assert "is busy: run 20260101T000000Z-other-crawl" in waited[0]
    assert runs(db)[-1]["rows_received"] == 52


def test_fault_kill_9_mid_write_keeps_data_and_marks_the_run_abandoned(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from atlas_crawl.store.writes import Store

    db = tmp_path / "atlas.db"
    script = f"""
import sys, time
from atlas_crawl.store.writes import Store
from atlas_crawl.items import Batch, Provenance
store = Store({str(db)!r})
run = store.start_run("writer", {{}})
prov = Provenance.of("file:///x", sys.argv[1].encode())
rows = [(f"{{i:04d}}", float(i) * float(sys.argv[1])) for i in range(2000)]
store.write_batch(Batch("faults_kill", ["k", "v"], rows, ["k"], prov), run)
if sys.argv[1] == "1":
    store.commit()
    store.finish_run(run, status="ok", source_ids=[], received=2000, written=2000,
                     quarantined=0, error=None)
    sys.exit(0)
print(run, flush=True)
time.sleep(60)
"""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    subprocess.run([sys.executable, "-c", script, "1"], check=True, env=env, timeout=60)
    writer = subprocess.Popen([sys.executable, "-c", script, "2"], stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        killed_run = writer.stdout.readline().strip()  # written, not committed
        assert killed_run
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    store = Store(db)  # the next run notices
    try:
        assert store.abandoned == [killed_run]
        status, error = store.conn.execute(
            "SELECT status, error FROM _runs WHERE run_id = ?", (killed_run,)).fetchone()
        values = store.conn.execute("SELECT sum(v), count(*) FROM faults_kill").fetchone()
    finally:
        store.close()
    assert status == "abandoned"
    assert re.fullmatch(r"abandoned: process \d+ on .+ ended without finishing the run "
                        r"\(killed\?\); noticed \d{4}-\d\d-\d\dT[\d:]+Z; its writes were "
                        r"rolled back", error)
    assert values == (sum(range(2000)) * 1.0, 2000)  # the first run's values, all of them


# --- 4. bad command lines: one readable line, no traceback, non-zero exit -----------------------

BAD_COMMAND_LINES = [
    (["ssb_table"], ("ERROR: ssb_table needs -a table=<id> (e.g. 07459) or -a file=<saved "
                    "response>")),
    (["ssb_table", "-a", "table=05803", "-a", "select=garbage"],
     ("ERROR: -a select=garbage: 'garbage' is not Dimension=code,code (e.g. "
     "\"ContentsCode=Personer;Tid=2025,2026\")")),
    (["ssb_table", "-a", "table=5803"], ("ERROR: -a table=5803: an SSB table id is five digits, "
                                        "such as 05803 or 07459 (keep the leading zero)")),
    (["ssb_table", "-a", "table=0580x"], ("ERROR: -a table=0580x: an SSB table id is five "
                                         "digits")),
    (["ssb_table", "-a", "tabel=05803"], ("ERROR: ssb_table: unknown argument -a tabel; "
                                         "ssb_table takes: allow_shrink (")),
    (["imdi_bosetting", "-a", "years=abc"], ("ERROR: -a years=abc: 'abc' is not a year; "
                                            "expected years like 2025, 2025,2026 or 2020-2026")),
    (["lottstift_momskompensasjon", "-a", "year=20x4"], ("ERROR: -a year=20x4: '20x4' is not a "
                                                        "year")),
    (["brreg_oppdateringer", "-a", "size=0"], ("ERROR: -a size=0: expected a whole number from "
                                              "1 to 10000")),
    (["brreg_frivillige", "-a", "size=many"], ("ERROR: -a size=many: expected a whole number "
                                              "from 1 to 100")),
    (["brreg_oppdateringer", "-a", "dato=4.10.2026"], ("ERROR: -a dato=4.10.2026: expected a "
                                                      "day as YYYY-MM-DD")),
    (["husbanken_bostotte", "-a", "page_rows=-5"], ("ERROR: -a page_rows=-5: expected a whole "
                                                   "number from 1 up")),
    (["nav_aap", "-a", "file=/no/such/file.xlsx"], ("ERROR: -a file=/no/such/file.xlsx: no such "
                                                   "file")),
    (["nav_aap", "-a", "yeras=2025"], ("ERROR: nav_aap: unknown argument -a yeras; nav_aap "
                                      "takes: allow_shrink (")),
    (["no_such_spider"], "ERROR: Spider not found: no_such_spider; `scrapy list` shows them"),
]


@pytest.mark.parametrize(("argv", "line"), BAD_COMMAND_LINES,
                         ids=[" ".join(a) for a, _ in BAD_COMMAND_LINES])
def test_fault_bad_command_line_is_refused_before_crawling(tmp_path, argv, line):
    """The check `scrapy crawl` runs first (commands/outcome.py), in this process."""
    from conftest import command_line_problem
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.set("ATLAS_DB", str(tmp_path / "atlas.db"))
    name, spargs = argv[0], dict(a.split("=", 1) for a in argv[2::2])
    try:
        spidercls = SpiderLoader.from_settings(settings).load(name)
    except KeyError as exc:
        problem = f"{exc.args[0]}; `scrapy list` shows them"
    else:
        problem = command_line_problem(spidercls, settings, spargs)
    assert problem is not None and f"ERROR: {problem}".startswith(line), problem
    assert "\n" not in problem


# The same through the real command, for a few of them: exit 2, one line, no traceback.
CLI_SAMPLE = [BAD_COMMAND_LINES[i] for i in (0, 4, 11, 13)]


@pytest.mark.parametrize(("argv", "line"), CLI_SAMPLE, ids=[" ".join(a) for a, _ in CLI_SAMPLE])
def test_fault_bad_command_line_through_scrapy_crawl(tmp_path, argv, line):
    result = scrapy_crawl(*argv, db=tmp_path / "atlas.db")
    output = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 2
    assert len(output) == 1 and output[0].startswith(line), output
    assert not (tmp_path / "atlas.db").exists()  # nothing was started


@pytest.mark.parametrize("content", [b"not a database at all\n", b"PK\x03\x04" + bytes(200)])
def test_fault_atlas_db_that_is_not_sqlite(tmp_path, content):
    db = tmp_path / "atlas.db"
    db.write_bytes(content)
    result = scrapy_crawl("ssb_07459", "-s", "ATLAS_REPLAY=1", db=db)
    assert result.returncode == 2
    assert (result.stdout + result.stderr).strip().splitlines() == [
        (f"ERROR: ATLAS_DB={db} is not an SQLite database; point it at an atlas_crawl database "
        "or a new file")]
    assert db.read_bytes() == content  # untouched


# --- 5. no network ------------------------------------------------------------------------------

REAL_05803 = GOLDEN / "ssb_table" / "responses" / "v2_data_05803_lang-no_with-status.json"


@pytest_twisted.ensureDeferred
async def test_fault_unresolvable_host_is_not_retried_and_said_once(tmp_path):
    from atlas_crawl.run.commands.outcome import closing_line

    db = tmp_path / "atlas.db"
    await crawl("ssb_table", nav_settings(db), table="05803", file=str(REAL_05803))
    stored = table_rows(db, "ssb_05803")
    assert len(stored) == 12
    # `.invalid` never resolves (RFC 6761): the same as a machine without network.
    crawler = await crawl("ssb_table", nav_settings(db), table="05803",
                          base_url="http://nonexistent.invalid/api/pxwebapi/v2")
    run = runs(db)[-1]
    assert run["status"] == "failed"
    assert run["error"].startswith("cannot reach nonexistent.invalid: DNS lookup failed")
    assert crawler.stats.get_value("retry/count") is None  # not retried
    assert closing_line(crawler) == ("FAILED: cannot reach nonexistent.invalid (no network?); "
                                     "previous data kept; try -s ATLAS_REPLAY=1")
    assert table_rows(db, "ssb_05803") == stored


# --- 6. the ledger tells the cause; re-crawls leave quarantine unchanged ------------------------

@pytest_twisted.ensureDeferred
async def test_fault_pipeline_error_cause_is_in_the_ledger_not_a_row_dump(tmp_path):
    import json

    db = tmp_path / "atlas.db"
    records = brreg_records(40)
    for rec in records:
        rec["organisasjonsForm"] = rec.pop("organisasjonsform")
    path = tmp_path / "renamed.json"
    path.write_text(json.dumps(records))
    await crawl("brreg_enheter", nav_settings(db), file=str(path))
    error = runs(db)[-1]["error"]
    assert error == (f"ContractError: brreg_enheter ({path.as_uri()}): declared column "
                     "'organisasjonsform_kode' of table 'brreg_enheter' is empty in all 40 rows "
                     "(a renamed or missing field in the source?)")


def dump_quarantine(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT * FROM quarantine ORDER BY rowid").fetchall()
    finally:
        conn.close()


@pytest_twisted.ensureDeferred
async def test_fault_recrawl_leaves_quarantine_unchanged(tmp_path):
    db = tmp_path / "atlas.db"
    path = tmp_path / "HL060.xlsx"
    path.write_bytes(HL060.read_bytes())

    def unplaceable(wb):  # a kommune name no geography knows: quarantined with the reason
        for title in KOMMUNE_SHEETS:
            wb[title]["B14"] = "Skienn og omegn"

    path.write_bytes(edited(HL060.read_bytes(), unplaceable))
    await crawl("nav_helt_ledige", nav_settings(db), file=str(path))
    first = dump_quarantine(db)
    assert first and runs(db)[-1]["rows_quarantined"] == len(first)
    await crawl("nav_helt_ledige", nav_settings(db), file=str(path))
    assert runs(db)[-1]["status"] == "ok"
    assert dump_quarantine(db) == first  # byte for byte, run ids included


def test_fault_quarantine_duplicates_from_earlier_recrawls_are_merged(tmp_path):
    from atlas_crawl.store.writes import Store

    db = tmp_path / "atlas.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE quarantine (run_id TEXT NOT NULL, source_id TEXT NOT NULL, "
                 "table_name TEXT NOT NULL, column_name TEXT NOT NULL, raw_value TEXT, "
                 "reason TEXT NOT NULL, row_json TEXT NOT NULL, source_url TEXT)")
    row = ("s", "t", "kommune", "Atlantis", "unknown place", '{"kommune": "Atlantis"}', "u")
    conn.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     [("run1", *row), ("run2", *row), ("run3", *row),
                      ("run3", "s", "t", "kommune", "Lemuria", "unknown place",
                       '{"kommune": "Lemuria"}', "u")])
    conn.commit()
    conn.close()
    Store(db).close()
    assert [(r[0], r[4]) for r in dump_quarantine(db)] == [("run3", "Atlantis"),
                                                           ("run3", "Lemuria")]


# --- 7. a dead sitemap host makes only its provider incomplete ----------------------------------

def sitemap_site(sitemap_status: int):
    """A provider's site on 127.0.0.1: robots.txt naming a sitemap that answers
    `sitemap_status` (503: down for good) and lists one watched file."""
    from fakes.local_http import text_site

    def answer(path: str, root: str) -> tuple[int, str, str]:
        if path == "/robots.txt":
            return 200, f"User-agent: *\nAllow: /\nSitemap: {root}/sitemap.xml\n", "text/plain"
        if path == "/sitemap.xml" and sitemap_status == 200:
            return 200, ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/'
                         f'schemas/sitemap/0.9"><url><loc>{root}/files/a.xlsx</loc>'
                         "<lastmod>2026-09-01</lastmod></url></urlset>"), "application/xml"
        if path == "/sitemap.xml":
            return sitemap_status, "<h1>Service Unavailable</h1>", "text/html"
        if path == "/files/a.xlsx":
            return 200, "not really a workbook", "application/octet-stream"
        return 404, "not found", "text/plain"

    return text_site(answer)


@pytest_twisted.ensureDeferred
async def test_fault_sitemap_5xx_makes_only_its_provider_incomplete(tmp_path, caplog):
    from atlas_crawl.run.commands.outcome import closing_line

    db = tmp_path / "atlas.db"
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    with sitemap_site(503) as dead, sitemap_site(200) as alive:
        for source_id, provider, root in (("fault_dead", "fhi", dead.url),
                                          ("fault_alive", "redcross", alive.url)):
            (manifests / f"{source_id}.yml").write_text(watch_manifest(
                source_id, root, [f"{root}/files/*.xlsx"], provider=provider))
        settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="", LOG_LEVEL="INFO",
                                  ATLAS_RETRY_BACKOFF_BASE=0.01, ATLAS_WATCH_NOW=
                                  "2026-10-01T06:00:00Z", **LOCAL_PACE)
        crawler = await crawl("sitemap_watch", settings, manifests=str(manifests))
        dead_sitemap = f"{dead.url}/sitemap.xml"
        alive_file = f"{alive.url}/files/a.xlsx"
    run = runs(db)[-1]
    assert run["status"] == "ok" and crawler.atlas_run_status == "ok"
    conn = sqlite3.connect(db)
    try:
        documents = dict(conn.execute("SELECT url, status FROM watch_documents").fetchall())
        listed = [r[0] for r in conn.execute("SELECT url FROM sitemap_urls")]
    finally:
        conn.close()
    assert documents[dead_sitemap] == "http 503"
    assert listed == [alive_file]  # the other provider was monitored and recorded
    assert "INCOMPLETE: 1 of 2 providers could not be read in full" in caplog.text
    assert closing_line(crawler) == ("INCOMPLETE: the run is recorded, but these could not be "
                                     f"read in full: fhi: {dead_sitemap} answered HTTP 503")


# --- network faults against a local PxWebApi (these already passed; kept so they stay so) -----

SELECT_05803 = "ContentsCode=Personer,Skilsmisse,Innflyttinger;Tid=1735,1736,2025,2026"
SURVIVED = [["429-retry-after"], ["429"], ["503", "503"], ["hang"], ["truncated"],
            ["429", "503", "truncated", "hang"]]
REFUSED = [["503"] * 5, ["hang"] * 5, ["truncated"] * 5, ["html"]]


async def crawl_faulty(db: Path, faults: list[str]):
    """Crawl the real table 05803 from its file into `db`, then live from a PxWeb API that fails
    with `faults` first; the rows stored before the live crawl, its crawler and the calls the
    API answered."""
    from fakes.faulty_pxweb import FaultyPxWeb

    await crawl("ssb_table", nav_settings(db), table="05803", file=str(REAL_05803))
    stored = table_rows(db, "ssb_05803")
    with FaultyPxWeb(faults, hang_seconds=2.0) as api:
        settings = nav_settings(db, DOWNLOAD_TIMEOUT=1, ATLAS_RETRY_BACKOFF_BASE=0.05,
                                ROBOTSTXT_OBEY=False, **LOCAL_PACE)
        crawler = await crawl("ssb_table", settings, table="05803", select=SELECT_05803,
                              base_url=api.base_url)
        return stored, crawler, api.data_calls


@pytest.mark.parametrize("faults", SURVIVED, ids=["+".join(f) for f in SURVIVED])
@pytest_twisted.ensureDeferred
async def test_fault_network_fault_is_survived(tmp_path, faults):
    db = tmp_path / "atlas.db"
    stored, _crawler, calls = await crawl_faulty(db, faults)
    assert calls == [*faults, "ok"]
    run = runs(db)[-1]
    # 12 cells unchanged, and the table's status row (source_status) a live crawl records
    assert (run["status"], run["rows_received"], run["rows_written"]) == ("ok", 13, 1)
    assert table_rows(db, "ssb_05803") == stored


@pytest.mark.parametrize("faults", REFUSED, ids=["+".join(f) for f in REFUSED])
@pytest_twisted.ensureDeferred
async def test_fault_network_fault_fails_the_run_and_keeps_the_data(tmp_path, faults):
    db = tmp_path / "atlas.db"
    stored, crawler, calls = await crawl_faulty(db, faults)
    assert calls == faults
    run = runs(db)[-1]
    assert run["status"] == "failed" and crawler.atlas_run_status == "failed"
    assert run["error"] and "Traceback" not in run["error"]
    assert table_rows(db, "ssb_05803") == stored


@pytest_twisted.ensureDeferred
async def test_fault_lock_taken_mid_run_refuses_at_the_first_write(tmp_path):
    from scrapy import signals
    from scrapy.crawler import CrawlerRunner

    db = tmp_path / "atlas.db"
    path = tmp_path / "HL060.xlsx"
    path.write_bytes(HL060.read_bytes())
    holders = []
    runner = CrawlerRunner(nav_settings(db, ATLAS_DB_WAIT=1.5))
    crawler = runner.create_crawler("nav_helt_ledige")
    # Another crawl starts writing after this one opened its run, before its first batch.
    crawler.signals.connect(lambda spider: holders.append(hold_write_lock(db)),
                            signal=signals.spider_opened, weak=False)
    await runner.crawl(crawler, file=str(path))
    assert crawler.atlas_run_status == "refused"
    holders[0].execute("COMMIT")
    holders[0].close()
    from atlas_crawl.store.writes import Store

    Store(db).close()  # the next run to open the database records the refusal
    ledger = {r["run_id"]: r for r in runs(db)}
    mine = ledger[crawler.spider.run_id]
    assert mine["status"] == "refused" and mine["finished"]
    assert "gave up after 2 s (ATLAS_DB_WAIT)" in mine["error"]
    assert table_rows(db, "nav_helt_ledige") == []


def test_fault_refused_crawl_through_scrapy_crawl_ends_in_one_line(tmp_path):
    import os
    import subprocess
    import sys

    db = tmp_path / "atlas.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"""
import time
from atlas_crawl.store.writes import Store
store = Store({str(db)!r})
store.start_run("other", {{}})
store.begin()
print("holding", flush=True)
time.sleep(60)
"""], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)})
    try:
        assert holder.stdout.readline().strip() == "holding"
        result = scrapy_crawl("nav_helt_ledige", "-a", f"file={HL060}", "-s", "ATLAS_DB_WAIT=1",
                              db=db)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    output = result.stderr.strip().splitlines()
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert output[-1].startswith(f"REFUSED: database {db} is busy: run ")
    assert output[-1].endswith("is writing to it; gave up after 1 s (ATLAS_DB_WAIT); nothing was "
                               "written")


@pytest_twisted.ensureDeferred
async def test_fault_xlsx_part_bomb_in_a_crawl_is_one_line(tmp_path, caplog):
    db = tmp_path / "atlas.db"
    _, _first = await crawl_nav_file(db, HL060.read_bytes(), tmp_path, "HL060.xlsx")
    stored = table_rows(db, "nav_helt_ledige")
    bomb = declaring(HL060.read_bytes(), "xl/worksheets/sheet3.xml", 2**31)
    _, run = await crawl_nav_file(db, bomb, tmp_path, "bomb.xlsx")
    assert run["status"] == "failed"
    assert run["error"].endswith(
        "bomb.xlsx: workbook: entry xl/worksheets/sheet3.xml would expand to "
        "2,048.0 MiB (0.0 MiB compressed), more than the 200.0 MiB allowed "
        "(ATLAS_ZIP_ENTRY_MAX_BYTES); refused")
    assert "Traceback" not in caplog.text
    assert table_rows(db, "nav_helt_ledige") == stored


def with_doctype(data: bytes, part: str, doctype: bytes) -> bytes:
    """The same workbook with `doctype` put before the root element of `part`."""
    return with_parts(data, lambda name, text: re.sub(
        rb"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or b"") + doctype, text, count=1)
        if name == part else text)


@pytest_twisted.ensureDeferred
async def test_fault_xlsx_part_declaring_entities_in_a_crawl_is_one_line(tmp_path, caplog):
    db = tmp_path / "atlas.db"
    _, _first = await crawl_nav_file(db, HL060.read_bytes(), tmp_path, "HL060.xlsx")
    stored = table_rows(db, "nav_helt_ledige")
    lol = (b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
           b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>')
    hostile = with_doctype(HL060.read_bytes(), "xl/worksheets/sheet3.xml", lol)
    _, run = await crawl_nav_file(db, hostile, tmp_path, "hostile.xlsx")
    assert run["status"] == "failed"
    assert run["error"].endswith(
        "hostile.xlsx: workbook: part xl/worksheets/sheet3.xml declares a DOCTYPE; a workbook "
        "never needs one and its entities are not read: refused")
    assert "Traceback" not in caplog.text
    assert table_rows(db, "nav_helt_ledige") == stored


def test_fault_running_rows_from_before_pid_tracking_are_abandoned_after_a_day(tmp_path):
    from atlas_crawl.store.writes import Store

    db = tmp_path / "atlas.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE _runs (run_id TEXT PRIMARY KEY, spider TEXT NOT NULL, "
                 "source_ids TEXT, arguments TEXT, started TEXT NOT NULL, finished TEXT, "
                 "status TEXT NOT NULL, rows_received INTEGER NOT NULL DEFAULT 0, "
                 "rows_written INTEGER NOT NULL DEFAULT 0, rows_quarantined INTEGER NOT NULL "
                 "DEFAULT 0, error TEXT)")
    conn.executemany("INSERT INTO _runs (run_id, spider, started, status) VALUES (?, 'x', ?, "
                     "'running')", [("old", "2020-01-01T00:00:00Z"),
                                    ("recent", "2999-01-01T00:00:00Z")])
    conn.commit()
    conn.close()
    from atlas_crawl.store.migrate import migrate

    migrate(db, vacuum=False)  # a ledger of the old layout is converted first, as users do
    store = Store(db)
    store.close()
    assert store.abandoned == ["old"]
    statuses = dict(sqlite3.connect(db).execute("SELECT run_id, status FROM _runs"))
    assert statuses == {"old": "abandoned", "recent": "running"}


def test_fault_entries_are_counted_while_read():
    """Past the header check, reading counts bytes too (per entry and per archive)."""
    from atlas_crawl.formats.expansion import Budget, ExpansionError, Limits

    archive = zipfile.ZipFile(io.BytesIO(with_entry(with_entry(
        BUFDIR_ZIP.read_bytes(), "a.bin", bytes(3 * 2**20)), "b.bin", bytes(3 * 2**20))))
    a, b = archive.getinfo("a.bin"), archive.getinfo("b.bin")
    with pytest.raises(ExpansionError, match=r"x.zip: entry a.bin expands beyond 2.0 MiB"):
        Budget("x.zip", Limits(entry_max=2 * 2**20)).read_entry(archive, a)
    budget = Budget("x.zip", Limits(entry_max=4 * 2**20, total_max=5 * 2**20))
    assert len(budget.read_entry(archive, a)) == 3 * 2**20
    with pytest.raises(ExpansionError, match=r"x.zip: entries expand beyond 5.0 MiB together"):
        budget.read_entry(archive, b)


@pytest_twisted.ensureDeferred
async def test_fault_ledger_row_that_cannot_be_written_in_time_is_kept_beside(tmp_path,
                                                                            monkeypatch):
    from atlas_crawl.store.lock import DatabaseBusy
    from atlas_crawl.store.writes import Store

    db = tmp_path / "atlas.db"

    def busy(self, *args, **kwargs):
        raise DatabaseBusy(f"database {db} is busy: run other is writing to it; gave up after "
                           "600 s (ATLAS_DB_WAIT)")

    monkeypatch.setattr(Store, "finish_run", busy)
    crawler, run = await crawl_nav_file(db, HL060.read_bytes(), tmp_path, "HL060.xlsx")
    assert crawler.atlas_run_status == "ok" and run["status"] == "running"
    assert len(table_rows(db, "nav_helt_ledige")) == 52  # the run itself committed
    monkeypatch.undo()
    Store(db).close()
    assert runs(db)[-1]["status"] == "ok" and runs(db)[-1]["finished"]
