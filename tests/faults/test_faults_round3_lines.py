"""Fault suite, round three: one line, never a traceback.

Each case is a fault that used to end in a traceback, a 500 page, or a wrong exit code: an HTML
page or a cut-off answer served with HTTP 200, an unwritable database, a file of another table or
kind, a dead scrapyd, settings and arguments that mean nothing, a write to the read-only
catalogue, a refused scrapyd job whose reason went nowhere, a replay asking for a secret, a taken
port and the demo's leftovers. Each asserts the one line (its words), the exit code, and that the
stored data stayed as it was. Only loopback addresses and generated files are used.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest
import pytest_twisted
import yaml
from conftest import build_egg, free_port, run_python, scrapy_crawl
from twisted.internet.defer import Deferred

from atlas_crawl.formats.sniff import what_is
from atlas_crawl.run.golden import crawl, crawl_settings, runs, table_rows

pytestmark = pytest.mark.faults

PROJECT_DIR = Path(__file__).resolve().parents[2]
GOLDEN = PROJECT_DIR / "golden"
HL060 = GOLDEN / "nav_helt_ledige" / "responses" / "202601_HL060_constructed.xlsx"
FHI_CASE = GOLDEN / "fhi_befolkningsvekst"
FHI_QUERY = "https://statistikk-data.fhi.no/api/open/v1/nokkel/Table/185/query"
FHI_DATA = "https://statistikk-data.fhi.no/api/open/v1/nokkel/Table/185/data"
SSB_05803 = GOLDEN / "ssb_table" / "responses" / "v2_data_05803_lang-no_with-status.json"
MAINTENANCE = (b"<!DOCTYPE html>\n<html><head><title>Vedlikehold</title></head>\n"
               b"<body><h1>Statistikkbanken er nede for vedlikehold</h1></body></html>\n")


def atlas(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return run_python("-m", "atlas_crawl", *args, timeout=timeout)


def lines_of(result: subprocess.CompletedProcess) -> list[str]:
    return (result.stdout + result.stderr).strip().splitlines()


def assert_no_traceback(result: subprocess.CompletedProcess) -> None:
    text = result.stdout + result.stderr
    assert "Traceback" not in text and "Error processing" not in text, text[-3000:]


def file_settings(db: Path, **overrides):
    return crawl_settings(db, replay=False, ATLAS_RAW_DIR="", **overrides)


# --- 10. what arrived is said in one line --------------------------------------------------------

def test_fault_what_a_body_is_is_said_in_words():
    assert what_is(MAINTENANCE) == "an HTML page (title 'Vedlikehold')"
    data = (FHI_CASE / "responses" / "data_185_1_documentation_example.json").read_bytes()
    assert what_is(data) == "a JSON document"
    assert what_is(data[:300]) == "JSON cut off after 300 bytes (a truncated download?)"
    assert what_is(b"") == "empty (0 bytes)"
    assert what_is(HL060.read_bytes()) == "an Excel workbook (.xlsx)"
    assert what_is(b'{"a": 1} trailing') == "broken JSON (extra data at character 9)"
    assert what_is(b"\xef\xbb\xbf[1, 2]") == "a JSON document"


def fhi_cassette(tmp_path: Path, name: str, body: bytes) -> Path:
    """The FHI golden case with one recorded answer replaced by `body` (still HTTP 200)."""
    root = tmp_path / "golden"
    shutil.copytree(FHI_CASE, root / FHI_CASE.name)
    (root / FHI_CASE.name / "responses" / name).write_bytes(body)
    return root


@pytest.mark.parametrize(("answer", "body", "said"), [
    ("query_185_constructed.json", MAINTENANCE,
     (f"FAILED: {FHI_QUERY}: expected FHI's JSON answer, got an HTML page (title "
      "'Vedlikehold'); previous data kept")),
    ("data_185_1_documentation_example.json",
     (FHI_CASE / "responses" / "data_185_1_documentation_example.json").read_bytes()[:700],
     (f"FAILED: {FHI_DATA}: expected FHI's JSON answer, got JSON cut off after 700 bytes (a "
      "truncated download?); previous data kept")),
], ids=["html-page", "truncated"])
def test_fault_fhi_answer_that_is_not_json_is_one_line(tmp_path, answer, body, said):
    db = tmp_path / "atlas.db"
    good = scrapy_crawl("fhi_befolkningsvekst", "-s", "ATLAS_REPLAY=1", db=db)
    assert good.returncode == 0, good.stderr[-2000:]
    stored = table_rows(db, "fhi_befolkningsvekst")
    assert len(stored) > 0
    golden = fhi_cassette(tmp_path, answer, body)
    result = scrapy_crawl("fhi_befolkningsvekst", "-s", "ATLAS_REPLAY=1",
                          "-s", f"ATLAS_GOLDEN_DIR={golden}", db=db)
    assert result.returncode == 2
    assert_no_traceback(result)
    assert lines_of(result)[-1] == said
    assert runs(db)[-1]["status"] == "failed"
    assert said.removeprefix("FAILED: ").removesuffix("; previous data kept") in \
        runs(db)[-1]["error"]
    assert table_rows(db, "fhi_befolkningsvekst") == stored  # nothing lost


def test_fault_file_of_another_kind_says_what_the_spider_reads(tmp_path):
    answer = FHI_CASE / "responses" / "query_185_constructed.json"
    result = scrapy_crawl("nav_aap", "-a", f"file={answer}", db=tmp_path / "atlas.db")
    assert result.returncode == 2
    assert_no_traceback(result)
    assert "BadZipFile" not in result.stderr
    assert lines_of(result)[-1] == (
        "FAILED: query_185_constructed.json: nav_aap reads an Excel workbook (.xlsx) of NAV's "
        "monthly statistics, such as HL060: this file is a JSON document; previous data kept")


def test_fault_ssb_file_of_another_table_is_one_line(tmp_path):
    db = tmp_path / "atlas.db"
    said = ("the file holds SSB table 05803 (Endringer i befolkningen i løpet av året, etter "
            "år), not table 07459; read it with `scrapy crawl ssb_05803 -a "
            "file=v2_data_05803_lang-no_with-status.json`")
    for argv in (["ssb_07459"], ["ssb_table", "-a", "table=07459"]):
        result = scrapy_crawl(*argv, "-a", f"file={SSB_05803}", db=db)
        assert result.returncode == 2
        assert_no_traceback(result)
        last = lines_of(result)[-1]
        assert last.startswith(f"FAILED: v2_data_05803_lang-no_with-status.json: {argv[0]} reads ")
        assert last.endswith(f": {said}; previous data kept"), last
    assert {r["status"] for r in runs(db)} == {"failed"}
    assert table_rows(db, "ssb_07459") == []


def test_fault_contract_refusal_is_one_line_not_a_row_dump(tmp_path):
    template = json.loads(__import__("gzip").decompress(
        (GOLDEN / "brreg_enheter" / "responses" / "enheter_lastned_constructed.json.gz")
        .read_bytes()))[0]
    records = [{**template, "organisasjonsnummer": f"{920000000 + i}"} for i in range(12)]
    for rec in records:
        rec["organisasjonsForm"] = rec.pop("organisasjonsform")  # upstream renamed the field
    path = tmp_path / "renamed.json"
    path.write_text(json.dumps(records))
    db = tmp_path / "atlas.db"
    result = scrapy_crawl("brreg_enheter", "-a", f"file={path}", db=db)
    assert result.returncode == 2
    assert_no_traceback(result)
    cause = (f"ContractError: brreg_enheter ({path.as_uri()}): declared column "
             "'organisasjonsform_kode' of table 'brreg_enheter' is empty in all 12 rows (a "
             "renamed or missing field in the source?)")
    assert lines_of(result)[-1] == f"FAILED: {cause}; previous data kept"
    assert runs(db)[-1]["error"] == cause


def test_fault_atlas_db_under_a_file_is_refused_before_crawling(tmp_path):
    (tmp_path / "plain").write_text("a file, not a folder\n")
    db = tmp_path / "plain" / "atlas.db"
    result = scrapy_crawl("nav_helt_ledige", "-a", f"file={HL060}", db=db)
    assert result.returncode == 2
    assert lines_of(result) == [(f"ERROR: ATLAS_DB={db} cannot be created: {tmp_path / 'plain'} "
                                "is a file, not a folder")]


def test_fault_atlas_db_that_cannot_be_opened_is_one_line_not_a_corestats_traceback(tmp_path):
    """/proc takes no new files, not even from root: SQLite cannot open the database there,
    which is what a read-only folder does for anyone else."""
    db = Path("/proc") / f"atlas-{os.getpid()}.db"
    result = scrapy_crawl("nav_helt_ledige", "-a", f"file={HL060}", db=db)
    assert result.returncode == 2
    assert_no_traceback(result)
    assert "CoreStats" not in result.stderr
    assert lines_of(result)[-1] == (
        f"FAILED: ATLAS_DB={db} cannot be opened for writing (unable to open database file); "
        "check that the file and its folder are writable; previous data kept")


@pytest_twisted.ensureDeferred
async def test_fault_unwritable_atlas_db_in_process_is_refused_by_the_store(tmp_path, caplog):
    """The same refusal when the crawl is started without the command (update, the runner)."""
    (tmp_path / "plain").write_text("")
    db = tmp_path / "plain" / "atlas.db"
    crawler = await crawl("nav_helt_ledige", file_settings(db), file=str(HL060))
    assert crawler.atlas_run_status == "failed"
    assert crawler.atlas_run_error.startswith(f"ATLAS_DB={db} cannot be opened for writing (")
    assert not [r for r in caplog.records if r.exc_info]
    assert not any("Error caught on signal handler" in r.getMessage() for r in caplog.records)


def test_fault_update_through_a_dead_scrapyd_is_one_line(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    db = tmp_path / "atlas.db"
    result = atlas("update", "--scrapyd", url, "--db", str(db), "--metadata",
                   str(tmp_path / "metadata.yml"), "--sources", "nav_aap")
    assert result.returncode == 1
    assert_no_traceback(result)
    assert lines_of(result) == [
        (f"FAILED: scrapyd at {url} cannot be reached ([Errno 111] Connection refused): is it "
        "running, is the URL right; nothing more is scheduled and the stored data stays as it "
        "was")]
    assert not db.exists()


# --- 11. settings and arguments: refused in one line naming the allowed values -------------------

@pytest.mark.parametrize("scrapyd", [False, True], ids=["in-process", "scrapyd"])
def test_fault_unknown_update_source_exits_2_both_ways(tmp_path, scrapyd):
    via = ["--scrapyd", f"http://127.0.0.1:{free_port()}"] if scrapyd else []
    result = atlas("update", *via, "--db", str(tmp_path / "atlas.db"), "--metadata",
                   str(tmp_path / "metadata.yml"), "--sources", "no_such_source", "nav_aaq")
    assert result.returncode == 2
    assert lines_of(result) == [("unknown sources: no_such_source, nav_aaq (did you mean "
                                "nav_aap?); run `scrapy list` for the known ones")]


BAD_SETTINGS = [
    (["nav_helt_ledige", "-s", "ATLAS_DB_WAIT=abc"],
     "ERROR: -s ATLAS_DB_WAIT=abc: expected a number of seconds, 0 or more (default 600)"),
    (["nav_helt_ledige", "-s", "ATLAS_DB_WAIT=-5"],
     "ERROR: -s ATLAS_DB_WAIT=-5: expected a number of seconds, 0 or more (default 600)"),
    (["nav_helt_ledige", "-s", "ATLAS_MAX_SHRINK_SHARE=2"],
     ("ERROR: -s ATLAS_MAX_SHRINK_SHARE=2: expected a share from 0 to 1, such as 0.2 "
     "(default 0.2)")),
    (["nav_helt_ledige", "-s", "ATLAS_ZIP_ENTRY_MAX_BYTES=1.5"],
     ("ERROR: -s ATLAS_ZIP_ENTRY_MAX_BYTES=1.5: expected a whole number, 0 or more "
     "(default 209715200)")),
    (["nav_helt_ledige", "-s", "ATLAS_REPLAY=maybe"],
     "ERROR: -s ATLAS_REPLAY=maybe: expected 1 or 0 (or true/false) (default 0)"),
    (["nav_helt_ledige", "-s", "ATLAS_FAIL_ON_ERROR=yes"],  # Scrapy's getbool() raises on it
     "ERROR: -s ATLAS_FAIL_ON_ERROR=yes: expected 1 or 0 (or true/false) (default 1)"),
    (["nav_helt_ledige", "-a", "allow_shrink=perhaps"],
     "ERROR: -a allow_shrink=perhaps: expected 1 or 0 (or true/false, yes/no)"),
    (["ssb_klass", "-a", "include_future=maybe"],
     "ERROR: -a include_future=maybe: expected 1 or 0 (or true/false, yes/no)"),
    (["ssb_table", "-a", "table=05803", "-a", "lang=xx"], "ERROR: -a lang=xx: expected no or en"),
]


@pytest.mark.parametrize(("argv", "line"), BAD_SETTINGS,
                         ids=[" ".join(a[1:]) for a, _ in BAD_SETTINGS])
def test_fault_bad_setting_or_argument_is_refused_before_crawling(tmp_path, argv, line):
    """The check `scrapy crawl` runs first (commands/outcome.py), in this process."""
    from conftest import command_line_problem
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.project import get_project_settings

    settings: Settings = get_project_settings()
    settings.set("ATLAS_DB", str(tmp_path / "atlas.db"))
    pairs = list(zip(argv[1::2], argv[2::2], strict=True))
    for flag, pair in pairs:
        if flag == "-s":
            settings.set(*pair.split("=", 1), priority="cmdline")
    spargs = dict(p.split("=", 1) for f, p in pairs if f == "-a")
    spidercls = SpiderLoader.from_settings(settings).load(argv[0])
    assert f"ERROR: {command_line_problem(spidercls, settings, spargs)}" == line


@pytest.mark.parametrize(("argv", "line"), [BAD_SETTINGS[i] for i in (0, 1, 5)],
                         ids=["wait-abc", "wait-negative", "allow_shrink"])
def test_fault_bad_setting_through_scrapy_crawl(tmp_path, argv, line):
    db = tmp_path / "atlas.db"
    result = scrapy_crawl(*argv, "-a", f"file={HL060}", db=db)
    assert result.returncode == 2
    assert lines_of(result) == [line]
    assert not db.exists()  # nothing was started


@pytest_twisted.ensureDeferred
async def test_fault_bad_setting_stops_a_crawl_started_in_process(tmp_path):
    """update and scrapyd jobs build crawlers without the command: the store pipeline checks."""
    from atlas_crawl.spiders.settings_check import SettingError

    db = tmp_path / "atlas.db"
    with pytest.raises(SettingError, match=r"^-s ATLAS_DB_WAIT=abc: expected a number of "
                                           r"seconds, 0 or more \(default 600\)$"):
        await crawl("nav_helt_ledige", file_settings(db, ATLAS_DB_WAIT="abc"), file=str(HL060))
    assert not db.exists()


# --- 12. the catalogue: 405 and 400 with a short message, never 500 ------------------------------

@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogue")
    db, metadata = folder / "atlas.db", folder / "metadata.yml"
    crawled = scrapy_crawl("nav_helt_ledige", "-a", f"file={HL060}", db=db)
    assert crawled.returncode == 0, crawled.stderr[-2000:]
    published = atlas("publish", "--db", str(db), "--metadata", str(metadata))
    assert published.returncode == 0, published.stderr[-2000:]
    return db, yaml.safe_load(metadata.read_text(encoding="utf-8"))


async def _ask(ds, method: str, path: str, **kwargs):
    return await Deferred.fromFuture(asyncio.ensure_future(
        ds.client.request(method, path, **kwargs)))


@pytest_twisted.ensureDeferred
async def test_fault_catalogue_answers_405_and_400_not_500(catalogue):
    from datasette.app import Datasette

    from atlas_crawl.run.cli import PLUGINS_DIR

    db, metadata = catalogue
    before = db.read_bytes()
    ds = Datasette([], immutables=[str(db)], metadata=metadata, plugins_dir=str(PLUGINS_DIR))
    read_only = ("The catalogue is read-only: ask with GET (canned queries take their "
                 "parameters in the address, such as ?kommune=0301&year=2024); nothing was "
                 "written.")

    posted = await _ask(ds, "POST", "/atlas/welfare_picture", data={"kommune": "0301"})
    assert posted.status_code == 405
    assert posted.headers["allow"] == "GET, HEAD, OPTIONS"
    assert posted.text == f"405 {read_only}\n"
    posted_json = await _ask(ds, "POST", "/atlas/welfare_picture.json",
                             data={"kommune": "0301"})
    assert (posted_json.status_code, posted_json.json()) == (
        405, {"ok": False, "error": read_only, "status": 405})

    sorted_html = await _ask(ds, "GET", '/atlas/nav_helt_ledige?_sort="x')
    assert sorted_html.status_code == 400
    assert sorted_html.text == ('400 Cannot sort table by "x: no such column in this table; '
                                "sort by one of its columns (?_sort=<column> or "
                                "?_sort_desc=<column>)\n")
    sorted_json = await _ask(ds, "GET", "/atlas/nav_helt_ledige.json?_sort_desc=nosuch")
    assert sorted_json.status_code == 400
    assert sorted_json.json()["error"].startswith("Cannot sort table by nosuch: no such column")
    both = await _ask(ds, "GET", "/atlas/nav_helt_ledige.json?_sort=value&_sort_desc=value")
    assert (both.status_code, both.json()["error"]) == (
        400, "Use _sort or _sort_desc, not both at once")

    # What works keeps working: a sort on a real column, the canned query asked with GET.
    ok = await _ask(ds, "GET", "/atlas/nav_helt_ledige.json?_sort=value&_size=1")
    assert ok.status_code == 200 and len(ok.json()["rows"]) == 1
    asked = await _ask(ds, "GET", "/atlas/welfare_picture.json?kommune=0301&year=2026")
    assert asked.status_code == 200 and asked.json()["ok"] is True
    assert db.read_bytes() == before  # nothing was written


# --- 13. a refused scrapyd job says why in its own log and in _runs ------------------------------

# What nav_aap refuses `-a yeras=2025` with, wherever it is run.
MISSPELT_ARGUMENT = (
    "nav_aap: unknown argument -a yeras; nav_aap takes: allow_shrink (1 lets a "
    "replace-mode run remove more than ATLAS_MAX_SHRINK_SHARE); captured (with -a "
    "origin=capture: when it was captured, YYYY-MM-DD (or YYYY-MM)); file (PATH of one "
    "saved response to read instead of crawling); origin (with -a file: what the file "
    "holds, capture (a real answer of the publisher) or constructed (invented values); "
    "unsaid, a file outside the golden cases is of unknown origin)")


def test_fault_refused_scheduled_job_leaves_its_reason_in_its_log_and_the_ledger(tmp_path):
    """What scrapyd runs for a job: `crawl <spider> -s LOG_FILE=<job log> -a _job=<id> ...`."""
    db, log = tmp_path / "atlas.db", tmp_path / "job.log"
    result = scrapy_crawl("nav_aap", "-a", "_job=5f0c1d", "-a", "yeras=2025",
                          "-s", f"LOG_FILE={log}", db=db)
    assert result.returncode == 2
    reason = MISSPELT_ARGUMENT
    assert f"[atlas_crawl] ERROR: refused: {reason}" in log.read_text(encoding="utf-8")
    run, = runs(db)
    assert (run["spider"], run["status"], run["error"], json.loads(run["arguments"])) == (
        "nav_aap", "refused", f"refused: {reason}", {"yeras": "2025"})
    assert run["finished"]


def test_fault_replay_without_recordings_names_the_setting(tmp_path):
    """A deployed egg carries no golden/: the job's one line says which setting points there."""
    db, nowhere = tmp_path / "atlas.db", tmp_path / "no-golden"
    result = scrapy_crawl("nav_aap", "-s", "ATLAS_REPLAY=1", "-s", f"ATLAS_GOLDEN_DIR={nowhere}",
                          db=db)
    assert result.returncode == 2
    assert_no_traceback(result)
    assert lines_of(result)[-1] == (
        f"FAILED: replay: no recordings for nav_aap: {nowhere}/nav_aap/responses.json does not "
        "exist; point ATLAS_GOLDEN_DIR at the golden/ folder of an atlas_crawl checkout (on "
        "scrapyd: -d setting=ATLAS_GOLDEN_DIR=/path/to/atlas_crawl/golden); previous data kept")
    # ... and pointed there, the same job replays.
    replayed = scrapy_crawl("nav_aap", "-s", "ATLAS_REPLAY=1", "-s", f"ATLAS_GOLDEN_DIR={GOLDEN}",
                            db=db)
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    assert runs(db)[-1]["status"] == "ok" and len(table_rows(db, "nav_aap")) == 14


