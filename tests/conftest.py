"""Shared by every test: the project's settings, where the golden cases and the real captures are,
and a one-line way to ask a test database something."""

import functools
import io
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from atlas_crawl import PROJECT_DIR

os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "atlas_crawl.settings")

GOLDEN_DIR = PROJECT_DIR / "golden"
# Real captures the tests read live in the project, never in ../shared (a fresh clone has none):
# golden/<case>/responses/ for what a golden case replays, tests/data/<family>/ (with a README of
# provenance) for the rest.
TEST_DATA = PROJECT_DIR / "tests" / "data"


def query(db, sql: str, *params) -> list[tuple]:
    """The rows `sql` answers in the SQLite file `db`, as tuples."""
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def query_dicts(db, sql: str, params=()) -> list[dict]:
    """The rows `sql` answers in the SQLite file `db`, as dicts keyed by column name (`params` a
    sequence, or a dict for named parameters)."""
    conn = sqlite3.connect(str(db))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def golden_rows(case: str, table: str) -> list[dict]:
    """The rows golden/<case>/expected/<table>.jsonl says a crawl of the case stores."""
    import json

    path = GOLDEN_DIR / case / "expected" / f"{table}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def page_text(dom: str, hidden: tuple[str, ...] = ("script", "style", "datalist")) -> str:
    """A page as a person reads it: the `hidden` elements and all tags dropped, entities
    decoded, spaces collapsed."""
    import html
    import re

    dom = re.sub(rf"<({'|'.join(hidden)})\b.*?</\1>", " ", dom, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom))).strip()


async def publish_golden_cases(folder: Path, cases: list[str], **publish_args) -> Path:
    """Replay each golden case in `cases` into `folder`/atlas.db (every run must end ok) and
    publish it to `folder`/metadata.yml; the database."""
    from atlas_crawl.publish import publish
    from atlas_crawl.run.golden import GoldenCase, crawl_case, runs

    db = folder / "atlas.db"
    for name in cases:
        await crawl_case(GoldenCase.load(GOLDEN_DIR / name), db)
    assert [r["status"] for r in runs(db)] == ["ok"] * len(cases), runs(db)
    publish(db, folder / "metadata.yml", **publish_args)
    return db


async def datasette_get(ds, path: str):
    """Datasette's answer to `path` (its in-process client), awaited from a Twisted test."""
    import asyncio

    from twisted.internet.defer import Deferred

    return await Deferred.fromFuture(asyncio.ensure_future(ds.client.get(path)))


def manifest_fields(source_id: str, *, dimensions=("kommune", "year"), **fields) -> dict:
    """The fields of a valid manifest for a test table of `source_id` (kommune x year unless
    told otherwise), as read from its YAML; `fields` override or add manifest fields."""
    meanings = {"kommune": "Kommune", "year": "År"}
    return {
        "source_id": source_id, "upstream_id": "t1", "upstream_url": "https://example.org/t1",
        "upstream_title": "Test table", "description": f"Rows of the test table {source_id}.",
        "publisher": "tests", "license": "CC0", "license_url": "https://example.org/cc0",
        "periodicity": "P1Y", "eu_theme": "SOCI", "attribution": "tests",
        "tags": {"provider": "ssb", "topic": "demographics", "geo": "kommune",
                 "cadence": "annual"},
        "dimensions": [{"code": d, "meaning": meanings.get(d, d)} for d in dimensions],
        "presentation_policy": "standard", "methodology_version": "1", **fields,
    }


def not_printed(out: str, *parts: str) -> list[str]:
    """The `parts` that the printed `out` lacks (an empty list when every one is there)."""
    return [part for part in parts if part not in out]


def make_manifest(source_id: str, folder: Path, *, dimensions=("kommune", "year"), **fields):
    """A valid manifest for a test table of `source_id` (kommune x year unless told otherwise),
    as if read from `folder`; `fields` override or add manifest fields."""
    from atlas_crawl.manifests import parse_manifest

    data = manifest_fields(source_id, dimensions=dimensions, **fields)
    return parse_manifest(Path(folder) / f"{source_id}.yml", data)


