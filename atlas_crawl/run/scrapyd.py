"""`python -m atlas_crawl update --scrapyd URL`: the same update, with the crawls run by scrapyd.

The change watch is scheduled first (schedule.json) and waited for (listjobs.json); then every
source that is due, changed or named (atlas_crawl/run/update.py decides, from the database) is
scheduled, and when all jobs have finished the catalogue is published here. scrapyd runs the
jobs one at a time (`max_proc = 1` in deploy/scrapyd.conf: one SQLite writer), each its own run in
`_runs`, so the database path must be the same file for scrapyd and for this command (same
machine, or a shared volume mounted at the same path).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from atlas_crawl.run.plan import (
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
from atlas_crawl.run.runner import CrawlJob, CrawlResult, project_settings, summary_table

PROJECT = "atlas_crawl"


class ScrapydError(RuntimeError):
    """scrapyd cannot be reached or refused a call; the message is one line."""


class Scrapyd:
    def __init__(self, url: str, project: str = PROJECT, timeout: float = 30):
        self.url = url.rstrip("/")
        self.project = project
        self.timeout = timeout

    def _call(self, path: str, data: list[tuple[str, str]] | None = None) -> dict:
        if data is None:
            request = urllib.request.Request(
                f"{self.url}/{path}?{urllib.parse.urlencode({'project': self.project})}")
        else:
            request = urllib.request.Request(f"{self.url}/{path}",
                                             data=urllib.parse.urlencode(data).encode())
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                body = json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise ScrapydError(f"scrapyd at {self.url}: {path} answered HTTP {exc.code} "
                               f"({exc.reason})") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ScrapydError(f"scrapyd at {self.url} cannot be reached ({reason}): is it "
                               "running, is the URL right") from None
        except ValueError:
            raise ScrapydError(f"scrapyd at {self.url}: {path} did not answer JSON (is it a "
                               "scrapyd)") from None
        if not isinstance(body, dict) or body.get("status") != "ok":
            message = body.get("message", body) if isinstance(body, dict) else body
            last = (str(message).strip().splitlines() or [""])[-1]
            raise ScrapydError(f"scrapyd at {self.url}: {path}: {last}")
        return body

    def check(self) -> None:
        """Raise ScrapydError unless the daemon answers (before anything is scheduled)."""
        self._call("daemonstatus.json")

    def schedule(self, spider: str, settings: dict[str, str], args: dict[str, str]) -> str:
        data = [("project", self.project), ("spider", spider)]
        data += [("setting", f"{k}={v}") for k, v in settings.items()]
        data += list(args.items())
        return self._call("schedule.json", data)["jobid"]

    def wait(self, jobs: list[str], timeout: float, poll: float = 2.0) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        while True:
            finished = {j["id"]: j for j in self._call("listjobs.json")["finished"]}
            if all(job in finished for job in jobs):
                return finished
            if time.monotonic() > deadline:
                raise ScrapydError(f"scrapyd jobs not finished after {timeout:.0f} s: "
                                   f"{[j for j in jobs if j not in finished]}")
            time.sleep(poll)


def _run_of(db: str, spider: str, since: str, taken: set[str] | None = None) -> dict:
    """The run a job made: the first run of its spider that started at or after `since` and is
    not `taken` by an earlier job of the same spider (a source replayed from several
    recordings schedules its spider several times)."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        for row in conn.execute("SELECT * FROM _runs WHERE spider = ? AND started >= ? "
                                "ORDER BY started, rowid", (spider, since)):
            if row["run_id"] not in (taken or set()):
                return dict(row)
        return {}
    except sqlite3.Error:
        return {}
    finally:
        conn.close()


def _result(job: CrawlJob, run: dict, seconds: float) -> CrawlResult:
    monitors = run.get("monitors")
    ok = run.get("status") == "ok"
    return CrawlResult(job, "ok" if ok else "failed", seconds, run.get("run_id"),
                       run.get("rows_received") or 0, run.get("rows_written") or 0,
                       run.get("rows_quarantined") or 0,
                       run.get("error") or (None if ok else "the job left no run in _runs "
                                            "(see its log in scrapyd)"),
                       json.loads(monitors) if monitors else [])


def update_via_scrapyd(url: str, db: str, metadata: str, sources: list[str] | None,
                       replay: bool, golden: Path, timeout: float = 6 * 3600, out=None,
                       providers: list[str] | None = None, samples: bool = False) -> int:
    out = out or sys.stdout
    db = str(Path(db).resolve())
    client = Scrapyd(url)
    settings = {"ATLAS_DB": db}
    replay_folder = golden_folder(golden) if replay else None
    spiders = for_providers(source_spiders(project_settings()), providers)
    refusal = unknown_sources(sources, spiders)
    if refusal:
        print(refusal, file=out)
        return 2
    try:
        client.check()
        return _update(client, url, db, metadata, sources, spiders, settings, replay_folder,
                       timeout, out, providers, samples)
    except ScrapydError as exc:
        print(f"FAILED: {exc}; nothing more is scheduled and the stored data stays as it was",
              file=out, flush=True)
        return 1


def _update(client: Scrapyd, url: str, db: str, metadata: str, sources: list[str] | None,
            spiders: dict[str, type], settings: dict[str, str], replay_folder, timeout: float,
            out, providers: list[str] | None, samples: bool) -> int:
    results: list[CrawlResult] = []

    def run_jobs(jobs: list[CrawlJob]) -> None:
        since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        ids = {}
        for job in jobs:
            job_settings = {**settings, **{k: str(v) for k, v in job.settings.items()}}
            ids[client.schedule(job.spider, job_settings, job.args)] = job
            print(f"scheduled {job.name} ({job.spider}) on {url}", file=out, flush=True)
        finished = client.wait(list(ids), timeout)
        taken: set[str] = set()
        for job_id, job in ids.items():
            info = finished[job_id]
            seconds = _seconds(info.get("start_time"), info.get("end_time"))
            run = _run_of(db, job.spider, since, taken)
            taken.add(run.get("run_id"))
            result = _result(job, run, seconds)
            results.append(result)
            print(f"{job.name}: {result.status}, {result.rows_received:,} rows "
                  f"({result.rows_written:,} changed), {seconds:.1f} s"
                  + (f": {result.error}" if result.error else ""), file=out, flush=True)

    with update_lock(db):
        print(f"update of {db} through scrapyd at {url}", file=out, flush=True)
        watch = watch_job(providers, replay_folder, samples)
        if watch is not None:
            run_jobs([watch])
        elif why := watch_skip(replay_folder, samples):
            print(f"  skipped change watch: {why}", file=out, flush=True)
        planned, skipped = plan(db, spiders, sources, datetime.now(UTC), replay_folder, samples)
        for source_id, why in skipped:
            print(f"  skipped {source_id}: {why}", file=out, flush=True)
        if planned:
            run_jobs([job for p in planned
                      for job in crawl_jobs(p.source_id, p.spider, replay_folder, samples)])
        published = publish_catalogue(db, metadata, out)
    print(summary_table(results), file=out, flush=True)
    return 1 if any(not r.ok for r in results) or not published else 0


def _seconds(start: str | None, end: str | None) -> float:
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except (TypeError, ValueError):
        return 0.0
