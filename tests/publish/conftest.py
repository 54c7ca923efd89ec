"""Shared by the tests that look at the published catalogue the way a person would: Datasette
serving a module's catalogue on a free port of 127.0.0.1 (`served`), and one headless Chromium for
the whole module (`browser`), driven over the Chrome DevTools Protocol.

Both fixtures need the module's own `published` fixture: its folder (Datasette's and Chromium's
logs, the screenshots and PDFs are kept there) and its database."""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.sync.client import ClientConnection, connect

from atlas_crawl.run.cli import serve_command

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--window-size=1280,2000", "--remote-debugging-port=0"]
# The longest any one step (a server start, a page load, an answer) may take on a busy machine.
WAIT = 120


def wait_until(ready, what: str, process: subprocess.Popen, log: Path) -> None:
    """Ask `ready()` until it is true, failing if `process` dies (its `log` said why) or WAIT
    seconds pass."""
    deadline = time.monotonic() + WAIT
    while not ready():
        assert process.poll() is None, f"{what}: the process ended: {log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"{what}: not in {WAIT} s: {log.read_text()[-2000:]}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def served(published):
    """The address of Datasette serving the module's published catalogue (`serve`'s command
    line), stopped at the end."""
    folder, db = published
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
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

    def __init__(self, socket: ClientConnection, folder: Path):
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
            with connect(f"ws://127.0.0.1:{port}{path}", max_size=None, compression=None,
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
