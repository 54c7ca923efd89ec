"""The Qlik Engine client and the husbanken_bostotte spider against a fake engine on 127.0.0.1.

The fake engine speaks the JSON-RPC calls the spider makes (OpenDoc, CreateSessionObject,
GetLayout, GetHyperCubeData) over a real WebSocket and, like Husbanken's engine, refuses a page of
more than its cell limit with error 7009.
"""

from __future__ import annotations

import asyncio
import json
import math

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from atlas_crawl.fetch import qlik
from atlas_crawl.run.golden import crawl, crawl_settings, runs, table_rows

APP = "test-app-0001"
MEASURES = ["soknad", "vedtak", "utbetaling", "avslag", "belop"]


def as_deferred(coro):
    return Deferred.fromFuture(asyncio.ensure_future(coro))


def cube_row(n: int) -> list[dict]:
    """Row n of the fake cube: kommune 1000+n//20, years 2008..2027, every 20th row År '-'."""
    code = f"{1000 + n // 20:04d}"
    if n % 20 == 19:
        year = {"qText": "-", "qNum": "NaN", "qElemNumber": -2, "qState": "L", "qIsNull": True}
    else:
        year = {"qText": str(2008 + n % 20), "qNum": 2008 + n % 20, "qElemNumber": n % 20,
                "qState": "O"}
    cells = [{"qText": code, "qNum": int(code), "qElemNumber": n // 20, "qState": "O"}, year]
    for m in range(5):
        value = n * 10 + m
        cells.append({"qText": str(value), "qNum": value, "qElemNumber": 0, "qState": "L"})
    return cells


class FakeEngine:
    """A Qlik engine with one app whose cube has `rows` rows of 7 columns."""

    def __init__(self, rows: int, max_cells: int = 10_000):
        self.rows = rows
        self.max_cells = max_cells
        self.calls: list[dict] = []
        self.server = None
        self.definition: dict | None = None

    @property
    def url(self) -> str:
        port = self.server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/app/{APP}"

    async def start(self) -> FakeEngine:
        from websockets.asyncio.server import serve

        self.server = await serve(self.handle, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    def page_requests(self) -> list[dict]:
        return [area for c in self.calls if c["method"] == "GetHyperCubeData"
                for area in c["params"][1]]

    async def handle(self, ws):
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "OnConnected",
                                  "params": {"qSessionState": "SESSION_CREATED"}}))
        async for raw in ws:
            msg = json.loads(raw)
            self.calls.append(msg)
            try:
                result = self.answer(msg["method"], msg["handle"], msg["params"])
                reply = {"jsonrpc": "2.0", "id": msg["id"], "result": result}
            except LookupError as exc:
                code, message = exc.args
                reply = {"jsonrpc": "2.0", "id": msg["id"],
                         "error": {"code": code, "parameter": "", "message": message}}
            await ws.send(json.dumps(reply))

    def answer(self, method: str, handle: int, params: list):
        if method == "OpenDoc":
            if params != [APP]:
                raise LookupError(1002, f"App not found: {params}")
            return {"qReturn": {"qType": "Doc", "qHandle": 1, "qGenericId": APP}}
        if method == "CreateSessionObject" and handle == 1:
            self.definition = params[0]
            return {"qReturn": {"qType": "GenericObject", "qHandle": 2,
                                "qGenericId": "session-1"}}
        if method == "GetLayout" and handle == 2:
            cube = self.definition["qHyperCubeDef"]
            fetch = cube.get("qInitialDataFetch", [])
            if sum(a["qWidth"] * a["qHeight"] for a in fetch) > self.max_cells:
                raise LookupError(7009, "Calculation too large")
            return {"qLayout": {"qHyperCube": {
                "qSize": {"qcx": 7, "qcy": self.rows},
                "qDimensionInfo": [{"qFallbackTitle": d["qDef"]["qFieldDefs"][0]}
                                   for d in cube["qDimensions"]],
                "qMeasureInfo": [{"qFallbackTitle": m["qDef"].get("qLabel")
                                  or m["qDef"]["qDef"]} for m in cube["qMeasures"]],
                "qDataPages": [],
            }}}
        if method == "GetHyperCubeData" and handle == 2:
            pages = []
            for area in params[1]:
                if area["qWidth"] * area["qHeight"] > self.max_cells:
                    raise LookupError(7009, "Calculation too large")
                top = area["qTop"]
                bottom = min(top + area["qHeight"], self.rows)
                pages.append({"qMatrix": [cube_row(n) for n in range(top, bottom)],
                              "qTails": [], "qArea": dict(area, qHeight=bottom - top)})
            return {"qDataPages": pages}
        raise LookupError(-32601, f"{method} on handle {handle} not supported")


