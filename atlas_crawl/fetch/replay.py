"""Replay and recording: recorded responses ("cassettes") in golden/<spider>/, and the downloader
middleware that serves them instead of the network (ATLAS_REPLAY) or writes them (ATLAS_RECORD).

`responses.json` lists the recorded exchanges; each body is a file beside it, so a real capture
can be dropped in unchanged and read by a person (a large one gzip-compressed as `<name>.gz`,
served decompressed unless its recorded Content-Type is gzip itself):

    {"responses": [{"method": "GET", "url": "https://...", "body": null,
                    "status": 200, "headers": {"Content-Type": "application/json"},
                    "file": "responses/config.json"}]}

Requests are matched on method, canonical URL (query parameters sorted) and request body.
Replay fails clearly on a request that was never recorded: the run logs an error naming the
request and the cassette, and the store rolls the run back. Local files (`-a file=`) pass through.
The Qlik WebSocket exchange has its own recording beside the cassette (`fetch/qlik.py`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from w3lib.url import canonicalize_url

from atlas_crawl import PROJECT_DIR

logger = logging.getLogger(__name__)
INDEX = "responses.json"
EXTENSIONS = {
    "application/json": ".json", "text/html": ".html", "application/xml": ".xml",
    "text/xml": ".xml", "application/gzip": ".gz", "application/zip": ".zip",
    "text/plain": ".txt", "text/csv": ".csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}


def golden_dir(settings, spider_name: str) -> Path:
    """The cassette folder of a spider: ATLAS_CASSETTE, else <ATLAS_GOLDEN_DIR>/<spider>."""
    explicit = settings.get("ATLAS_CASSETTE")
    if explicit:
        return Path(explicit)
    root = settings.get("ATLAS_GOLDEN_DIR") or PROJECT_DIR / "golden"
    return Path(root) / spider_name


def match_key(method: str, url: str, body: bytes | None) -> tuple[str, str, str]:
    digest = hashlib.sha256(body).hexdigest() if body else ""
    return method.upper(), canonicalize_url(url, keep_fragments=False), digest


def recorded_arguments(folder: Path) -> dict[str, str]:
    """The spider arguments a cassette folder was recorded with (`args` in its golden.json),
    with a `file` argument resolved against the folder."""
    spec = Path(folder) / "golden.json"
    if not spec.exists():
        return {}
    try:
        args = dict(json.loads(spec.read_text(encoding="utf-8")).get("args") or {})
    except ValueError as exc:
        raise ValueError(f"{spec}: not valid JSON: {exc}") from exc
    if "file" in args:
        args["file"] = str((Path(folder) / args["file"]).resolve())
    return args


@dataclass
class Recording:
    method: str
    url: str
    status: int
    headers: dict[str, str]
    file: str
    body: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return match_key(self.method, self.url, self.body.encode("utf-8") if self.body else None)


GZIP_TYPES = ("application/gzip", "application/x-gzip")


def stored_gzipped(rec: Recording) -> bool:
    """A body kept gzip-compressed to save room (`answer.json.gz` recorded as JSON): served
    decompressed. A body that was gzip upstream (Content-Type gzip) is served as it is."""
    content_type = next((v for k, v in rec.headers.items() if k.lower() == "content-type"), "")
    return rec.file.endswith(".gz") and content_type.split(";")[0].strip().lower() not in GZIP_TYPES


class Cassette:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.recordings: dict[tuple, Recording] = {}
        index = self.folder / INDEX
        if index.exists():
            data = json.loads(index.read_text(encoding="utf-8"))
            for entry in data.get("responses", []):
                rec = Recording(
                    method=entry.get("method", "GET"), url=entry["url"],
                    status=int(entry.get("status", 200)), headers=entry.get("headers", {}),
                    file=entry["file"], body=entry.get("body"),
                )
                self.recordings[rec.key] = rec

    def find(self, method: str, url: str, body: bytes | None) -> Recording | None:
        return self.recordings.get(match_key(method, url, body))

    def body_of(self, rec: Recording) -> bytes:
        path = self.folder / rec.file
        if not path.exists():
            raise FileNotFoundError(f"{self.folder / INDEX}: {rec.url} points at missing {path}")
        if stored_gzipped(rec):
            try:
                return gzip.decompress(path.read_bytes())
            except (OSError, EOFError) as exc:
                raise ValueError(f"{path}: not a readable gzip file: {exc}") from None
        return path.read_bytes()

    def recorded_with(self) -> str:
        """A hint naming the arguments the cassette was made for (its golden.json), if any."""
        args = recorded_arguments(self.folder)
        if not args:
            return ""
        flags = " ".join(f"-a {k}={v}" for k, v in sorted(args.items()))
        return f"; this recording was made for: {flags}"

    def describe(self) -> str:
        return ", ".join(f"{r.method} {r.url}" for r in list(self.recordings.values())[:10])

    def add(self, method: str, url: str, body: bytes | None, status: int,
            headers: dict[str, str], content: bytes) -> Recording:
        content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
        parts = urlsplit(url)
        stem = re.sub(r"[^A-Za-z0-9]+", "_", (parts.netloc + parts.path)).strip("_")[-60:]
        digest = hashlib.sha256(match_key(method, url, body)[1].encode() +
                                (body or b"")).hexdigest()[:8]
        suffix = Path(parts.path).suffix if Path(parts.path).suffix in {
            ".xlsx", ".zip", ".gz", ".xml", ".csv", ".json", ".html", ".txt"} else ""
        name = f"responses/{stem}_{digest}{suffix or EXTENSIONS.get(content_type, '.bin')}"
        (self.folder / name).parent.mkdir(parents=True, exist_ok=True)
        (self.folder / name).write_bytes(content)
        rec = Recording(method.upper(), url, status, headers, name,
                        body.decode("utf-8", "replace") if body else None)
        self.recordings[rec.key] = rec
        return rec

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        entries = [
            {k: v for k, v in {
                "method": r.method, "url": r.url, "body": r.body, "status": r.status,
                "headers": r.headers, "file": r.file}.items() if v is not None}
            for r in sorted(self.recordings.values(), key=lambda r: (r.url, r.method, r.body or ""))
        ]
        (self.folder / INDEX).write_text(
            json.dumps({"responses": entries}, indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )


def replay_arguments(settings, spider_name: str) -> dict[str, str]:
    """The -a arguments a replayed spider given none should use: the ones its recording was made
    with (golden.json), so `scrapy crawl imdi_bosetting -s ATLAS_REPLAY=1` replays what was
    recorded. A folder whose cassette replays the live path drops its `file` argument (that is a
    separate, file-only case)."""
    folder = golden_dir(settings, spider_name)
    kwargs = recorded_arguments(folder)
    if Cassette(folder).recordings:
        kwargs.pop("file", None)
    if kwargs:
        logging.getLogger(spider_name).info(
            "replay: using the arguments %s was recorded with: %s", folder,
            " ".join(f"-a {k}={v}" for k, v in sorted(kwargs.items())))
    return kwargs


def recorded_urls(settings, spider_name: str) -> list[str]:
    """Every URL the spider's cassette holds (a replay that should ask for exactly those)."""
    return [r.url for r in Cassette(golden_dir(settings, spider_name)).recordings.values()]


