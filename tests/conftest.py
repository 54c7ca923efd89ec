"""Shared by every test: the project's settings, where the golden cases and the real captures are,
and a one-line way to ask a test database something."""

import base64
import functools
import io
import itertools
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
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


def scrapy_crawl(*args: str, db: Path, log_level: str = "WARNING",
                 timeout: float = 120) -> subprocess.CompletedProcess:
    """`scrapy crawl *args` into `db` as a user types it (through run_python), keeping no raw
    copies of what it reads."""
    return run_python("-m", "scrapy", "crawl", *args, "-s", f"ATLAS_DB={db}",
                      "-s", f"LOG_LEVEL={log_level}", "-s", "ATLAS_RAW_DIR=", timeout=timeout)


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

    requests = pytest.importorskip("requests")
    port = free_port()
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

    def answers() -> bool:
        try:
            return requests.get(f"{url}/daemonstatus.json", timeout=2).json()["status"] == "ok"
        except requests.RequestException:
            return False

    try:
        wait_until(answers, f"scrapyd at {url}", process, tmp_path / "scrapyd.out", within=30)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        log.close()



def build_egg(folder: Path) -> Path:
    """The project's egg, built as scrapyd-deploy builds it, into `folder`; from a copy of the
    checkout's sources, because setuptools writes into and walks the folder it builds in, and
    other tests build or write files in the checkout at the same time."""
    project = folder / "project"
    project.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md", "scrapy.cfg"):
        shutil.copy(PROJECT_DIR / name, project / name)
    shutil.copytree(PROJECT_DIR / "atlas_crawl", project / "atlas_crawl",
                    ignore=shutil.ignore_patterns("__pycache__"))
    egg = folder / "atlas_crawl.egg"
    built = subprocess.run([str(Path(sys.executable).parent / "scrapyd-deploy"), "--build-egg",
                            str(egg)], cwd=project, capture_output=True, text=True, timeout=120,
                           check=False)
    assert built.returncode == 0 and egg.exists(), built.stderr[-2000:]
    return egg

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


# --- the published catalogue in a browser ---------------------------------------------------------
# The tests that look at the catalogue the way a person would (tests/publish/*_browser.py):
# Datasette serving the module's catalogue on a free port of 127.0.0.1 (`served`), and one
# headless Chromium for the whole module (`browser`), driven over the Chrome DevTools Protocol.
# Both need the module's own `published` fixture: its folder (Datasette's and Chromium's logs, the
# screenshots and PDFs are kept there) and its database.

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--window-size=1280,2000", "--remote-debugging-port=0"]
# The longest any one step (a server start, a page load, an answer) may take on a busy machine.
WAIT = 120


def wait_until(ready, what: str, process: subprocess.Popen, log: Path,
               within: float = WAIT) -> None:
    """Ask `ready()` until it is true, failing if `process` dies (its `log` said why) or
    `within` seconds pass."""
    deadline = time.monotonic() + within
    while not ready():
        assert process.poll() is None, f"{what}: the process ended: {log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, (f"{what}: not in {within:g} s: "
                                             f"{log.read_text()[-2000:]}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def served(published):
    """The address of Datasette serving the module's published catalogue (`serve`'s command
    line), stopped at the end."""
    from atlas_crawl.run.cli import serve_command

    folder, db = published
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            urllib.request.urlopen(f"{base}/-/versions.json", timeout=1)
            return True
        except (urllib.error.URLError, ConnectionError):
            return False

    log_path = folder / "datasette.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(serve_command(str(db), str(folder / "metadata.yml"), port),
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(answers, f"Datasette at {base}", server, log_path)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=10)


@dataclass
class Page:
    dom: str  # document.documentElement.outerHTML once loaded
    requests: list[str]  # every URL the page asked for, in order


