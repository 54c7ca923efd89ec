"""A local PxWebApi v2 server for tests: 127.0.0.1 only, a random port, a daemon thread.

It serves `/config`, `/tables/<id>/metadata` and `/tables/<id>/data` (GET with
`valueCodes[<dim>]=...` and POST with a `{"selection": [...]}` body) for tables built with
pxweb_tables.FakeTable, and enforces what SSB enforces:

- a cell limit: a query for more than `max_cells` cells gets 403 with a problem+json body;
- a call limit: more than `max_calls` API calls within any `window` seconds (a sliding window,
  the strictest reading) get 429 with a problem+json body and `Retry-After`.

What it reports can differ from what it enforces (`config_*`, `policy_header`), as SSB's /config
did. Every call is kept in `calls` for the test to inspect.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from fakes.pxweb_tables import FakeTable, SelectionProblem, problem, resolve

API_PREFIX = "/api/pxwebapi/v2"


@dataclass
class Call:
    at: float  # time.monotonic() when the request arrived
    method: str
    path: str  # path and query
    status: int
    cells: int = 0  # cells in a data response (0 for anything else)
    body: str = ""
    selection: dict | None = None  # what a data call selected, per dimension


class FakePxWebApi:
    def __init__(self, tables: list[FakeTable], *, max_cells: int = 800_000,
                 max_calls: int = 5, window: float = 1.0,
                 config_max_cells: int | None = None, config_max_calls: int | None = None,
                 config_window: float | None = None, policy_header: str | None = None,
                 retry_after: int | None = None):
        self.tables = {t.table_id: t for t in tables}
        self.max_cells, self.max_calls, self.window = max_cells, max_calls, window
        self.config = {
            "apiVersion": "2.3.2", "appVersion": "fake",
            "languages": [{"id": "no", "label": "Norsk"}], "defaultLanguage": "no",
            "maxDataCells": max_cells if config_max_cells is None else config_max_cells,
            "maxCallsPerTimeWindow": max_calls if config_max_calls is None else config_max_calls,
            "timeWindow": window if config_window is None else config_window,
            "defaultDataFormat": "json-stat2", "dataFormats": ["json-stat2"],
        }
        self.policy_header = policy_header
        self.retry_after = retry_after  # None: the seconds until the window has room again
        self.calls: list[Call] = []
        self.forced: deque[tuple[int, dict, dict]] = deque()  # for the next data calls
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> str:
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{API_PREFIX}"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- test helpers ---------------------------------------------------------------------------

    def force_next_data_response(self, status: int, body: dict, headers: dict | None = None):
        """Answer the next data call with this instead of data (e.g. a 429 with Retry-After)."""
        self.forced.append((status, body, dict(headers or {})))

    def data_calls(self, status: int | None = None) -> list[Call]:
        return [c for c in self.calls if "/data" in c.path
                and (status is None or c.status == status)]

    def statuses(self) -> list[int]:
        return [c.status for c in self.calls]

    # -- the API --------------------------------------------------------------------------------

    def admit(self, now: float) -> float | None:
        """Count a call against the window; None if admitted, else seconds until there is room."""
        with self._lock:
            while self._recent and self._recent[0] <= now - self.window:
                self._recent.popleft()
            if len(self._recent) >= self.max_calls:
                return self._recent[0] + self.window - now
            self._recent.append(now)
            return None

    def handle(self, method: str, target: str, body: bytes) -> tuple[int, dict, dict, Call]:
        now = time.monotonic()
        parts = urlsplit(target)
        call = Call(now, method, target, 0, body=body.decode("utf-8", "replace"))
        path = parts.path
        if not path.startswith(API_PREFIX):
            return 404, {"title": "Not found"}, {}, call
        path = path[len(API_PREFIX):]
        headers = {}
        if self.policy_header:
            headers["x-ratelimit-policy"] = self.policy_header
        wait = self.admit(now)
        if wait is not None:
            seconds = self.retry_after if self.retry_after is not None else max(1, math.ceil(wait))
            headers["Retry-After"] = str(seconds)
            detail = (f"Rate limit exceeded: at most {self.max_calls} calls per "
                      f"{self.window:g} s; retry in {seconds} s")
            return 429, problem(429, "Too Many Requests", detail), headers, call
        query = parse_qsl(parts.query, keep_blank_values=True)
        if path == "/config" and method == "GET":
            return 200, self.config, headers, call
        pieces = path.strip("/").split("/")
        if len(pieces) != 3 or pieces[0] != "tables":
            return 404, problem(404, "Not found", path), headers, call
        table = self.tables.get(pieces[1])
        if table is None:
            return 404, problem(404, "Non-existent table", pieces[1]), headers, call
        if pieces[2] == "metadata" and method == "GET":
            return 200, table.metadata(), headers, call
        if pieces[2] != "data":
            return 404, problem(404, "Not found", path), headers, call
        if self.forced:
            status, forced_body, forced_headers = self.forced.popleft()
            return status, forced_body, {**headers, **forced_headers}, call
        try:
            requested = _requested(method, query, body)
            selection = resolve(table, requested)
        except SelectionProblem as exc:
            return exc.status, exc.problem, headers, call
        except ValueError as exc:
            return 400, problem(400, "Bad request", str(exc)), headers, call
        call.selection = selection
        cells = math.prod(len(v) for v in selection.values())
        if cells > self.max_cells:
            detail = f"Too many cells selected: {cells} cells, at most {self.max_cells} allowed"
            return 403, problem(403, "Too many cells selected", detail), headers, call
        call.cells = cells
        return 200, table.data(selection), headers, call


def _requested(method: str, query: list[tuple[str, str]], body: bytes) -> dict[str, list[str]]:
    if method == "POST":
        doc = json.loads(body or b"{}")
        return {s["variableCode"]: [str(v) for v in s["valueCodes"]]
                for s in doc.get("selection", [])}
    requested = {}
    for key, value in query:
        if key.lower().startswith("valuecodes[") and key.endswith("]"):
            requested[key[len("valueCodes["):-1]] = [v for v in value.split(",") if v]
    return requested


class _Handler(BaseHTTPRequestHandler):
    api: FakePxWebApi
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, doc, headers, call = self.api.handle(method, self.path, body)
        call.status = status
        if self.path.startswith(API_PREFIX):
            with self.api._lock:
                self.api.calls.append(call)
        payload = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        kind = "application/json" if status == 200 else "application/problem+json"
        self.send_header("Content-Type", f"{kind}; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")