# -- the downloader middleware -------------------------------------------------------------------

RECORDED_HEADERS = ("Content-Type", "Last-Modified", "ETag", "Retry-After", "Content-Disposition")
PASS_THROUGH_SCHEMES = ("file:", "data:")


def decoded_body(response) -> tuple[bytes, str | None]:
    """The body as the spider will see it, for the cassette.

    The recorder sits next to the downloader, before HttpCompressionMiddleware has undone the
    Content-Encoding, and the header is not replayed: a gzip body stored as is would reach the
    spider still compressed. gzip and deflate are undone here so the cassette holds readable
    bytes; anything else (br, zstd) is kept as sent, and its Content-Encoding is returned so that
    it can be recorded and decoded again on replay.
    """
    header = b",".join(response.headers.getlist("Content-Encoding")).decode("latin-1")
    codings = [c.strip().lower() for c in header.split(",") if c.strip()]
    body = response.body
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip"):
            body = gzip.decompress(body)
        elif coding == "deflate":
            try:
                body = zlib.decompress(body)
            except zlib.error:  # raw deflate without the zlib header
                body = zlib.decompress(body, -zlib.MAX_WBITS)
        elif coding != "identity":
            return response.body, header
    return body, None


class NotRecorded(IgnoreRequest):
    pass


