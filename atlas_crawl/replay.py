"""Recorded responses ("cassettes") kept in golden/<spider>/.

`responses.json` lists the recorded exchanges; each body is a file beside it, so a real capture
can be dropped in unchanged and read by a person:

    {"responses": [{"method": "GET", "url": "https://...", "body": null,
                    "status": 200, "headers": {"Content-Type": "application/json"},
                    "file": "responses/config.json"}]}

Requests are matched on method, canonical URL (query parameters sorted) and request body.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from w3lib.url import canonicalize_url

from atlas_crawl import PROJECT_DIR

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
