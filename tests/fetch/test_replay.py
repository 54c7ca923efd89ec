"""Replay and record: a live crawl of a local server recorded into a cassette replays with the
server gone and stores the same rows; a request that was never recorded fails the run, naming
it."""

import gzip
import json
import sqlite3
import zlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import pytest_twisted
import scrapy
from conftest import make_manifest
from fakes.local_http import LocalServer

from atlas_crawl.fetch.replay import INDEX, Cassette, decoded_body, match_key
from atlas_crawl.manifests import all_manifests, register
from atlas_crawl.run.golden import crawl, crawl_settings, runs, table_rows
from atlas_crawl.spiders.base import AtlasSpider

SOURCE = "test_replay_rows"
COLUMNS = ["kommune", "year", "value"]
KEY = ["kommune", "year"]
QUERY = b'{"query": [{"code": "Tid", "values": ["2025"]}]}'


class RowsServer(LocalServer):
    """GET /rows.json?... and POST /query answer JSON rows, /rows.json gzip-compressed when the
    client accepts it (as SSB does); robots.txt is absent (404)."""

    def __init__(self):
        self.requests: list[tuple[str, str, bytes]] = []

        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, payload, compress: bool = False):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                if compress and "gzip" in self.headers.get("Accept-Encoding", ""):
                    body = gzip.compress(body)
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                owner.requests.append(("GET", self.path, b""))
                if self.path.startswith("/rows.json"):
                    self._answer(200, {"rows": [["0301", "2024", 709037],
                                                ["1103", "2024", 149048]]}, compress=True)
                else:
                    self._answer(404, {"detail": "not found"})

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.requests.append(("POST", self.path, body))
                self._answer(200, {"rows": [["0301", "2025", 717710]]})

            def log_message(self, *args):
                pass

        super().__init__(Handler)


class LiveRowsSpider(AtlasSpider):
    name = "test_replay_rows"
    source_id = SOURCE
    spider_args = {"base": "the local server's URL"}  # noqa: RUF012

    def __init__(self, *args, base: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.base = base
        self.arguments["base"] = base

    async def start_live(self):
        yield scrapy.Request(f"{self.base}/rows.json?year=2024&region=*", callback=self.parse_rows)
        yield scrapy.Request(f"{self.base}/query", method="POST", body=QUERY,
                             headers={"Content-Type": "application/json"},
                             callback=self.parse_rows)

    def parse_rows(self, response):
        rows = [tuple(r) for r in json.loads(response.body)["rows"]]
        yield from self.batches(response, COLUMNS, rows, KEY, types={"value": int})


@pytest.fixture(autouse=True)
def manifest(tmp_path):
    register(make_manifest(SOURCE, tmp_path, dimensions=("kommune",), upstream_id="rows",
                           upstream_url="http://127.0.0.1/rows", upstream_title="Rows"))
    yield
    all_manifests().pop(SOURCE, None)


@pytest_twisted.ensureDeferred
async def test_record_then_replay_without_the_server(tmp_path):
    cassette = tmp_path / "cassette"
    recorded_db, replayed_db = tmp_path / "recorded.db", tmp_path / "replayed.db"

    with RowsServer() as server:
        settings = crawl_settings(recorded_db, cassette=cassette, replay=False, ATLAS_RECORD=True,
                                  AUTOTHROTTLE_ENABLED=False, DOWNLOAD_DELAY=0)
        await crawl(LiveRowsSpider, settings, base=server.url)
    assert runs(recorded_db)[-1]["status"] == "ok"
    assert ("POST", "/query", QUERY) in server.requests

    index = json.loads((cassette / INDEX).read_text(encoding="utf-8"))["responses"]
    by_url = {(e["method"], e["url"]): e for e in index}
    get = by_url[("GET", f"{server.url}/rows.json?year=2024&region=*")]
    post = by_url[("POST", f"{server.url}/query")]
    assert get["status"] == 200 and "body" not in get
    assert get["headers"] == {"Content-Type": "application/json; charset=utf-8"}
    # Kept as the readable JSON the spider saw, not as the gzip bytes on the wire.
    assert json.loads((cassette / get["file"]).read_bytes())["rows"][1] == ["1103", "2024",
                                                                           149048]
    assert post["body"] == QUERY.decode()
    assert by_url[("GET", f"{server.url}/robots.txt")]["status"] == 404

    # The server is gone: everything must come from the cassette.
    settings = crawl_settings(replayed_db, cassette=cassette, replay=True)
    crawler = await crawl(LiveRowsSpider, settings, base=server.url)
    last = runs(replayed_db)[-1]
    assert last["status"] == "ok", last["error"]
    assert json.loads(last["arguments"]) == {"base": server.url, "atlas_replay": True}
    assert crawler.stats.get_value("atlas/replay/served") == 3  # robots.txt, GET, POST
    assert crawler.stats.get_value("atlas/replay/not_recorded") is None
    assert table_rows(replayed_db, SOURCE) == table_rows(recorded_db, SOURCE) == [
        {"kommune": "0301", "year": "2024", "value": 709037},
        {"kommune": "0301", "year": "2025", "value": 717710},
        {"kommune": "1103", "year": "2024", "value": 149048},
    ]
    # The hash of the replayed bytes is the hash of what the server sent.
    assert _hashes(replayed_db) == _hashes(recorded_db)


def _hashes(db: Path) -> list:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f'SELECT t.kommune, t.year, f.sha256 FROM "{SOURCE}" AS t '
                            "JOIN _fetches AS f ON f.id = t._fetch ORDER BY 1, 2").fetchall()
    finally:
        conn.close()


