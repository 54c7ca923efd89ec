"""What an update crawls, and the steps every way of running it shares.

`update` (in one process) and `update --scrapyd` (crawls run by scrapyd) both take their plan
from here: the change watch first, then every source that is due by its periodicity (its
manifest's against its last successful run in `_runs`), that the watch says changed (the
`recrawl_needed` view), or that was named; one update of a database at a time; publishing at
the end.
"""

from __future__ import annotations

import fcntl
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from atlas_crawl.run.runner import CrawlJob

WATCH_SPIDER = "sitemap_watch"


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
        if source_id and source_id != WATCH_SPIDER:
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
        return {}  # the watch never ran on this database
    finally:
        conn.close()


def _due(db: str, now: datetime) -> dict[str, str]:
    """source id -> why it is due, for every manifest whose periodicity says so."""
    from atlas_crawl.manifests import all_manifests
    from atlas_crawl.store.ledger import freshness, runs_by_source

    runs: dict[str, list[dict]] = {}
    if Path(db).exists():
        conn = sqlite3.connect(db)
        try:
            runs = runs_by_source(conn)
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


SAMPLE_SKIP = "constructed fixture, not a statistic: left out; --samples puts it in"


def replay_skip(folder: Path, samples: bool) -> str | None:
    """Why a golden case is left out of a replayed catalogue, or None: only real captures are
    replayed into it (their golden.json says `"data_origin": "capture"`), unless `samples`."""
    if samples:
        return None
    try:
        origin = json.loads((folder / "golden.json").read_text(encoding="utf-8")).get(
            "data_origin")
    except ValueError as exc:
        return f"{folder.name}/golden.json is not valid JSON ({exc}): left out"
    if origin == "capture":
        return None
    if origin == "constructed":
        return SAMPLE_SKIP
    return (f"golden/{folder.name}/golden.json declares no data_origin, so it is not known to "
            "be a statistic: left out; --samples puts it in")


def plan(db: str, spiders: dict[str, type], named: list[str] | None, now: datetime,
         replay_folder=None, samples: bool = False) -> tuple[list[Planned], list[tuple[str, str]]]:
    """What to crawl (one entry per spider) and what is skipped, with reasons. A replay crawls
    real captures only unless `samples` (see replay_skip)."""
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
        if replay_folder is not None:
            cases = replay_folder.cases(cls.name)
            if not cases:
                skipped.append((source_id, f"no recording in golden/{cls.name}/"))
                continue
            kept = [c for c in cases if not replay_skip(c, samples)]
            if not kept:
                skipped.append((source_id, replay_skip(cases[0], samples)))
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


def watch_job(providers: list[str] | None, replay_folder,
              samples: bool = False) -> CrawlJob | None:
    """The change watch's crawl: every watching provider, or those of `providers` that
    watch anything (None when none does, or replay has no recording of it, or its recording is
    constructed and `samples` is not asked for)."""
    if replay_folder is not None:
        folder = replay_folder(WATCH_SPIDER)
        if folder is None or replay_skip(folder, samples):
            return None
        return crawl_job("change watch", WATCH_SPIDER, replay_folder)
    if not providers:
        return CrawlJob("change watch", WATCH_SPIDER)
    from atlas_crawl.manifests import all_manifests

    watching = sorted({m.provider for m in all_manifests().values()
                       if m.watch and m.provider in providers})
    return CrawlJob("change watch", WATCH_SPIDER,
                    {"provider": ",".join(watching)}) if watching else None


def watch_skip(replay_folder, samples: bool) -> str | None:
    """Why a replay leaves the change watch out (its recording is constructed), or None."""
    if replay_folder is None or replay_folder(WATCH_SPIDER) is None:
        return None
    return replay_skip(replay_folder(WATCH_SPIDER), samples)


def golden_folder(golden: Path) -> GoldenRecordings:
    return GoldenRecordings(golden)


class GoldenRecordings:
    """The recordings a replayed update crawls: `golden/<spider>/` (the spider's own case, None
    when it has none) and, after it, the extra cases of that spider (`extra(spider)`). The
    golden cases are read once, when an extra case is first asked for."""

    def __init__(self, golden: Path):
        self.root = Path(golden)
        self._extra: dict[str, list[Path]] | None = None

    def __call__(self, spider: str) -> Path | None:
        path = self.root / spider
        return path if (path / "golden.json").exists() else None

    def extra(self, spider: str) -> list[Path]:
        if self._extra is None:
            self._extra = extra_replay_index(self.root)
        return self._extra.get(spider, [])

    def cases(self, spider: str) -> list[Path]:
        """Every recording of the spider: its own case first, then the extra ones."""
        own = self(spider)
        return ([own] if own is not None else []) + self.extra(spider)


def extra_replay_index(root: Path) -> dict[str, list[Path]]:
    """spider -> the other recordings a replayed update crawls for it: golden folders whose
    golden.json names the spider and says `"update_replay": true`, by name (the Valgresultat
    archive, one election a folder; the real NAV workbooks, which no `golden/nav_workbook/`
    replays)."""
    import json

    index: dict[str, list[Path]] = {}
    for spec in sorted(Path(root).glob("*/golden.json")):
        try:
            data = json.loads(spec.read_text(encoding="utf-8"))
        except ValueError:
            continue  # the golden test names a broken golden.json
        spider = data.get("spider")
        if data.get("update_replay") is True and spider and spec.parent.name != spider:
            index.setdefault(spider, []).append(spec.parent)
    return index


def extra_replay_cases(root: Path, spider: str) -> list[Path]:
    """The other recordings a replayed update crawls for one spider (extra_replay_index)."""
    return extra_replay_index(root).get(spider, [])


def crawl_jobs(name: str, spider: str, replay_folder, samples: bool = False) -> list[CrawlJob]:
    """A planned source's crawls: one live, or in replay its recording and the extra ones that
    are real captures (constructed ones too with `samples`)."""
    if replay_folder is None:
        return [CrawlJob(name, spider)]
    return [_replay_job(name if folder.name == spider else f"{name} ({folder.name})", spider,
                        folder)
            for folder in replay_folder.cases(spider) if not replay_skip(folder, samples)]


def crawl_job(name: str, spider: str, replay_folder) -> CrawlJob:
    if replay_folder is None:
        return CrawlJob(name, spider)
    return _replay_job(name, spider, replay_folder(spider))


def _replay_job(name: str, spider: str, folder: Path) -> CrawlJob:
    from atlas_crawl import PROJECT_DIR
    from atlas_crawl.run.golden import GoldenCase

    case = GoldenCase.load(folder)
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



def publish_catalogue(db: str, metadata: str, out) -> bool:
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


def unknown_sources(named: list[str] | None, spiders: dict[str, type]) -> str | None:
    """One line refusing the named sources that no spider crawls, with the nearest known name;
    None when every named source is known. The same rule for every way of running an update."""
    import difflib

    unknown = [s for s in named or [] if s not in spiders]
    if not unknown:
        return None
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, list(spiders), n=1)
        hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return f"unknown sources: {', '.join(hints)}; run `scrapy list` for the known ones"