def watch_manifest(source_id: str, root: str, watch: list[str], provider: str = "fhi") -> str:
    """The YAML of a constructed source of `provider` whose pages live at `root` (a local test
    site) and whose change watch follows the `watch` patterns."""
    patterns = "".join(f"- {pattern}\n" for pattern in watch)
    return f"""\
source_id: {source_id}
upstream_id: x
upstream_url: {root}/stats/
upstream_landing_page: {root}/stats/
upstream_title: Fault-suite source
description: Constructed for the fault suite; not a source.
publisher: tests
license: CC0
license_url: https://example.org/cc0
periodicity: P1Y
eu_theme: SOCI
attribution: tests
tags: {{provider: {provider}, topic: social, geo: kommune, cadence: annual}}
presentation_policy: standard
methodology_version: '1'
dimensions:
- {{code: name, meaning: Name}}
watch:
{patterns}"""


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    """An .xlsx workbook with these sheets (name -> rows), as bytes."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def crawl_file(db: Path, spider: str, file, **args) -> dict:
    """Crawl one saved file with `spider` into `db` (no replay, no raw copies); the run's
    ledger row."""
    from atlas_crawl.run.golden import crawl, crawl_settings, runs

    await crawl(spider, crawl_settings(db, replay=False, ATLAS_RAW_DIR=""), file=str(file), **args)
    return runs(db)[-1]


async def crawl_live(db: Path, spider: str, **args) -> dict:
    """Crawl with `spider` into `db` as a scheduled run would (no replay); the run's ledger row."""
    from atlas_crawl.run.golden import crawl, crawl_settings, runs

    await crawl(spider, crawl_settings(db, replay=False), **args)
    return runs(db)[-1]


def edited_cassette(source: Path, folder: Path, edit) -> Path:
    """A copy of the recorded cassette `source` in `folder`, with `edit(entry)` applied to every
    entry of its responses.json (to make one answer fail, or another file answer a URL)."""
    import json
    import shutil

    shutil.copytree(source, folder)
    index = json.loads((folder / "responses.json").read_text())
    for entry in index["responses"]:
        edit(entry)
    (folder / "responses.json").write_text(json.dumps(index))
    return folder


def load_builder(script: Path):
    """A fixture builder script (tools/build_*_fixtures.py, golden/<case>/build.py), as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(script.stem, script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def command_line_problem(spidercls, settings, spargs: dict) -> str | None:
    """What `scrapy crawl` refuses a command line for, in this process: its database, then the
    spider built from the settings and arguments as the command builds it; None when it would
    crawl."""
    from scrapy.crawler import Crawler

    from atlas_crawl.run.commands.outcome import database_problem

    problem = database_problem(settings.get("ATLAS_DB", ""))
    if problem:
        return problem
    try:
        spidercls.from_crawler(Crawler(spidercls, settings), **spargs)
    except ValueError as exc:  # ArgumentError, and what a spider's __init__ refuses
        return str(exc).splitlines()[0]
    return None


#: What the process that run_python forks its commands from imports once: the half second that
#: each `python -m scrapy` would spend importing Scrapy.
PRELOADED = ["forked", "scrapy.cmdline", "scrapy.crawler", "scrapy.core.engine",
             "scrapy.core.downloader.handlers.http11", "openpyxl", "sqlite_utils", "yaml",
             "lxml.etree"]


@functools.cache
def _forkserver():
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOADED)
    return context


def run_python(*command: str, env: dict[str, str] | None = None, cwd: Path = PROJECT_DIR,
               timeout: float = 120) -> subprocess.CompletedProcess:
    """`python *command` (`"-m", module, *args` or `"-c", code`) in a process of its own (in
    `cwd`, with `env`, by default this one's with the project's Scrapy settings), with what
    `subprocess.run(..., capture_output=True, text=True)` gives back. The process is forked
    from one that has imported Scrapy already (PRELOADED) and runs nothing else; start-up itself
    is tested with real interpreters (tests/spiders/test_loader.py, `scrapy list` in
    tests/run/test_cli.py, scrapyd's jobs)."""
    import forked

    args = [sys.executable, *command]
    with tempfile.TemporaryDirectory() as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        if env is None:
            env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "atlas_crawl.settings"}
        process = _forkserver().Process(target=forked.main, args=(
            list(command), str(cwd), env, str(out), str(err)))
        process.start()
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired(args, timeout)
        said = [path.read_text(encoding="utf-8") if path.exists() else "" for path in (out, err)]
        return subprocess.CompletedProcess(args, process.exitcode, *said)


