"""A small client for the Qlik Sense Engine API (JSON-RPC 2.0 over a WebSocket), with replay and
record of the whole exchange.

The engine keeps state per connection: `OpenDoc` returns a handle for the app, `CreateSessionObject`
a handle for a hypercube, and every later call names the handle it acts on. Calls are answered by
`id`; the engine also pushes notifications without an id (`OnConnected`, `OnAuthenticationInformation`)
which are logged and otherwise ignored.

Three connections share one interface, `await connection.call(method, handle, params)`:

- :class:`WebSocketConnection` talks to a live engine (``wss://qlik.husbanken.no/public/app/<id>``);
- :class:`ReplayConnection` answers from an exchange file (``golden/<spider>/qlik_exchange.json``)
  and fails, naming the call, on anything that was never recorded;
- :class:`RecordingConnection` wraps a live one and writes every call and its answer to that file.

The exchange file keeps small answers inline and large ones (hypercube pages) as files beside it,
so a person can read and diff them::

    {"calls": [{"url": "wss://...", "method": "OpenDoc", "handle": -1, "params": ["<app id>"],
                "result": {...}},
               {"url": "wss://...", "method": "GetHyperCubeData", "handle": 2, "params": [...],
                "file": "responses/qlik_GetHyperCubeData_h2_0000.json"},
               {"url": "wss://...", "method": "GetLayout", "handle": 2, "params": [],
                "error": {"code": 7009, "message": "..."}}]}

Calls are matched on URL, method, handle and params (never on the JSON-RPC id). Runs inside
Scrapy's asyncio reactor: a spider callback simply awaits these coroutines.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

logger = logging.getLogger(__name__)

EXCHANGE_FILE = "qlik_exchange.json"
INLINE_LIMIT = 2_000  # answers longer than this (as JSON) are written to their own file


class QlikError(RuntimeError):
    """The engine answered a call with a JSON-RPC error (e.g. 7009: the page is too large)."""

    def __init__(self, method: str, handle: int, code: int | None, message: str,
                 parameter: str = ""):
        self.method = method
        self.handle = handle
        self.code = code
        self.message = message
        detail = f" ({parameter})" if parameter else ""
        super().__init__(f"Qlik {method} on handle {handle} failed: error {code}: {message}{detail}")


class NotRecorded(LookupError):
    """Replay was asked for a call that is not in the exchange file."""


def canonical(params: Any) -> str:
    return json.dumps(params, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def call_key(url: str, method: str, handle: int, params: Any) -> tuple[str, str, int, str]:
    return url, method, int(handle), canonical(params)


# --------------------------------------------------------------------------------------------
# Live


class WebSocketConnection:
    """One live engine session over a WebSocket (the `websockets` package)."""

    def __init__(self, url: str, *, headers: dict[str, str] | None = None,
                 user_agent: str | None = None, timeout: float = 60.0):
        self.url = url
        self.headers = dict(headers or {})
        self.user_agent = user_agent
        self.timeout = timeout
        self._ws = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._reader: asyncio.Task | None = None
        self.notifications: list[dict] = []

    async def __aenter__(self) -> Self:
        from websockets.asyncio.client import connect

        self._ws = await connect(
            self.url, additional_headers=self.headers, user_agent_header=self.user_agent,
            open_timeout=self.timeout, max_size=None, ping_interval=20,
        )
        self._reader = asyncio.ensure_future(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            try:
                await asyncio.wait_for(self._reader, self.timeout)
            except (TimeoutError, asyncio.CancelledError):
                self._reader.cancel()
        self._ws = None

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self._ws:
                message = json.loads(raw)
                future = self._pending.pop(message.get("id"), None) if "id" in message else None
                if future is not None and not future.done():
                    future.set_result(message)
                elif "method" in message:
                    self.notifications.append(message)
                    logger.debug("qlik notification %s: %s", message["method"],
                                 message.get("params"))
            problem: BaseException = ConnectionError(f"{self.url}: the engine closed the session")
        except ConnectionClosed as exc:
            problem = ConnectionError(f"{self.url}: connection closed: {exc}")
        except Exception as exc:  # noqa: BLE001 - handed to every waiting call
            problem = exc
        for future in self._pending.values():
            if not future.done():
                future.set_exception(problem)
        self._pending.clear()

    async def call(self, method: str, handle: int, params: Any) -> dict:
        if self._ws is None:
            raise RuntimeError("WebSocketConnection used outside 'async with'")
        request_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        await self._ws.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method,
                                        "handle": handle, "params": params}))
        try:
            message = await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            self._pending.pop(request_id, None)
            raise TimeoutError(f"{self.url}: no answer to {method} in {self.timeout:.0f} s") from None
        if "error" in message:
            raise _error(method, handle, message["error"])
        return message.get("result", {})


def _error(method: str, handle: int, error: dict) -> QlikError:
    return QlikError(method, handle, error.get("code"), str(error.get("message", "")),
                     str(error.get("parameter", "")))


# --------------------------------------------------------------------------------------------
# Replay and record


@dataclass
class RecordedCall:
    url: str
    method: str
    handle: int
    params: Any
    result: Any = None
    error: dict | None = None
    file: str | None = None

    def entry(self) -> dict:
        out: dict[str, Any] = {"url": self.url, "method": self.method, "handle": self.handle,
                               "params": self.params}
        if self.error is not None:
            out["error"] = self.error
        elif self.file is not None:
            out["file"] = self.file
        else:
            out["result"] = self.result
        return out


class Exchange:
    """The recorded calls of one or more engine sessions, in `<folder>/qlik_exchange.json`."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.calls: list[RecordedCall] = []
        path = self.folder / EXCHANGE_FILE
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            for entry in data.get("calls", []):
                self.calls.append(RecordedCall(
                    url=entry["url"], method=entry["method"], handle=int(entry["handle"]),
                    params=entry.get("params", []), result=entry.get("result"),
                    error=entry.get("error"), file=entry.get("file"),
                ))

    @property
    def path(self) -> Path:
        return self.folder / EXCHANGE_FILE

    def result_of(self, call: RecordedCall) -> Any:
        if call.file is None:
            return call.result
        path = self.folder / call.file
        if not path.exists():
            raise FileNotFoundError(f"{self.path}: {call.method} points at missing {path}")
        return json.loads(path.read_text(encoding="utf-8"))

    def add(self, url: str, method: str, handle: int, params: Any, *, result: Any = None,
            error: dict | None = None) -> RecordedCall:
        call = RecordedCall(url, method, int(handle), params, result=result, error=error)
        if error is None and len(canonical(result)) > INLINE_LIMIT:
            same = sum(1 for c in self.calls if c.method == method and c.handle == handle)
            call.file = f"responses/qlik_{method}_h{handle}_{same:04d}.json"
            target = self.folder / call.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                              encoding="utf-8")
        self.calls.append(call)
        return call

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path.write_text(
            json.dumps({"calls": [c.entry() for c in self.calls]}, indent=2, ensure_ascii=False)
            + "\n", encoding="utf-8")


