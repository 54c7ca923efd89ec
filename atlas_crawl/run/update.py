"""`python -m atlas_crawl update`: keep the catalogue fresh in one command.

1. The change watch (`sitemap_watch`) runs first.
2. Every source is crawled that is due by its periodicity (the manifest's `periodicity` against
   its last successful run in `_runs`), that the watch says changed (the `recrawl_needed` view),
   or that was named with `--sources`.
3. The catalogue is published again (atlas_crawl.publish.publish).

All crawls run in one Scrapy process (atlas_crawl/run/runner.py), one after another, each its own run
and transaction: a source that fails keeps its previous data and the others still run. Updates of
one database are serialised by a lock file next to it (`<db>.update.lock`).

`--replay` does the same on the golden recordings (golden/<spider>/), offline.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from atlas_crawl.run.plan import (
    Planned,
    crawl_jobs,
    for_providers,
    golden_folder,
    plan,
    publish_catalogue,
    source_spiders,
    unknown_sources,
    update_lock,
    watch_job,
    watch_skip,
)
from atlas_crawl.run.runner import (
    CrawlJob,
    CrawlResult,
    project_settings,
    run_crawls,
    summary_table,
)


def update(db: str, metadata: str = "metadata.yml", sources: list[str] | None = None,
           replay: bool = False, golden: Path | None = None, watch: bool = True,
           now: datetime | None = None, out=None,
           providers: list[str] | None = None, samples: bool = False) -> int:
    """Run the watch, the due/changed/named sources, then publish. Returns the exit code.
    A replay crawls the golden cases of real captures only; `samples` adds the constructed
    ones (their pages then say they are samples of invented values)."""
    from atlas_crawl.run.golden import GOLDEN_DIR

    out = out or sys.stdout
    db = str(Path(db).resolve())
    replay_folder = golden_folder(golden or GOLDEN_DIR) if replay else None
    settings = project_settings(ATLAS_DB=db, LOG_LEVEL="WARNING")
    spiders = for_providers(source_spiders(settings), providers)
    refusal = unknown_sources(sources, spiders)
    if refusal:
        print(refusal, file=out)
        return 2
    decided: dict[str, Planned] = {}
    skipped: list[tuple[str, str]] = []

    def jobs() -> Iterator[CrawlJob]:
        # A generator: the plan is made after the watch's crawl has finished.
        watch_crawl = watch_job(providers, replay_folder, samples) if watch else None
        if watch_crawl is not None:
            yield watch_crawl
        elif watch and (why := watch_skip(replay_folder, samples)):
            skipped.append(("change watch", why))
            print(f"  skipped change watch: {why}", file=out, flush=True)
        planned, skip = plan(db, spiders, sources, now or datetime.now(UTC), replay_folder,
                             samples)
        skipped.extend(skip)
        for source_id, why in skip:
            print(f"  skipped {source_id}: {why}", file=out, flush=True)
        print(f"{len(planned)} source(s) to crawl", file=out, flush=True)
        for p in planned:
            decided[p.spider] = p
            yield from crawl_jobs(p.source_id, p.spider, replay_folder, samples)

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
        kind = (" (replay of golden recordings: real captures"
                + (" and constructed samples)" if samples else " only)")) if replay else ""
        print(f"update of {db}{kind}", file=out, flush=True)
        results = run_crawls(jobs(), settings, on_start=on_start, on_end=on_end)
        published = publish_catalogue(db, metadata, out)
    print(summary_table(results), file=out, flush=True)
    for source_id, why in skipped:
        print(f"skipped {source_id}: {why}", file=out)
    failed = [r for r in results if not r.ok]
    if failed:
        print(f"FAILED: {', '.join(r.job.name for r in failed)} (their previous data is kept)",
              file=out, flush=True)
    return 1 if failed or not published else 0