def settings_for(db, tmp_path, **overrides):
    """Crawl settings for the fake engine. Its kommune codes are made up, so the geography step
    (tested with the real sample in test_husbanken.py) is left out here."""
    settings = crawl_settings(db, replay=False, ATLAS_CASSETTE=str(tmp_path / "cassette"),
                              ATLAS_RAW_DIR="", DOWNLOAD_DELAY=0, **overrides)
    pipelines = {k: v for k, v in settings.getdict("ITEM_PIPELINES").items()
                 if not k.endswith("GeographyPipeline")}
    settings.set("ITEM_PIPELINES", pipelines)
    return settings


# -- the client ------------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_client_calls_are_answered_by_id_and_errors_carry_the_code():
    engine = await as_deferred(FakeEngine(rows=50, max_cells=70).start())
    try:
        async def session_run():
            async with qlik.WebSocketConnection(engine.url, user_agent="atlas-test") as conn:
                session = qlik.QlikSession(conn)
                doc = await session.open_doc(APP)
                cube = await session.create_session_object(doc, {"qHyperCubeDef": {
                    "qDimensions": [{"qDef": {"qFieldDefs": ["KommuneNr"]}}],
                    "qMeasures": []}})
                first = await session.get_hypercube_data(
                    cube, [{"qLeft": 0, "qTop": 0, "qWidth": 7, "qHeight": 10}])
                with pytest.raises(qlik.QlikError) as too_big:
                    await session.get_hypercube_data(
                        cube, [{"qLeft": 0, "qTop": 0, "qWidth": 7, "qHeight": 11}])
                return doc, cube, first, too_big.value, conn.notifications

        doc, cube, first, error, notes = await as_deferred(session_run())
    finally:
        await as_deferred(engine.stop())
    assert (doc, cube) == (1, 2)
    assert len(first[0]["qMatrix"]) == 10
    assert first[0]["qMatrix"][3][0]["qText"] == "1000"
    assert error.code == 7009 and "GetHyperCubeData" in str(error)
    assert notes[0]["method"] == "OnConnected"
    assert [c["id"] for c in engine.calls] == [1, 2, 3, 4]


@pytest_twisted.ensureDeferred
async def test_replay_fails_naming_a_call_never_recorded(tmp_path):
    exchange = qlik.Exchange(tmp_path)
    exchange.add("ws://x/app/a", "OpenDoc", -1, ["a"], result={"qReturn": {"qHandle": 1}})
    exchange.save()
    conn = qlik.ReplayConnection("ws://x/app/a", qlik.Exchange(tmp_path))
    assert await as_deferred(conn.call("OpenDoc", -1, ["a"])) == {"qReturn": {"qHandle": 1}}
    with pytest.raises(qlik.NotRecorded, match=r"OpenDoc on handle -1 with params \[\"b\"\]"):
        await as_deferred(conn.call("OpenDoc", -1, ["b"]))


def test_large_answers_are_kept_as_files_beside_the_exchange(tmp_path):
    exchange = qlik.Exchange(tmp_path)
    page = {"qDataPages": [{"qMatrix": [cube_row(n) for n in range(40)]}]}
    call = exchange.add("ws://x/app/a", "GetHyperCubeData", 2, ["/qHyperCubeDef", []],
                        result=page)
    exchange.save()
    assert call.file == "responses/qlik_GetHyperCubeData_h2_0000.json"
    again = qlik.Exchange(tmp_path)
    assert again.result_of(again.calls[0]) == page


