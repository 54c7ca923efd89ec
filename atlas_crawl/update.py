"""`python -m atlas_crawl update`: keep the catalogue fresh in one command.

1. The change monitor (`sitemap_monitor`) runs first.
2. Every source is crawled that is due by its periodicity (the manifest's `periodicity` against
   its last successful run in `_runs`), that the monitor says changed (the `recrawl_needed` view),
   or that was named with `--sources`.
3. The catalogue is published again (atlas_crawl.publish.publish).

All crawls run in one Scrapy process (atlas_crawl/runner.py), one after another, each its own run
and transaction: a source that fails keeps its previous data and the others still run. Updates of
one database are serialised by a lock file next to it (`<db>.update.lock`).

`--replay` does the same on the golden recordings (golden/<spider>/), offline.
"""

from __future__ import annotations

import fcntl
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from atlas_crawl.runner import CrawlJob, CrawlResult, project_settings, run_crawls, summary_table

MONITOR_SPIDER = "sitemap_monitor"


@dataclass(frozen=True)
class Planned:
    source_id: str
    spider: str
    reason: str


def source_spiders(settings) -> dict[str, type]:
    """source id -> spider class: the spider whose `source_id` is the source (its name, for SSB's
    named tables and every other family)."""
    from scrapy.spiderloader import SpiderLoader

    loader = SpiderLoader.from_settings(settings)
    spiders = {}
    for name in loader.list():
        cls = loader.load(name)
        source_id = getattr(cls, "source_id", "") or ""
        if source_id and source_id != MONITOR_SPIDER:
            spiders.setdefault(source_id, cls)
    return spiders


def _has_live_crawl(cls) -> bool:
    from atlas_crawl.spiders.base import AtlasSpider

    return getattr(cls, "start_live", None) is not AtlasSpider.start_live


def _recrawl_needed(db: str) -> dict[str, str]:
    if not Path(db).exists():
        return {}
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT source_id, reason FROM recrawl_needed"))
    except sqlite3.Error:
        return {}  # the monitor never ran on this database
    finally:
        conn.close()


def _due(db: str, now: datetime) -> dict[str, str]:
    """source id -> why it is due, for every manifest whose periodicity says so."""
    from atlas_crawl.manifests import all_manifests
    from atlas_crawl.publish.sources import _runs_by_source, freshness

    runs: dict[str, list[dict]] = {}
    if Path(db).exists():
        conn = sqlite3.connect(db)
        try:
            runs = _runs_by_source(conn)
        finally:
            conn.close()
    due = {}
    for source_id, manifest in all_manifests().items():
        ok = [r for r in runs.get(source_id, []) if r["status"] == "ok"]
        state, age = freshness(manifest.periodicity, ok[-1]["finished"] if ok else None, now)
        if state == "never crawled":
            due[source_id] = "never crawled"
        elif state in ("due", "overdue"):
            due[source_id] = f"{state}: last success {age} days ago, periodicity " \
                             f"{manifest.periodicity}"
    return due


def plan(db: str, spiders: dict[str, type], named: list[str] | None, now: datetime,
         replay_folder=None) -> tuple[list[Planned], list[tuple[str, str]]]:
    """What to crawl (one entry per spider) and what is skipped, with reasons."""
    skipped: list[tuple[str, str]] = []
    if named:
        wanted = {s: "named on the command line" for s in named}
    else:
        wanted = _due(db, now)
        for source_id, reason in _recrawl_needed(db).items():
            wanted.setdefault(source_id, f"changed: {reason}")
    planned: dict[str, Planned] = {}
    for source_id, reason in sorted(wanted.items()):
        cls = spiders.get(source_id)
        if cls is None:
            if named:
                skipped.append((source_id, "no spider crawls this source"))
            continue
        if replay_folder is not None and replay_folder(cls.name) is None:
            skipped.append((source_id, f"no recording in golden/{cls.name}/"))
            continue
        if replay_folder is None and not _has_live_crawl(cls):
            skipped.append((source_id, f"{cls.name} reads saved files only (-a file=)"))
            continue
        planned.setdefault(cls.name, Planned(source_id, cls.name, reason))
    return list(planned.values()), skipped


def for_providers(spiders: dict[str, type], providers: list[str] | None) -> dict[str, type]:
    """Only the sources of these providers (one node's share, docs/scaling.md)."""
    if not providers:
        return spiders
    from atlas_crawl.manifests import all_manifests

    manifests = all_manifests()
    return {s: cls for s, cls in spiders.items()
            if s in manifests and manifests[s].provider in providers}


def monitor_job(providers: list[str] | None, replay_folder) -> CrawlJob | None:
    """The change monitor's crawl: every watching provider, or those of `providers` that
    watch anything (None when none does, or replay has no recording of it)."""
    if replay_folder is not None:
        return (_job("change monitor", MONITOR_SPIDER, replay_folder)
                if replay_folder(MONITOR_SPIDER) is not None else None)
    if not providers:
        return CrawlJob("change monitor", MONITOR_SPIDER)
    from atlas_crawl.manifests import all_manifests

    watching = sorted({m.provider for m in all_manifests().values()
                       if m.watch and m.provider in providers})
    return CrawlJob("change monitor", MONITOR_SPIDER,
                    {"provider": ",".join(watching)}) if watching else None


