"""What `scrapy crawl` says before and after a run, in one line each.

Before: a command line that cannot work (unknown spider, misspelt or unusable argument, a
missing -a file, an ATLAS_DB that is not SQLite) is refused with what was wrong and what is
expected, and no crawl starts. After: a run that failed ends with one closing line saying why
and that the previous data was kept.
"""

from __future__ import annotations

import os
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"


def database_problem(path: str) -> str | None:
    """ATLAS_DB must be an SQLite file or not exist yet (an empty file is fine too)."""
    if not path or path == ":memory:":
        return None
    p = Path(path).expanduser()
    if p.is_dir():
        return f"ATLAS_DB={path} is a folder; expected an SQLite database file"
    folder = p.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"ATLAS_DB={path} cannot be created: {folder} is a file, not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):  # SQLite writes its journal beside the file
        return (f"ATLAS_DB={path} cannot be written: the folder {folder} is not writable; "
                "choose another path or fix its permissions")
    if p.exists() and not os.access(p, os.W_OK):
        return f"ATLAS_DB={path} is read-only; choose another path or fix its permissions"
    if not p.exists() or p.stat().st_size == 0:
        return None
    with open(p, "rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head != SQLITE_MAGIC:
        return (f"ATLAS_DB={path} is not an SQLite database; point it at an atlas_crawl "
                "database or a new file")
    return None


def record_refused(settings, spider: str, spargs: dict, problem: str) -> str | None:
    """A refused command line as a run in `_runs` (status `refused`, the reason as its error),
    for a job that was scheduled (scrapyd): its log may not be read, the ledger is. Nothing is
    written when the database itself is what is wrong. Returns the run id, or None."""
    import logging

    from atlas_crawl.store.writes import Store

    path = settings.get("ATLAS_DB", "")
    if not path or path == ":memory:" or database_problem(path):
        return None
    arguments = {k: v for k, v in spargs.items() if not k.startswith("_")}
    try:
        store = Store(path)
        try:
            run_id = store.start_run(spider, arguments)
            store.finish_run(run_id, status="refused", source_ids=(), received=0, written=0,
                             quarantined=0, error=f"refused: {problem}")
        finally:
            store.close()
    except Exception as exc:  # noqa: BLE001 - the refusal is said in the log in any case
        logging.getLogger("atlas_crawl").warning("the refusal could not be recorded in %s: %s",
                                                 path, exc)
        return None
    return run_id


def closing_line(crawler) -> str | None:
    """One line for a run that did not end ok, or None when it did."""
    status = getattr(crawler, "atlas_run_status", "ok")
    unreachable = getattr(crawler, "atlas_unreachable", {})
    if status == "ok":
        incomplete = dict(getattr(crawler, "atlas_incomplete", {}))
        for host in unreachable:
            incomplete.setdefault(host, "cannot be reached (no network?)")
        if not incomplete:
            return None
        return ("INCOMPLETE: the run is recorded, but these could not be read in full: "
                + "; ".join(f"{k}: {v}" for k, v in sorted(incomplete.items())))
    if unreachable:
        hosts = ", ".join(sorted(unreachable))
        return (f"FAILED: cannot reach {hosts} (no network?); previous data kept; "
                "try -s ATLAS_REPLAY=1")
    error = getattr(crawler, "atlas_run_error", None) or f"the run ended {status}"
    if status == "refused":
        return f"REFUSED: {error}; nothing was written"
    return f"FAILED: {error}; previous data kept"