class ReplayConnection:
    """Answers calls from an :class:`Exchange`; identical calls are answered in recorded order."""

    def __init__(self, url: str, exchange: Exchange):
        self.url = url
        self.exchange = exchange
        self._queues: dict[tuple, deque[RecordedCall]] = defaultdict(deque)
        for call in exchange.calls:
            self._queues[call_key(call.url, call.method, call.handle, call.params)].append(call)
        self.served = 0

    async def __aenter__(self) -> Self:
        if not any(c.url == self.url for c in self.exchange.calls):
            known = sorted({c.url for c in self.exchange.calls}) or ["nothing"]
            raise NotRecorded(f"replay: no Qlik session with {self.url} in {self.exchange.path} "
                              f"(recorded: {', '.join(known)})")
        return self

    async def __aexit__(self, *exc) -> None:
        return None

    async def call(self, method: str, handle: int, params: Any) -> dict:
        queue = self._queues.get(call_key(self.url, method, handle, params))
        if not queue:
            recorded = ", ".join(f"{c.method}(h{c.handle}, {canonical(c.params)[:80]})"
                                 for c in self.exchange.calls[:12])
            raise NotRecorded(
                f"replay: Qlik call {method} on handle {handle} with params {canonical(params)} "
                f"was never recorded in {self.exchange.path} (recorded: {recorded or 'nothing'})"
            )
        call = queue.popleft() if len(queue) > 1 else queue[0]
        self.served += 1
        if call.error is not None:
            raise _error(method, handle, call.error)
        return self.exchange.result_of(call)