@pytest_twisted.ensureDeferred
async def test_an_unrecorded_request_fails_the_run_naming_it(tmp_path):
    base = "http://127.0.0.1:9"  # nothing listens there; replay must never try the network
    cassette = Cassette(tmp_path / "cassette")
    cassette.add("GET", f"{base}/rows.json?year=2024&region=*", None, 200,
                 {"Content-Type": "application/json"},
                 json.dumps({"rows": [["0301", "2024", 1]]}).encode())
    cassette.save()

    db = tmp_path / "atlas.db"
    crawler = await crawl(LiveRowsSpider, crawl_settings(db, cassette=cassette.folder), base=base)
    last = runs(db)[-1]
    assert last["status"] == "failed"
    assert f"POST {base}/query was never recorded in {cassette.folder}/responses.json" in (
        last["error"])
    assert crawler.stats.get_value("atlas/replay/not_recorded") == 1
    # The recorded GET was served and stored, then rolled back with the run.
    assert crawler.stats.get_value("atlas/replay/served") == 1
    assert table_rows(db, SOURCE) == []


def test_matching_ignores_query_order_but_not_the_body(tmp_path):
    cassette = Cassette(tmp_path)
    rec = cassette.add("POST", "https://data.ssb.no/api/v0/no/table/07459?b=2&a=1", b'{"q":1}',
                       200, {"Content-Type": "application/json"}, b'{"ok": true}')
    assert cassette.find("POST", "https://data.ssb.no/api/v0/no/table/07459?a=1&b=2",
                         b'{"q":1}') is rec
    assert cassette.find("post", "https://data.ssb.no/api/v0/no/table/07459?a=1&b=2#x",
                         b'{"q":1}') is rec
    assert cassette.find("POST", "https://data.ssb.no/api/v0/no/table/07459?a=1&b=2",
                         b'{"q":2}') is None
    assert cassette.find("GET", "https://data.ssb.no/api/v0/no/table/07459?a=1&b=2",
                         None) is None
    assert match_key("get", "https://x.no/a?z=1&y=2", None) == ("GET", "https://x.no/a?y=2&z=1",
                                                                "")


def test_saved_cassette_reloads_and_a_missing_body_file_is_named(tmp_path):
    cassette = Cassette(tmp_path)
    rec = cassette.add("GET", "https://data.ssb.no/api/pxwebapi/v2/config", None, 200,
                       {"Content-Type": "application/json"}, b'{"maxDataCells": 800000}')
    cassette.save()
    again = Cassette(tmp_path)
    found = again.find("GET", "https://data.ssb.no/api/pxwebapi/v2/config", None)
    assert found.file == rec.file and found.file.startswith("responses/")
    assert found.file.endswith(".json")
    assert again.body_of(found) == b'{"maxDataCells": 800000}'
    (tmp_path / found.file).unlink()
    with pytest.raises(FileNotFoundError, match=r"config points at missing .*responses/"):
        again.body_of(found)


@pytest.mark.parametrize(("encoding", "wire", "stored", "header"), [
    ("gzip", gzip.compress(b'{"a": 1}', mtime=0), b'{"a": 1}', None),
    ("deflate", zlib.compress(b'{"a": 1}'), b'{"a": 1}', None),
    ("deflate", zlib.compress(b'{"a": 1}')[2:-4], b'{"a": 1}', None),  # raw deflate
    ("identity", b'{"a": 1}', b'{"a": 1}', None),
    (None, b'{"a": 1}', b'{"a": 1}', None),
    ("br", b"\x8b\x03\x80{}\x03", b"\x8b\x03\x80{}\x03", "br"),  # kept, decoded on replay
])
def test_recorded_bodies_are_what_the_spider_sees(encoding, wire, stored, header):
    headers = {"Content-Encoding": encoding} if encoding else {}
    response = scrapy.http.Response("https://x.no/a", body=wire, headers=headers)
    assert decoded_body(response) == (stored, header)


def test_a_replay_miss_names_the_arguments_the_recording_was_made_for(tmp_path):
    from atlas_crawl.fetch.replay import Cassette

    (tmp_path / "golden.json").write_text(
        json.dumps({"spider": "imdi_bosetting", "args": {"years": "2025,2026"}}))
    assert Cassette(tmp_path).recorded_with() == (
        "; this recording was made for: -a years=2025,2026")
    (tmp_path / "golden.json").write_text(json.dumps({"spider": "ssb_klass"}))
    assert Cassette(tmp_path).recorded_with() == ""
