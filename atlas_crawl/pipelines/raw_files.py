"""Keep every downloaded file as provenance: a `raw_files` row and the bytes on disk.

A spider yields an :class:`atlas_crawl.items.RawFile` for each file it reads data from (a
workbook, a page, an API answer). Its bytes are written once, content-addressed, under
``ATLAS_RAW_DIR`` (``<dir>/<sha256[:2]>/<sha256><suffix>``; an empty setting keeps the row but not
the bytes), and one row per (url, sha256) is upserted into ``raw_files`` inside the run's
transaction, so a number can be traced to the exact file it came from and a failed run leaves no
half-record behind.

The store pipeline calls :func:`keep` for every RawFile item, inside the run's transaction.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from atlas_crawl.items import RawFile

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


def keep(conn, raw: RawFile, folder: str, run_id: str | None) -> Path | None:
    """Keep one downloaded file inside the run's open transaction: its bytes under `folder`
    (when set) and its `raw_files` row."""
    path = store_bytes(folder, raw) if folder else None
    record(conn, raw, path, run_id)
    logger.debug("kept %s (%d bytes, sha256 %s)", raw.url, raw.size, raw.sha256[:12])
    return path
