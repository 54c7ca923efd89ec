"""Download handlers that put large bodies on disk instead of in memory.

Scrapy's HTTP handler accumulates every body in memory (and copies it once more when the
response is built), so Brreg's bulk file (~210 MB gzipped, ~2 GB of JSON) would cost several
hundred megabytes before parsing even starts; the `bytes_received` signal can watch the chunks
go by but cannot stop that buffer from growing. These handlers are switched on per spider
(`DOWNLOAD_HANDLERS` in its `custom_settings`):

- `StreamToFileHandler` (http/https): a request with ``meta["atlas_stream_to_file"]`` has its
  2xx body written chunk by chunk to a temporary file while its sha256 is computed; the response
  has an empty body, the flag ``streamed``, and ``meta["atlas_body_path"]``,
  ``["atlas_body_sha256"]`` and ``["atlas_body_size"]``. Other requests (and error responses,
  and every request while recording cassettes) take Scrapy's ordinary path. The request still
  goes through the downloader's slots, delays and middlewares (retries, politeness, replay).
- `LocalFileHandler` (file://, i.e. ``-a file=``): hands over the path of the file itself
  without reading it into memory, with its sha256.

The spider reads the body with `fetch.bodies.body_stream` and deletes a temporary file when done
with `fetch.bodies.release_body`; files the spider never saw are removed when the crawl closes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from scrapy.core.downloader.handlers.file import FileDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Headers, Response
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer
from twisted.internet.protocol import Protocol
from twisted.web.client import Agent, HTTPConnectionPool, ResponseDone
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers as TxHeaders
from w3lib.url import file_uri_to_path

from atlas_crawl.fetch.bodies import FLAG, PATH, SHA256, SIZE, STREAM, TEMPORARY

logger = logging.getLogger(__name__)


class _ToFile(Protocol):
    def __init__(self, finished: defer.Deferred, handle: BinaryIO):
        self.finished = finished
        self.handle = handle
        self.sha = hashlib.sha256()
        self.size = 0

    def dataReceived(self, data: bytes) -> None:
        self.handle.write(data)
        self.sha.update(data)
        self.size += len(data)

    def connectionLost(self, reason) -> None:
        self.handle.close()
        if reason.check(ResponseDone):
            self.finished.callback([])
        elif reason.check(PotentialDataLoss):
            self.finished.callback(["partial"])
        else:
            self.finished.errback(reason)


class _Unclosed:
    """A BytesIO that stays readable after the protocol closes it."""

    def __init__(self, inner: BytesIO):
        self.inner = inner

    def write(self, data: bytes) -> None:
        self.inner.write(data)

    def close(self) -> None:
        pass


class StreamToFileHandler(HTTP11DownloadHandler):
    def __init__(self, crawler):
        super().__init__(crawler)
        from twisted.internet import reactor

        self._reactor = reactor
        self._stream_pool = HTTPConnectionPool(reactor, persistent=False)
        self._folder = crawler.settings.get("ATLAS_DOWNLOAD_DIR") or None
        self._recording = crawler.settings.getbool("ATLAS_RECORD")
        self._created: list[str] = []

    async def download_request(self, request):
        if not request.meta.get(STREAM) or self._recording:
            return await super().download_request(request)
        if request.meta.get("proxy"):
            raise NotImplementedError(f"{type(self).__name__} does not stream through proxies")
        return await maybe_deferred_to_future(defer.ensureDeferred(self._stream(request)))

    async def _stream(self, request):
        agent = Agent(self._reactor, pool=self._stream_pool,
                      connectTimeout=request.meta.get("download_timeout", 180))
        headers = TxHeaders({k: v for k, v in request.headers.items()})
        timeout = float(request.meta.get("download_timeout") or 0)
        d = agent.request(request.method.encode("ascii"), request.url.encode("ascii"), headers)
        if timeout:
            d.addTimeout(timeout, self._reactor)
        txresponse = await d
        response_headers = Headers(dict(txresponse.headers.getAllRawHeaders()))
        if not 200 <= txresponse.code < 300:
            # An error answer is small: read it into memory for the usual error handling.
            finished = defer.Deferred()
            collected = BytesIO()
            txresponse.deliverBody(_ToFile(finished, _Unclosed(collected)))
            flags = await finished
            return Response(request.url, status=txresponse.code, headers=response_headers,
                            body=collected.getvalue(), request=request, flags=flags)
        # The body is kept as sent; a transfer encoding (if any) is undone by the reader, not by
        # HttpCompressionMiddleware, which would otherwise try to decompress an empty body.
        encoding = response_headers.pop(b"Content-Encoding", None)
        fd, path = tempfile.mkstemp(prefix="atlas-", suffix=".body", dir=self._folder)
        self._created.append(path)
        finished: defer.Deferred = defer.Deferred()
        writer = _ToFile(finished, os.fdopen(fd, "wb"))
        txresponse.deliverBody(writer)
        if timeout:
            finished.addTimeout(timeout, self._reactor)
        try:
            flags = await finished
        except BaseException:
            Path(path).unlink(missing_ok=True)
            raise
        request.meta.update({PATH: path, SHA256: writer.sha.hexdigest(), SIZE: writer.size,
                             TEMPORARY: True, "atlas_body_encoding": encoding})
        logger.info("streamed %s to %s (%s bytes)", request.url, path, f"{writer.size:,}")
        return Response(request.url, status=txresponse.code, headers=response_headers, body=b"",
                        request=request, flags=[FLAG, *flags])

    async def close(self) -> None:
        for path in self._created:
            Path(path).unlink(missing_ok=True)
        await maybe_deferred_to_future(self._stream_pool.closeCachedConnections())
        await super().close()


def _hash_file(path: str) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            sha.update(block)
            size += len(block)
    return sha.hexdigest(), size


class LocalFileHandler(FileDownloadHandler):
    """file:// without reading the file into memory; the path is handed to the spider."""

    async def download_request(self, request):
        path = file_uri_to_path(request.url)
        if not os.path.isfile(path):
            return await super().download_request(request)
        sha, size = await run_in_thread(_hash_file, path)
        request.meta.update({PATH: path, SHA256: sha, SIZE: size, TEMPORARY: False})
        return Response(request.url, body=b"", request=request, flags=[FLAG])