class RecordingConnection:
    """Passes calls to a live connection and writes each call and its answer to the exchange."""

    def __init__(self, inner: WebSocketConnection, exchange: Exchange):
        self.inner = inner
        self.url = inner.url
        self.exchange = exchange

    async def __aenter__(self) -> Self:
        await self.inner.__aenter__()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.inner.__aexit__(*exc)
        self.exchange.save()

    async def call(self, method: str, handle: int, params: Any) -> dict:
        try:
            result = await self.inner.call(method, handle, params)
        except QlikError as exc:
            self.exchange.add(self.url, method, handle, params,
                              error={"code": exc.code, "message": exc.message})
            raise
        self.exchange.add(self.url, method, handle, params, result=result)
        return result


# --------------------------------------------------------------------------------------------
# The calls atlas_crawl makes


class QlikSession:
    """Engine calls by name over any of the connections above."""

    def __init__(self, connection):
        self.connection = connection
        self.calls = 0

    async def call(self, method: str, handle: int, params: Any) -> dict:
        self.calls += 1
        return await self.connection.call(method, handle, params)

    async def open_doc(self, app_id: str) -> int:
        result = await self.call("OpenDoc", -1, [app_id])
        return int(result["qReturn"]["qHandle"])

    async def create_session_object(self, doc: int, definition: dict) -> int:
        result = await self.call("CreateSessionObject", doc, [definition])
        return int(result["qReturn"]["qHandle"])

    async def get_layout(self, handle: int) -> dict:
        result = await self.call("GetLayout", handle, [])
        return result["qLayout"]

    async def get_hypercube_data(self, handle: int, pages: list[dict],
                                 path: str = "/qHyperCubeDef") -> list[dict]:
        result = await self.call("GetHyperCubeData", handle, [path, pages])
        return result["qDataPages"]


def connection_for(url: str, *, replay: bool, record: bool, folder: Path | str,
                   user_agent: str | None = None, headers: dict[str, str] | None = None,
                   timeout: float = 60.0):
    """The connection a crawl should use: replayed, recorded or plainly live."""
    if replay and record:
        raise ValueError("replay and record cannot both be on")
    if replay:
        return ReplayConnection(url, Exchange(folder))
    live = WebSocketConnection(url, headers=headers, user_agent=user_agent, timeout=timeout)
    if record:
        exchange = Exchange(folder)
        exchange.calls = [c for c in exchange.calls if c.url != url]  # re-record this session
        return RecordingConnection(live, exchange)
    return live


def connection_for_crawl(url: str, settings, spider_name: str):
    """The connection a crawl with these Scrapy settings should use: replayed from, or recorded
    into, the spider's golden folder (ATLAS_REPLAY / ATLAS_RECORD), else live."""
    from atlas_crawl.fetch.replay import golden_dir

    return connection_for(
        url, replay=settings.getbool("ATLAS_REPLAY"), record=settings.getbool("ATLAS_RECORD"),
        folder=golden_dir(settings, spider_name), user_agent=settings.get("USER_AGENT"),
        timeout=settings.getfloat("DOWNLOAD_TIMEOUT", 120.0),
    )
