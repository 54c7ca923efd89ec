"""Keep every downloaded file as provenance: a `raw_files` row and the bytes on disk.

A spider yields a :class:`RawFile` for each file it reads data from (a workbook, a page, an API
answer). This pipeline writes its bytes once, content-addressed, under ``ATLAS_RAW_DIR``
(``<dir>/<sha256[:2]>/<sha256><suffix>``; an empty setting keeps the row but not the bytes) and
upserts one row per (url, sha256) into ``raw_files`` inside the run's transaction, so a number
can be traced to the exact file it came from and a failed run leaves no half-record behind.

The pipeline runs after the store, which opens the run and the transaction (ITEM_PIPELINES in
settings.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from atlas_crawl.items import sha256_of, utc_now

logger = logging.getLogger(__name__)

TABLE = "raw_files"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    url TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    last_modified TEXT,
    etag TEXT,
    content_type TEXT,
    source_id TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    path TEXT,
    run_id TEXT,
    PRIMARY KEY (url, sha256)
)
"""


@dataclass
class RawFile:
    """One downloaded file, as the spider received it."""

    source_id: str
    url: str
    body: bytes
    sha256: str
    fetched_at: str
    last_modified: str | None = None
    etag: str | None = None
    content_type: str | None = None

    size: int = -1

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.body)

    @classmethod
    def from_response(cls, response, source_id: str, fetched_at: str | None = None) -> RawFile:
        def header(name: str) -> str | None:
            value = response.headers.get(name)
            return value.decode("latin-1") if value is not None else None

        return cls(source_id=source_id, url=response.url, body=response.body,
                   sha256=sha256_of(response.body), fetched_at=fetched_at or utc_now(),
                   last_modified=header("Last-Modified"), etag=header("ETag"),
                   content_type=header("Content-Type"))


def suffix_of(url: str, content_type: str | None = None) -> str:
    suffix = PurePosixPath(unquote(urlsplit(url).path)).suffix.lower()
    if suffix and len(suffix) <= 6 and suffix[1:].isalnum():
        return suffix
    kind = (content_type or "").split(";")[0].strip().lower()
    return {"application/json": ".json", "text/html": ".html"}.get(kind, ".bin")


def store_bytes(folder: str | Path, raw: RawFile) -> Path:
    """Write the bytes once under their hash; an existing copy is left alone."""
    path = Path(folder) / raw.sha256[:2] / f"{raw.sha256}{suffix_of(raw.url, raw.content_type)}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(raw.body)
        tmp.replace(path)
    return path


def record(conn, raw: RawFile, path: Path | None, run_id: str | None) -> None:
    conn.execute(SCHEMA)
    conn.execute(
        f"INSERT INTO {TABLE} (url, sha256, size, last_modified, etag, content_type, source_id, "
        "fetched_at, last_seen_at, path, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (url, sha256) DO UPDATE SET last_seen_at = excluded.last_seen_at, "
        "path = COALESCE(excluded.path, path)",
        (raw.url, raw.sha256, raw.size, raw.last_modified, raw.etag, raw.content_type,
         raw.source_id, raw.fetched_at, raw.fetched_at, str(path) if path else None, run_id),
    )


class RawFilesPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.folder = crawler.settings.get("ATLAS_RAW_DIR") or ""
        self.kept = 0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if not isinstance(item, RawFile):
            return item
        spider = self.crawler.spider
        store = getattr(spider, "store", None)
        if store is None:
            raise RuntimeError("raw_files: no open store; the store pipeline must run first")
        path = store_bytes(self.folder, item) if self.folder else None
        store.begin()
        record(store.conn, item, path, getattr(spider, "run_id", None))
        self.kept += 1
        self.crawler.stats.inc_value("atlas/raw_files")
        logger.debug("kept %s (%d bytes, sha256 %s)", item.url, item.size, item.sha256[:12])
        item.body = b""  # on disk now; do not keep it alive in Scrapy's item signals
        return item