class Browser:
    """A headless Chromium seen through its DevTools socket (flattened sessions: one socket for
    the browser and every page). Each page opens in a tab of its own, closed after."""

    def __init__(self, socket, folder: Path):
        self.socket = socket
        self.folder = folder
        self.ids = itertools.count(1)
        self.events: list[dict] = []  # received and not yet consumed, every session's

    def call(self, method: str, session: str | None = None, **params) -> dict:
        """Chromium's answer to a DevTools command (for the tab of `session`, if given)."""
        message = {"id": next(self.ids), "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        deadline = time.monotonic() + WAIT
        while (reply := self._receive(deadline, method)).get("id") != message["id"]:
            pass
        if "error" in reply:
            raise AssertionError(f"DevTools {method}: {reply['error'].get('message')}")
        return reply["result"]

    def wait_for(self, event: str, session: str, url: str) -> dict:
        """The parameters of the tab's next `event` (read while waiting for answers, or now);
        fails if its page crashes first."""
        deadline = time.monotonic() + WAIT
        while True:
            for message in self.events:
                if message.get("sessionId") != session:
                    continue
                if message["method"] == "Inspector.targetCrashed":
                    raise AssertionError(f"{url}: the page crashed (waiting for {event})")
                if message["method"] == event:
                    self.events.remove(message)
                    return message["params"]
            self._receive(deadline, f"{event} for {url}")

    def _receive(self, deadline: float, waiting_for: str) -> dict:
        """The next message from Chromium: an answer to a command (it has an `id`) or an event
        (kept in `events`)."""
        try:
            message = json.loads(self.socket.recv(timeout=max(0.0, deadline - time.monotonic())))
        except TimeoutError:
            raise AssertionError(f"DevTools: no {waiting_for} from Chromium in {WAIT} s") from None
        if "method" in message:
            self.events.append(message)
        return message

    def page(self, url: str, *, screenshot: str | None = None, pdf: str | None = None,
             virtual_time_budget: int | None = None) -> Page:
        """`url` in a new 1280x2000 tab once loaded (`Page.loadEventFired`), or, with
        `virtual_time_budget` (ms), once that much of the page's own time has passed (which does
        not pass while a request is pending; as `--virtual-time-budget`). With `screenshot` or
        `pdf`, the tab is also saved as a PNG or printed (as `--print-to-pdf
        --no-pdf-header-footer`) to that file name in `folder`."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        try:
            for domain in ("Inspector", "Page", "Network"):  # events from now on
                self.call(f"{domain}.enable", session)
            self.call("Emulation.setDeviceMetricsOverride", session, width=1280, height=2000,
                      deviceScaleFactor=1, mobile=False)
            if virtual_time_budget:
                self.call("Emulation.setVirtualTimePolicy", session, policy="pause")
            navigated = self.call("Page.navigate", session, url=url)
            if navigated.get("errorText"):
                raise AssertionError(f"{url}: {navigated['errorText']}")
            # a load of the blank tab is not the page's
            self.events = [e for e in self.events if e.get("sessionId") != session
                           or e["method"] != "Page.loadEventFired"]
            if virtual_time_budget:
                self.call("Emulation.setVirtualTimePolicy", session,
                          policy="pauseIfNetworkFetchesPending", budget=virtual_time_budget)
                self.wait_for("Emulation.virtualTimeBudgetExpired", session, url)
            else:
                self.wait_for("Page.loadEventFired", session, url)
            dom = self.call("Runtime.evaluate", session, returnByValue=True,
                            expression="document.documentElement.outerHTML")["result"]["value"]
            if screenshot:
                shot = self.folder / screenshot
                data = self.call("Page.captureScreenshot", session, format="png")["data"]
                shot.write_bytes(base64.b64decode(data))
                assert shot.stat().st_size > 10_000, f"{shot} looks empty"
            if pdf:
                data = self.call("Page.printToPDF", session, printBackground=True,
                                 preferCSSPageSize=True, displayHeaderFooter=False)["data"]
                (self.folder / pdf).write_bytes(base64.b64decode(data))
        finally:
            self.call("Target.closeTarget", targetId=target)
            requests = [e["params"]["request"]["url"] for e in self.events
                        if e.get("sessionId") == session
                        and e["method"] == "Network.requestWillBeSent"]
            self.events.clear()  # the next page has a session of its own
        return Page(dom, requests)

    def dom(self, url: str, **options) -> str:
        """The DOM of `url` once loaded (see `page` for the options)."""
        return self.page(url, **options).dom


@pytest.fixture(scope="module")
def browser(published, tmp_path_factory):
    """One headless Chromium for all of the module's pages (a fresh profile, removed at the end),
    saving into the module's folder; shut down at the end, also when a test failed."""
    from websockets.sync.client import connect as websocket

    folder, _ = published
    profile = tmp_path_factory.mktemp("chromium-profile")
    port_file = profile / "DevToolsActivePort"  # the port, then the browser's socket path
    log_path = folder / "chromium.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}"],
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: port_file.exists() and len(port_file.read_text().split()) == 2,
                       "Chromium's DevTools port", process, log_path)
            port, path = port_file.read_text().split()
            with websocket(f"ws://127.0.0.1:{port}{path}", max_size=None, compression=None,
                         proxy=None, ping_interval=None, open_timeout=WAIT) as devtools:
                yield Browser(devtools, folder)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            shutil.rmtree(profile, ignore_errors=True)