# -- the spider against the fake engine ------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_crawl_pages_the_cube_in_1000_row_blocks(tmp_path):
    engine = await as_deferred(FakeEngine(rows=2_345).start())
    db = tmp_path / "atlas.db"
    try:
        crawler = await crawl("husbanken_bostotte", settings_for(db, tmp_path),
                              engine_url=engine.url, app_id=APP)
    finally:
        await as_deferred(engine.stop())
    assert crawler.stats.get_value("log_count/ERROR") is None
    assert [(a["qTop"], a["qHeight"], a["qWidth"]) for a in engine.page_requests()] == [
        (0, 1000, 7), (1000, 1000, 7), (2000, 345, 7)]
    assert [c["method"] for c in engine.calls][:3] == ["OpenDoc", "CreateSessionObject",
                                                       "GetLayout"]
    # the definition the engine received: two dimensions, five labelled measures, no bulk fetch
    cube = engine.definition["qHyperCubeDef"]
    assert [d["qDef"]["qFieldDefs"] for d in cube["qDimensions"]] == [["KommuneNr"], ["År"]]
    assert [m["qDef"]["qLabel"] for m in cube["qMeasures"]] == MEASURES
    assert cube["qInitialDataFetch"] == []

    run = runs(db)[-1]
    no_year = math.ceil((2_345 - 19) / 20)  # rows 19, 39, ... have År '-'
    assert run["status"] == "ok", run["error"]
    assert run["rows_quarantined"] == no_year
    rows = table_rows(db, "husbanken_bostotte")
    assert len(rows) == (2_345 - no_year) * 5
    # row 1234 of the cube: kommune 1061, year 2008 + 14, values 12340..12344
    got = {r["measure"]: r["value"] for r in rows if r["kommune_nr"] == "1061"
           and r["year"] == 2022}
    assert got == {"soknad": 12340, "vedtak": 12341, "utbetaling": 12342, "avslag": 12343,
                   "belop": 12344}


@pytest_twisted.ensureDeferred
async def test_a_page_refused_with_7009_is_asked_for_in_halves(tmp_path):
    engine = await as_deferred(FakeEngine(rows=1_200, max_cells=3_500).start())
    db = tmp_path / "atlas.db"
    try:
        crawler = await crawl("husbanken_bostotte", settings_for(db, tmp_path),
                              engine_url=engine.url, app_id=APP)
    finally:
        await as_deferred(engine.stop())
    assert [(a["qTop"], a["qHeight"]) for a in engine.page_requests()] == [
        (0, 1000), (0, 500), (500, 500), (1000, 200)]
    assert crawler.stats.get_value("log_count/WARNING") == 1
    assert runs(db)[-1]["status"] == "ok"
    assert len(table_rows(db, "husbanken_bostotte")) == (1_200 - 60) * 5


@pytest_twisted.ensureDeferred
async def test_record_then_replay_stores_the_same_rows_without_the_engine(tmp_path):
    engine = await as_deferred(FakeEngine(rows=1_500).start())
    url = engine.url
    live_db, replay_db = tmp_path / "live.db", tmp_path / "replay.db"
    try:
        await crawl("husbanken_bostotte", settings_for(live_db, tmp_path, ATLAS_RECORD=True),
                    engine_url=url, app_id=APP)
    finally:
        await as_deferred(engine.stop())
    exchange = json.loads((tmp_path / "cassette" / "qlik_exchange.json").read_text())
    assert [c["method"] for c in exchange["calls"]] == [
        "OpenDoc", "CreateSessionObject", "GetLayout", "GetHyperCubeData", "GetHyperCubeData"]
    assert exchange["calls"][3]["file"] == "responses/qlik_GetHyperCubeData_h2_0000.json"

    crawler = await crawl("husbanken_bostotte", settings_for(replay_db, tmp_path,
                                                             ATLAS_REPLAY=True),
                          engine_url=url, app_id=APP)
    assert crawler.stats.get_value("log_count/ERROR") is None
    assert runs(replay_db)[-1]["status"] == "ok"
    live_rows = table_rows(live_db, "husbanken_bostotte")
    assert table_rows(replay_db, "husbanken_bostotte") == live_rows
    assert len(live_rows) == (1_500 - 75) * 5


@pytest_twisted.ensureDeferred
async def test_replay_of_an_unrecorded_call_fails_the_run(tmp_path):
    db = tmp_path / "atlas.db"
    crawler = await crawl("husbanken_bostotte", settings_for(db, tmp_path, ATLAS_REPLAY=True),
                          engine_url="ws://127.0.0.1:9/app/nothing", app_id="nothing")
    run = runs(db)[-1]
    assert run["status"] == "failed"
    assert "no Qlik session with ws://127.0.0.1:9/app/nothing" in run["error"]
    assert crawler.stats.get_value("atlas/replay/not_recorded") == 1
    assert table_rows(db, "husbanken_bostotte") == []
