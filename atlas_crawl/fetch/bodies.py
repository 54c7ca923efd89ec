"""How a spider reads a body that the handlers of `fetch/streaming.py` may have put on disk.

Apart from the handlers, so that a spider module (and `scrapy list`, and a command line that is
refused) does not import Scrapy's HTTP handler just to know these names.
"""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

STREAM = "atlas_stream_to_file"
PATH = "atlas_body_path"
SHA256 = "atlas_body_sha256"
SIZE = "atlas_body_size"
TEMPORARY = "atlas_body_temporary"
FLAG = "streamed"


def body_stream(response) -> BinaryIO:
    """The response body as a binary stream: the streamed file, or the in-memory body (replay,
    recording, small responses)."""
    path = response.meta.get(PATH) if FLAG in response.flags else None
    if path:
        return open(path, "rb")
    return BytesIO(response.body)


def body_sha256(response) -> str:
    if FLAG in response.flags and response.meta.get(SHA256):
        return response.meta[SHA256]
    return hashlib.sha256(response.body).hexdigest()


def body_size(response) -> int:
    if FLAG in response.flags and response.meta.get(SIZE) is not None:
        return int(response.meta[SIZE])
    return len(response.body)


def release_body(response) -> None:
    """Delete a temporary body file once it has been read (a local -a file= is left alone)."""
    path = response.meta.get(PATH) if FLAG in response.flags else None
    if path and response.meta.get(TEMPORARY):
        Path(path).unlink(missing_ok=True)


# DOWNLOAD_HANDLERS of a spider whose large bodies go to disk
HANDLERS = {
    "http": "atlas_crawl.fetch.streaming.StreamToFileHandler",
    "https": "atlas_crawl.fetch.streaming.StreamToFileHandler",
    "file": "atlas_crawl.fetch.streaming.LocalFileHandler",
}