#: Settings for crawls of a fake server on 127.0.0.1: no publisher to be polite to, so no delay
#: between calls (the pace itself is tested in tests/spiders/test_pace.py and
#: tests/fetch/test_politeness.py).
LOCAL_PACE = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden/*/expected/ from what the crawls store now")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture
def scrapyd(tmp_path):
    """A real scrapyd configured from deploy/scrapyd.conf (max_proc 1, the project's runner) on a
    free port of 127.0.0.1, its eggs, logs (`tmp_path / "logs"`) and queue in `tmp_path`;
    yields its URL and is stopped at the end. Every wait is bounded."""
    import signal
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    from atlas_crawl import PROJECT_DIR

    requests = pytest.importorskip("requests")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = (PROJECT_DIR / "deploy" / "scrapyd.conf").read_text()
    for key, value in {"http_port": port, "eggs_dir": tmp_path / "eggs",
                       "logs_dir": tmp_path / "logs", "dbs_dir": tmp_path / "dbs",
                       "poll_interval": 0.5}.items():
        conf = "\n".join(f"{key} = {value}" if line.split("=")[0].strip() == key else line
                         for line in conf.splitlines())
    (tmp_path / "scrapyd.conf").write_text(conf)
    log = open(tmp_path / "scrapyd.out", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen([str(Path(sys.executable).parent / "scrapyd")], cwd=tmp_path,
                               stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/daemonstatus.json", timeout=2).json()["status"] == "ok":
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None, (tmp_path / "scrapyd.out").read_text()
            assert time.monotonic() < deadline, "scrapyd did not start in 30 s"
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        log.close()


# --- running in parallel (scripts/test.sh: pytest-xdist, --dist loadfile) ------------------------

#: Modules whose tests share no fixture worth keeping together: handed to the workers one test at
#: a time (the 117 golden cases are 40 s of work; the fault tests mostly wait on timeouts), so they
#: fill the gaps the other modules leave instead of keeping one worker busy to the end.
ONE_TEST_AT_A_TIME = ("tests/run/test_golden.py", "tests/faults/test_faults.py")
#: Marks of the modules that take longest: started first, so that none is left to run alone.
SLOWEST = ("scrapyd", "browser", "faults")


@pytest.hookimpl(optionalhook=True)  # known only where pytest-xdist is loaded
def pytest_xdist_make_scheduler(config, log):
    """A whole module to a worker (its module fixtures, a published catalogue or a Datasette
    server, are built once), but ONE_TEST_AT_A_TIME test by test, in the order collected."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ModulesInCollectedOrder(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = super()._split_scope(nodeid)
            return nodeid if module in ONE_TEST_AT_A_TIME else module

    # xdist would reorder the modules by their number of tests; the collected order below is
    # the one wanted (slowest modules first).
    config.option.loadscopereorder = False
    return ModulesInCollectedOrder(config, log)


def pytest_collection_modifyitems(items):
    """The slowest modules first and the tests handed out one at a time last, so that the end
    of a parallel run is short tests spread over every worker."""
    def rank(item) -> int:
        if any(item.get_closest_marker(mark) for mark in SLOWEST):
            return 0
        return 2 if item.nodeid.split("::")[0] in ONE_TEST_AT_A_TIME else 1

    items.sort(key=rank)  # stable: a module's tests keep their order
