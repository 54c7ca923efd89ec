"""A PxWebApi v2 on 127.0.0.1 serving SSB table 05803 (the real capture in golden/ssb_table),
whose data calls misbehave on cue: for the fault suite.

`faults` is the script of the next data calls, one fault each, then the real answer:
`429-retry-after` (429 with `Retry-After: 1`), `429` (no Retry-After), `503`, `hang` (accept the
call and answer nothing for `hang_seconds`), `truncated` (a Content-Length larger than the body
sent, then the connection closes), `html` (200 with an HTML error page instead of JSON).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from fakes.local_http import LocalServer

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "ssb_table" / "responses"
CONFIG = {
    "apiVersion": "2.3.2", "appVersion": "fault-suite", "languages": [{"id": "no",
                                                                       "label": "Norsk"}],
    "defaultLanguage": "no", "maxDataCells": 800000, "maxCallsPerTimeWindow": 30,
    "timeWindow": 1, "defaultDataFormat": "json-stat2", "dataFormats": ["json-stat2"],
}
PREFIX = "/api/pxwebapi/v2"


class FaultyPxWeb(LocalServer):
    def __init__(self, faults: list[str], *, hang_seconds: float = 5.0):
        self.faults = list(faults)
        self.hang_seconds = hang_seconds
        self.data_calls: list[str] = []  # what each data call got: a fault's name or "ok"
        self.lock = threading.Lock()
        owner = self
        metadata = (GOLDEN / "v2_metadata_05803_lang-en.json").read_bytes()
        data = (GOLDEN / "v2_data_05803_lang-no_with-status.json").read_bytes()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                path = self.path.split("?")[0]
                if path == f"{PREFIX}/config":
                    self._send(200, json.dumps(CONFIG).encode())
                elif path == f"{PREFIX}/tables/05803/metadata":
                    self._send(200, metadata)
                elif path == f"{PREFIX}/tables/05803/data":
                    with owner.lock:
                        fault = owner.faults.pop(0) if owner.faults else "ok"
                        owner.data_calls.append(fault)
                    self._misbehave(fault, data)
                else:
                    self._send(404, b'{"title": "not found"}')

            def _misbehave(self, fault: str, data: bytes):
                if fault == "ok":
                    self._send(200, data)
                elif fault == "429-retry-after":
                    self._send(429, b'{"title": "Too many requests"}', {"Retry-After": "1"})
                elif fault == "429":
                    self._send(429, b'{"title": "Too many requests"}')
                elif fault == "503":
                    self._send(503, b"<h1>Service Unavailable</h1>", kind="text/html")
                elif fault == "hang":
                    time.sleep(owner.hang_seconds)
                    self.close_connection = True
                elif fault == "truncated":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.close_connection = True
                elif fault == "html":
                    self._send(200, b"<!DOCTYPE html><html><body><h1>Vedlikehold</h1>"
                                    b"<p>Statistikkbanken er midlertidig utilgjengelig.</p>"
                                    b"</body></html>", kind="text/html")
                else:
                    raise ValueError(f"unknown fault {fault!r}")

            def _send(self, status, body, headers=None, kind="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(Handler)

    @property
    def base_url(self) -> str:
        return f"{self.url}{PREFIX}"