# --- 14. a replay needs no secret ----------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_fault_helsedir_replay_needs_no_key(tmp_path, monkeypatch):
    monkeypatch.delenv("ATLAS_HELSEDIR_KEY", raising=False)
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, cassette=GOLDEN / "helsedir_nki", ATLAS_RAW_DIR="")
    assert not settings.get("ATLAS_HELSEDIR_KEY")
    crawler = await crawl("helsedir_nki", settings)
    assert crawler.atlas_run_status == "ok"
    assert (runs(db)[-1]["status"], runs(db)[-1]["rows_received"]) == ("ok", 4)
    # Live, the key is still asked for, in one line, before any request.
    live = await crawl("helsedir_nki", file_settings(tmp_path / "live.db"))
    assert live.atlas_run_status == "failed"
    assert runs(tmp_path / "live.db")[-1]["error"].startswith(
        "helsedir_nki needs a HAPI subscription key")


# --- 15. serve checks its port; the demo leaves nothing untracked --------------------------------

def test_fault_serve_on_a_taken_port_is_one_line(tmp_path):
    db, metadata = tmp_path / "atlas.db", tmp_path / "metadata.yml"
    sqlite3.connect(db).close()
    metadata.write_text("{}\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = atlas("serve", "--db", str(db), "--metadata", str(metadata), "--port", str(port),
                       timeout=60)
    assert result.returncode == 1
    assert lines_of(result) == [
        (f"ERROR port {port} on 127.0.0.1 is already in use: stop what runs there, or choose "
        "another port (PORT=8002 ./scripts/demo.sh, or serve --port 8002)")]