def _golden_folder(golden: Path):
    def folder(spider: str) -> Path | None:
        path = golden / spider
        return path if (path / "golden.json").exists() else None
    return folder


def _job(name: str, spider: str, replay_folder) -> CrawlJob:
    if replay_folder is None:
        return CrawlJob(name, spider)
    from atlas_crawl import PROJECT_DIR
    from atlas_crawl.golden import GoldenCase

    case = GoldenCase.load(replay_folder(spider))
    settings = {"ATLAS_REPLAY": True, "ATLAS_CASSETTE": str(case.folder), **case.settings}
    # Paths in golden.json are relative to the project (`-a manifests=golden/...`); a job run
    # elsewhere (scrapyd, from its unpacked egg) needs them absolute.
    args = {k: str(PROJECT_DIR / v) if isinstance(v, str) and not Path(v).is_absolute()
            and "/" in v and (PROJECT_DIR / v).exists() else v for k, v in case.args.items()}
    return CrawlJob(name, spider, args, settings)


@contextmanager
def update_lock(db: str) -> Iterator[None]:
    """One update of a database at a time (SQLite has one writer); a second one waits."""
    path = Path(f"{db}.update.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another update of {db} to finish ({path})", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def update(db: str, metadata: str = "metadata.yml", sources: list[str] | None = None,
           replay: bool = False, golden: Path | None = None, monitor: bool = True,
           now: datetime | None = None, out=None, scrapyd: str | None = None,
           providers: list[str] | None = None) -> int:
    """Run the monitor, the due/changed/named sources, then publish. Returns the exit code.
    With `scrapyd` (a URL), the crawls are scheduled there instead (scrapyd_schedule.py)."""
    from atlas_crawl.golden import GOLDEN_DIR

    if scrapyd:
        from atlas_crawl.scrapyd_schedule import update_via_scrapyd

        return update_via_scrapyd(scrapyd, db, metadata, sources, replay, golden or GOLDEN_DIR,
                                  out=out, providers=providers)
    out = out or sys.stdout
    db = str(Path(db).resolve())
    replay_folder = _golden_folder(golden or GOLDEN_DIR) if replay else None
    settings = project_settings(ATLAS_DB=db, LOG_LEVEL="WARNING")
    spiders = for_providers(source_spiders(settings), providers)
    unknown = [s for s in sources or [] if s not in spiders]
    if unknown:
        print(f"unknown sources: {', '.join(unknown)} (known: {', '.join(sorted(spiders))})",
              file=out)
        return 2
    decided: dict[str, Planned] = {}
    skipped: list[tuple[str, str]] = []

    def jobs() -> Iterator[CrawlJob]:
        # A generator: the plan is made after the monitor's crawl has finished.
        watch = monitor_job(providers, replay_folder) if monitor else None
        if watch is not None:
            yield watch
        planned, skip = plan(db, spiders, sources, now or datetime.now(UTC), replay_folder)
        skipped.extend(skip)
        for source_id, why in skip:
            print(f"  skipped {source_id}: {why}", file=out, flush=True)
        print(f"{len(planned)} source(s) to crawl", file=out, flush=True)
        for p in planned:
            decided[p.spider] = p
            yield _job(p.source_id, p.spider, replay_folder)

    def on_start(n: int, job: CrawlJob) -> None:
        why = decided[job.spider].reason if job.spider in decided else "what changed upstream"
        print(f"[{n}] {job.name}: started ({job.spider}; {why})", file=out, flush=True)

    def on_end(n: int, result: CrawlResult) -> None:
        line = (f"[{n}] {result.job.name}: {result.status}, {result.rows_received:,} rows "
                f"({result.rows_written:,} changed, {result.rows_quarantined:,} quarantined), "
                f"{result.seconds:.1f} s")
        if result.error:
            line += f": {result.error}"
        print(line, file=out, flush=True)

    with update_lock(db):
        print(f"update of {db}{' (replay of golden recordings)' if replay else ''}", file=out,
              flush=True)
        results = run_crawls(jobs(), settings, on_start=on_start, on_end=on_end)
        published = _publish(db, metadata, out)
    print(summary_table(results), file=out, flush=True)
    for source_id, why in skipped:
        print(f"skipped {source_id}: {why}", file=out)
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"FAILED: {', '.join(r.job.name for r in failed)} (their previous data is kept)",
              file=out, flush=True)
    return 1 if failed or not published else 0


def _publish(db: str, metadata: str, out) -> bool:
    from atlas_crawl.publish import publish

    if not Path(db).exists():
        print("nothing crawled, nothing to publish", file=out)
        return True
    try:
        report = publish(db, metadata)
    except Exception as exc:  # noqa: BLE001 - the crawls are committed; say why publishing failed
        print(f"publishing failed: {type(exc).__name__}: {exc}", file=out, flush=True)
        return False
    print(f"published {report.metadata_path}: {len(report.tables)} tables, {report.sources} "
          f"sources", file=out, flush=True)
    return True
