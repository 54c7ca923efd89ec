"""The shipped geography snapshot's Klass tables, built from a Klass crawl.

`scrapy crawl ssb_klass -a refresh_snapshot=1` hands its answers here: :func:`change_kinds`
classifies every code change (split, merged, renumbered, name), :func:`snapshot_problems` says
why a crawl is not complete enough to replace the snapshot, :func:`snapshot_tables` builds the
tables, and :func:`replace_snapshot` writes them only after they load as a Reference.
`python -m atlas_crawl.geo.build_snapshot` builds the same tables from saved captures.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from atlas_crawl.formats.klass import HISTORY_START, Answer, dedupe_changes
from atlas_crawl.geo.reference import Reference
from atlas_crawl.geo.snapshot import (
    DATA_DIR,
    KLASS_TABLES,
    SCHEMAS,
    classify_changes,
    from_klass,
    write_table,
)


def change_kinds(answers: Sequence[Answer]) -> dict[tuple, str]:
    """kind per (classification, changed_on, old, new): split, merged, renumbered, or name
    (same code, new name). A same-code row is a merge when other codes join it that day
    (Våle 0716 + Ramnes 0718 -> Re 0716)."""
    starts: dict[tuple[str, str], str] = {}
    for ask, rows in answers:
        if ask.kind == "codes":
            for r in rows:
                k = (ask.classification, r["code"])
                starts[k] = min(starts.get(k, r["valid_from"] or ""), r["valid_from"] or "")
    rows_by_cid: dict[str, list[dict]] = defaultdict(list)
    for ask, rows in answers:
        if ask.kind == "changes":
            rows_by_cid[ask.classification].extend(rows)
    kinds: dict[tuple, str] = {}
    for cid, rows in rows_by_cid.items():
        rows = [dict(r, level=cid) for r in dedupe_changes(rows)
                if r["old_code"] and r["new_code"]]
        joined = defaultdict(set)
        for r in rows:
            joined[(r["changed_on"], r["new_code"])].add(r["old_code"])
        moved = [r for r in rows if r["old_code"] != r["new_code"]
                 or len(joined[(r["changed_on"], r["new_code"])]) > 1]
        existed = {(r["new_code"], r["changed_on"]) for r in moved
                   if starts.get((cid, r["new_code"]), "9999") < r["changed_on"]}
        classify_changes(moved, existed)
        for r in rows:
            kinds[(cid, r["changed_on"], r["old_code"], r["new_code"])] = r.get("kind", "name")
    return kinds


def _full_codes(answers: Sequence[Answer], cid: str) -> Answer | None:
    """The first ``codes`` answer for ``cid`` from :data:`HISTORY_START` with an open end."""
    full = [(a, rows) for a, rows in answers
            if a.kind == "codes" and a.classification == cid and a.end is None
            and (a.start or "") <= HISTORY_START]
    return full[0] if full else None


def snapshot_problems(answers: Sequence[Answer], today: date) -> list[str]:
    """Why ``answers`` cannot replace the snapshot's Klass tables (empty: they can): 131 and
    104 codes from :data:`HISTORY_START` with an open end, and their changes for every year
    since, up to ``today``."""
    problems = []
    for cid in ("131", "104"):
        full = _full_codes(answers, cid)
        if full is None:
            problems.append(f"no {cid} codes from {HISTORY_START} with an open end")
            continue
        # an Ask without a start asks from HISTORY_START (see Ask.url)
        first = int((full[0].start or HISTORY_START)[:4]) + 1
        years = {int(a.end[:4]) for a, _ in answers
                 if a.kind == "changes" and a.classification == cid and a.end}
        missing = sorted(set(range(first, today.year + 1)) - years)
        if missing:
            problems.append(f"{cid} changes missing for {len(missing)} year(s), e.g. "
                            f"{missing[:3]}")
    return problems


def snapshot_tables(answers: Sequence[Answer], today: date) -> dict[str, list[dict]]:
    """The snapshot's Klass tables (``fylker``, ``kommuner``, ``changes``) from a crawl that
    :func:`snapshot_problems` found complete."""
    codes = {cid: _full_codes(answers, cid)[1] for cid in ("131", "104")}
    changes = {cid: dedupe_changes(
        r for a, rows in answers if a.kind == "changes" and a.classification == cid
        for r in rows) for cid in ("131", "104")}
    source = f"klass:{{}} codes from {HISTORY_START}, fetched {today.isoformat()}"
    return from_klass(codes["131"], codes["104"], changes["131"], changes["104"],
                      source.format("131/104"))


def replace_snapshot(tables: dict[str, list[dict]], header: str,
                     target: Path | None = None) -> str | None:
    """Write the Klass tables into `target` (default: the shipped snapshot) beside the curated
    ones, only if the new set loads; returns why not, or None when written."""
    target = target or DATA_DIR
    with tempfile.TemporaryDirectory() as tmp:
        for name in KLASS_TABLES:
            write_table(name, tables[name], header, Path(tmp))
        for name in sorted(set(SCHEMAS) - set(KLASS_TABLES)):  # the curated tables
            src = target / f"{name}.csv"
            if not src.exists():
                src = DATA_DIR / f"{name}.csv"
            (Path(tmp) / f"{name}.csv").write_bytes(src.read_bytes())
        try:
            Reference(Path(tmp))  # the new tables must load before they replace the old
        except ValueError as exc:
            return f"the crawled tables do not load ({exc})"
        target.mkdir(parents=True, exist_ok=True)
        for name in KLASS_TABLES:
            (target / f"{name}.csv").write_bytes((Path(tmp) / f"{name}.csv").read_bytes())
    return None