class ReplayMiddleware:
    def __init__(self, crawler):
        self.replay = crawler.settings.getbool("ATLAS_REPLAY")
        self.record = crawler.settings.getbool("ATLAS_RECORD")
        if not (self.replay or self.record):
            raise NotConfigured
        if self.replay and self.record:
            raise ValueError("ATLAS_REPLAY and ATLAS_RECORD cannot both be on")
        self.crawler = crawler
        self.cassette: Cassette | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _cassette(self) -> Cassette:
        if self.cassette is None:
            folder = golden_dir(self.crawler.settings, self.crawler.spider.name)
            self.cassette = Cassette(folder)
        return self.cassette

    def process_request(self, request):
        if not self.replay or request.url.startswith(PASS_THROUGH_SCHEMES):
            return None
        cassette = self._cassette()
        rec = cassette.find(request.method, request.url, request.body or None)
        if rec is None:
            if request.url.endswith("/robots.txt"):
                return Response(request.url, status=404, request=request)
            self.crawler.stats.inc_value("atlas/replay/not_recorded")
            if not (Path(cassette.folder) / INDEX).exists():
                # A deployed egg (scrapyd) carries the code, not the recordings.
                logger.error(
                    "replay: no recordings for %s: %s does not exist; point ATLAS_GOLDEN_DIR "
                    "at the golden/ folder of an atlas_crawl checkout (on scrapyd: "
                    "-d setting=ATLAS_GOLDEN_DIR=/path/to/atlas_crawl/golden)",
                    self.crawler.spider.name, Path(cassette.folder) / INDEX)
                raise NotRecorded(f"not recorded: {request.method} {request.url}")
            logger.error(
                "replay: %s %s was never recorded in %s/responses.json (recorded: %s)%s",
                request.method, request.url, cassette.folder, cassette.describe() or "nothing",
                cassette.recorded_with(),
            )
            raise NotRecorded(f"not recorded: {request.method} {request.url}")
        body = cassette.body_of(rec)
        # Headers, not a dict: the response class is then told by the recorded Content-Type, as
        # live, instead of by scanning every byte of the body.
        headers = Headers(rec.headers)
        cls = responsetypes.from_args(headers=headers, url=rec.url, body=body)
        self.crawler.stats.inc_value("atlas/replay/served")
        return cls(url=request.url, status=rec.status, headers=headers, body=body,
                   request=request, flags=["replay"])

    def process_response(self, request, response):
        if self.record and not request.url.startswith(PASS_THROUGH_SCHEMES):
            headers = {}
            for name in RECORDED_HEADERS:
                value = response.headers.get(name)
                if value is not None:
                    headers[name] = value.decode("latin-1")
            body, still_encoded = decoded_body(response)
            if still_encoded:
                headers["Content-Encoding"] = still_encoded
            self._cassette().add(request.method, request.url, request.body or None,
                                 response.status, headers, body)
        return response

    def spider_closed(self, spider):
        if self.record and self.cassette is not None:
            self.cassette.save()
            logger.info("recorded %d responses into %s", len(self.cassette.recordings),
                        self.cassette.folder)
