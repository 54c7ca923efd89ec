"""The golden-case runner: replay a golden folder through the whole crawl and compare what it
stores with the expected rows, reporting the first row that differs.

Used by the test suite (tests/test_golden.py), `python -m atlas_crawl replay-all` and the fixture
builders (`golden/<name>/build.py`, which use :func:`stable_xlsx`). A golden folder
`golden/<name>/` holds:

- `responses.json` and `responses/`: the recorded exchanges (see atlas_crawl/fetch/replay.py);
- `golden.json`: `{"spider": ..., "args": {...}, "tables": [...]}`; file arguments are relative
  to the folder. A case may replay another case into the same database first (`"after":
  "<case>"`, for a second run), and may be a run that must fail (`"outcome": "failed"`, with
  `"error"`: words its one-line reason holds); every folder under golden/ is a case;
- `expected/<table>.jsonl`: the rows the crawl must store, one JSON object per line, in key order,
  without the bookkeeping columns that start with `_` (`<table>.jsonl.gz` when large);
- `README.md`: which responses are real captures and which were constructed.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import sqlite3
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from atlas_crawl import PROJECT_DIR
from atlas_crawl.fetch.replay import recorded_arguments

GOLDEN_DIR = PROJECT_DIR / "golden"
# Expected rows above this size are kept gzip-compressed (`<table>.jsonl.gz`).
EXPECTED_GZIP_ABOVE = 200_000


@dataclass
class GoldenCase:
    folder: Path
    spider: str
    args: dict = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    after: str = ""  # the case replayed into the same database first
    outcome: str = "ok"  # or "failed": a run that must be refused
    error: str = ""  # with outcome "failed": what its reason says

    @property
    def name(self) -> str:
        return self.folder.name

    @classmethod
    def load(cls, folder: Path) -> GoldenCase:
        spec = json.loads((folder / "golden.json").read_text(encoding="utf-8"))
        args = recorded_arguments(folder)
        return cls(folder, spec.get("spider", folder.name), args, list(spec.get("tables", [])),
                   dict(spec.get("settings", {})), spec.get("after", ""),
                   spec.get("outcome", "ok"), spec.get("error", ""))

    def expected_path(self, table: str) -> Path:
        """`expected/<table>.jsonl`, or `<table>.jsonl.gz` where the rows are many."""
        plain = self.folder / "expected" / f"{table}.jsonl"
        packed = plain.with_name(plain.name + ".gz")
        return packed if packed.exists() and not plain.exists() else plain

    def write_expected(self, table: str, text: str) -> Path:
        """Store the expected rows in the form they have (plain or .gz); new ones
        gzip-compressed when larger than EXPECTED_GZIP_ABOVE."""
        plain = self.folder / "expected" / f"{table}.jsonl"
        packed = plain.with_name(plain.name + ".gz")
        plain.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        if packed.exists() or (not plain.exists() and len(data) > EXPECTED_GZIP_ABOVE):
            packed.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
            plain.unlink(missing_ok=True)
            return packed
        plain.write_bytes(data)
        packed.unlink(missing_ok=True)
        return plain


def read_expected(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8")


def golden_cases(root: Path = GOLDEN_DIR) -> list[GoldenCase]:
    return [GoldenCase.load(p.parent) for p in sorted(root.glob("*/golden.json"))]


def not_cases(root: Path = GOLDEN_DIR) -> list[str]:
    """Folders under golden/ that are not golden cases (no golden.json of their own)."""
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not (p / "golden.json").exists())


def crawl_settings(db_path: Path | str, *, cassette: Path | None = None, replay: bool = True,
                   **overrides):
    """The project's settings for a crawl into `db_path`, replaying `cassette` (or the spider's
    golden folder) unless `replay` is false; `overrides` count as `-s` options would."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "atlas_crawl.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.set("ATLAS_DB", str(db_path))
    settings.set("ATLAS_REPLAY", replay)
    if cassette is not None:
        settings.set("ATLAS_CASSETTE", str(cassette))
    settings.set("LOG_LEVEL", "WARNING")
    for key, value in overrides.items():
        # as `-s KEY=VALUE` would: above the pace a spider's manifest declares
        settings.set(key, value, priority="cmdline")
    return settings


async def crawl(spider: str, settings, **args):
    """Run one spider to the end inside a running reactor; returns the finished crawler."""
    from scrapy.crawler import CrawlerRunner

    runner = CrawlerRunner(settings)
    crawler = runner.create_crawler(spider)
    await runner.crawl(crawler, **args)
    return crawler


async def crawl_case(case: GoldenCase, db_path: Path | str, *, first: bool = True):
    """Replay the case into `db_path` (after the case it follows, when `first`)."""
    if case.after and first:
        await crawl_case(GoldenCase.load(case.folder.parent / case.after), db_path)
    settings = crawl_settings(db_path, cassette=case.folder, **case.settings)
    return await crawl(case.spider, settings, **case.args)


def table_rows(db_path: Path | str, table: str) -> list[dict]:
    """A table's rows without `_` columns, ordered by primary key (or every column)."""
    conn = sqlite3.connect(str(db_path))
    try:
        info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
        if not info:
            return []
        columns = [row[1] for row in info if not row[1].startswith("_")]
        pk = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]] or columns
        order = ", ".join(f'"{c}"' for c in pk)
        select = ", ".join(f'"{c}"' for c in columns)
        cur = conn.execute(f'SELECT {select} FROM "{table}" ORDER BY {order}')
        return [dict(zip(columns, row)) for row in cur]
    finally:
        conn.close()


def to_jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)


def first_difference(actual: str, expected: str) -> str | None:
    """Where two JSON-lines texts of rows part, as one readable message (None when equal):
    the first differing row's number, the columns that differ with both values, or the row
    that is missing or extra."""
    if actual == expected:
        return None
    got, want = actual.splitlines(), expected.splitlines()
    for number, (a, e) in enumerate(zip(got, want), start=1):
        if a == e:
            continue
        try:
            row_a, row_e = json.loads(a), json.loads(e)
        except ValueError:
            return f"row {number}: got {a!r}, expected {e!r}"
        columns = sorted(set(row_a) | set(row_e))
        diffs = [f"{c}: got {row_a.get(c, '<absent>')!r}, expected {row_e.get(c, '<absent>')!r}"
                 for c in columns if row_a.get(c, "<absent>") != row_e.get(c, "<absent>")]
        return f"row {number} ({_key_of(row_e)}): " + "; ".join(diffs)
    if len(got) > len(want):
        return (f"{len(got) - len(want)} extra row(s), the first (row {len(want) + 1}): "
                f"{got[len(want)]}")
    if len(got) < len(want):
        return (f"{len(want) - len(got)} row(s) missing, the first (row {len(got) + 1}): "
                f"{want[len(got)]}")
    return "the texts differ in white space or line endings only"


def _key_of(row: dict) -> str:
    shown = list(row.items())[:4]
    return ", ".join(f"{k}={v!r}" for k, v in shown)


def runs(db_path: Path | str) -> list[dict]:
    conn = sqlite3.connect(str(db_path))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM _runs ORDER BY started, rowid")]
    finally:
        conn.close()


def stable_xlsx(workbook, when: datetime) -> bytes:
    """An openpyxl workbook's bytes without the moment of saving: zip entry dates and the
    document's created/modified dates are `when`, so a fixture generator rebuilds the same bytes."""
    raw = io.BytesIO()
    workbook.save(raw)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp,
                              data)
            dst.writestr(zipfile.ZipInfo(info.filename, when.timetuple()[:6]), data,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()