def test_fault_demo_files_beside_the_database_are_ignored_by_git():
    """update's lock file and publish's inspect file sit beside atlas.db after the demo."""
    from atlas_crawl.publish.fast import inspect_path

    names = [f"{PROJECT_DIR / 'atlas.db'}.update.lock", str(inspect_path(PROJECT_DIR / "atlas.db")),
             str(PROJECT_DIR / "atlas.db"), str(PROJECT_DIR / "metadata.yml")]
    result = subprocess.run(["git", "check-ignore", "--no-index", *names], cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.stdout.splitlines() == names


# --- 13, on a real scrapyd: the deployed egg, the job's own log, _runs --------------------------

def deploy(url: str, folder: Path) -> None:
    """Build the project's egg as scrapyd-deploy does and upload it to the scrapyd at `url`."""
    import requests

    with open(build_egg(folder), "rb") as body:
        added = requests.post(f"{url}/addversion.json", timeout=60, files={"egg": body},
                              data={"project": "atlas_crawl", "version": "1"}).json()
    assert added["status"] == "ok", added


def test_fault_scrapyd_job_refused_or_without_recordings_says_why_in_its_log_and_runs(
        scrapyd, tmp_path):
    """The `scrapyd` fixture (tests/conftest.py) keeps its job logs in tmp_path / "logs"."""
    import time

    import requests

    url, logs = scrapyd, tmp_path / "logs"
    deploy(url, tmp_path)
    db = tmp_path / "atlas.db"
    jobs = {}
    for name, extra in {"bad-argument": [("yeras", "2025")],
                        "replay-without-recordings": [("setting", "ATLAS_REPLAY=1")]}.items():
        answer = requests.post(f"{url}/schedule.json", timeout=10, data=[
            ("project", "atlas_crawl"), ("spider", "nav_aap"), ("setting", f"ATLAS_DB={db}"),
            ("setting", f"ATLAS_RAW_DIR={tmp_path / 'raw'}"), *extra]).json()
        assert answer["status"] == "ok", answer
        jobs[name] = answer["jobid"]
    deadline = time.monotonic() + 150
    while True:
        listed = requests.get(f"{url}/listjobs.json", params={"project": "atlas_crawl"},
                              timeout=5).json()
        if set(jobs.values()) <= {j["id"] for j in listed["finished"]}:
            break
        assert time.monotonic() < deadline, listed
        time.sleep(0.5)

    reason = MISSPELT_ARGUMENT
    job_log = (logs / "atlas_crawl" / "nav_aap" / f"{jobs['bad-argument']}.log").read_text()
    assert f"ERROR: refused: {reason}" in job_log
    refused, replayed = runs(db)  # in the order they ran (max_proc 1)
    assert (refused["status"], refused["error"]) == ("refused", f"refused: {reason}")
    assert replayed["status"] == "failed"
    assert replayed["error"].startswith("replay: no recordings for nav_aap: ")
    assert replayed["error"].endswith(
        "/golden/nav_aap/responses.json does not exist; point ATLAS_GOLDEN_DIR at the golden/ "
        "folder of an atlas_crawl checkout (on scrapyd: "
        "-d setting=ATLAS_GOLDEN_DIR=/path/to/atlas_crawl/golden)")
    assert table_rows(db, "nav_aap") == []


def test_fault_unreadable_body_in_any_callback_is_one_line(caplog):
    """A callback of any spider that meets bytes of the wrong kind (json.loads, zipfile) is
    refused in one line by the spider middleware, saying what arrived, not with a traceback."""
    import logging
    import zipfile

    from scrapy.http import HtmlResponse, Request

    from atlas_crawl.spiders.format_errors import FormatErrorsMiddleware

    url = "https://example.test/api/data.json"
    response = HtmlResponse(url, status=200, body=MAINTENANCE, request=Request(url))
    middleware = FormatErrorsMiddleware()
    errors = [json.JSONDecodeError("Expecting value", MAINTENANCE.decode(), 0),
              zipfile.BadZipFile("File is not a zip file"),
              UnicodeDecodeError("utf-8", b"\xffabc", 0, 1, "invalid start byte")]
    with caplog.at_level(logging.ERROR):
        for error in errors:
            assert middleware.process_spider_exception(response, error) == []
    assert [r.getMessage() for r in caplog.records] == [
        f"{url}: expected {what} got an HTML page (title 'Vedlikehold') (HTTP 200)"
        for what in ("JSON,", "a ZIP archive or an Excel workbook,", "text in UTF-8,")]
    assert not any(r.exc_info for r in caplog.records)
    # A bug stays a bug: its traceback is not swallowed.
    assert middleware.process_spider_exception(response, KeyError("x")) is None


@pytest_twisted.ensureDeferred
async def test_fault_disk_full_mid_run_is_one_line_and_keeps_the_data(tmp_path, caplog,
                                                                      monkeypatch):
    """The disk fills up after the run started: one line, the run rolled back, data kept."""
    from atlas_crawl.store.writes import Store

    db = tmp_path / "atlas.db"
    await crawl("nav_helt_ledige", file_settings(db), file=str(HL060))
    stored = table_rows(db, "nav_helt_ledige")

    def full(*_args, **_kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Store, "write_batch", full)
    crawler = await crawl("nav_helt_ledige", file_settings(db), file=str(HL060))
    run = runs(db)[-1]
    assert crawler.atlas_run_status == "failed" and run["status"] == "failed"
    assert run["error"] == (f"run {run['run_id']}: cannot write to {db} (database or disk is "
                            "full); the run is rolled back")
    assert not [r for r in caplog.records if r.exc_info]
    assert table_rows(db, "nav_helt_ledige") == stored
