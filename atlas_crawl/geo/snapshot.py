"""The reference snapshot shipped in ``atlas_crawl/geo/data/``: its CSV schema, reader and writer.

Three files follow Klass's own shape and can be rewritten from a Klass crawl
(``scrapy crawl ssb_klass -a refresh_snapshot=1``):

- ``fylker.csv``    code, name, valid_from, valid_to, source
- ``kommuner.csv``  code, name, valid_from, valid_to, source   (one row per name version)
- ``changes.csv``   changed_on, level, old_code, old_name, new_code, new_name, kind, source

The others are curated by hand and never overwritten by a crawl:

- ``bydeler.csv``               code, name, kommune, valid_from, valid_to, source
- ``bydel_changes.csv``         changed_on, old_code, new_code, kind, source
- ``oslo_service_bydeler.csv``  bydel_number, name, husbanken_code, geographic_code, certainty, note
- ``special_codes.csv``         code, level, status, name, note
- ``aliases.csv``               alias, code, level, note
- ``territory.csv``             code, valid_to, current, status, source (ground that maps more
                                exactly than the code history: pre-2020 Haram is today's 1580)

Dates are ISO ``YYYY-MM-DD``; ``valid_to`` is exclusive; an empty ``valid_from`` means "valid since
before the snapshot's horizon", an empty ``valid_to`` means "still valid".
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")

SCHEMAS: dict[str, tuple[str, ...]] = {
    "fylker": ("code", "name", "valid_from", "valid_to", "source"),
    "kommuner": ("code", "name", "valid_from", "valid_to", "source"),
    "changes": ("changed_on", "level", "old_code", "old_name", "new_code", "new_name", "kind",
                "source"),
    "bydeler": ("code", "name", "kommune", "valid_from", "valid_to", "source"),
    "bydel_changes": ("changed_on", "old_code", "new_code", "kind", "source"),
    "oslo_service_bydeler": ("bydel_number", "name", "husbanken_code", "geographic_code",
                             "certainty", "note"),
    "special_codes": ("code", "level", "status", "name", "note"),
    "aliases": ("alias", "code", "level", "note"),
    "territory": ("code", "valid_to", "current", "status", "source"),
}
KLASS_TABLES = ("fylker", "kommuner", "changes")


def read_table(name: str, data_dir: Path | None = None) -> list[dict[str, str | None]]:
    """Rows of one snapshot table; empty cells become ``None``. Lines starting ``#`` are comments."""
    path = (data_dir or DATA_DIR) / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    reader = csv.DictReader(lines)
    expected = list(SCHEMAS[name])
    if reader.fieldnames != expected:
        raise ValueError(f"{path}: header {reader.fieldnames} is not {expected}")
    return [{k: (v if v != "" else None) for k, v in row.items()} for row in reader]


def write_table(
    name: str,
    rows: Iterable[Mapping[str, object]],
    header_comment: str,
    data_dir: Path | None = None,
) -> Path:
    """Write one table, with a ``#`` comment block that says where the rows came from."""
    path = (data_dir or DATA_DIR) / f"{name}.csv"
    buf = io.StringIO()
    for line in header_comment.strip().splitlines():
        buf.write(f"# {line}".rstrip() + "\n")
    writer = csv.DictWriter(buf, fieldnames=SCHEMAS[name], lineterminator="\n",
                            extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in SCHEMAS[name]})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def classify_changes(rows: list[dict], existed_before: set[tuple[str, str]] | None = None) -> None:
    """Fill ``kind`` on change rows in place: ``split``, ``merged`` or ``renumbered``.

    ``existed_before`` holds ``(code, changed_on)`` pairs for target codes that were already in
    use before the change (a kommune absorbing another keeps its code: Klæbu -> Trondheim 5001).
    """
    existed_before = existed_before or set()
    outgoing: dict[tuple, set] = defaultdict(set)
    incoming: dict[tuple, set] = defaultdict(set)
    for r in rows:
        outgoing[(r["level"], r["changed_on"], r["old_code"])].add(r["new_code"])
        incoming[(r["level"], r["changed_on"], r["new_code"])].add(r["old_code"])
    for r in rows:
        key_out = (r["level"], r["changed_on"], r["old_code"])
        key_in = (r["level"], r["changed_on"], r["new_code"])
        if len(outgoing[key_out]) > 1:
            r["kind"] = "split"
        elif len(incoming[key_in]) > 1 or (r["new_code"], r["changed_on"]) in existed_before:
            r["kind"] = "merged"
        else:
            r["kind"] = "renumbered"


def from_klass(
    kommune_codes: list[dict],
    fylke_codes: list[dict],
    kommune_changes: list[dict],
    fylke_changes: list[dict],
    source: str,
) -> dict[str, list[dict]]:
    """Snapshot tables from a complete Klass crawl (the ``refresh_snapshot`` path of the spider).

    ``*_codes`` are :func:`atlas_crawl.formats.klass.parse_codes` rows over the whole range
    (131 from 1950, 104 from 1950), ``*_changes`` the de-duplicated ``changes`` rows.
    Special codes Klass lists in 131 (``9999``) stay out: they live in ``special_codes.csv``.
    """
    def versions(rows: list[dict]) -> list[dict]:
        out = []
        for r in sorted(rows, key=lambda r: (r["code"], r["valid_from"] or "")):
            if r["code"] in ("9999", "99"):
                continue
            out.append({"code": r["code"], "name": r["name"], "valid_from": r["valid_from"],
                        "valid_to": r["valid_to"], "source": source})
        return out

    kommuner = versions(kommune_codes)
    fylker = versions(fylke_codes)
    first_start: dict[str, str] = {}
    for r in kommuner + fylker:
        start = r["valid_from"] or ""
        first_start[r["code"]] = min(first_start.get(r["code"], start), start)
    changes = []
    for level, rows in (("fylke", fylke_changes), ("kommune", kommune_changes)):
        joined: dict[tuple, set] = defaultdict(set)
        for r in rows:
            joined[(r["changed_on"], r["new_code"])].add(r["old_code"])
        for r in rows:
            if not r["old_code"] or not r["new_code"]:
                continue  # births/deaths have no edge
            if r["old_code"] == r["new_code"] and len(joined[(r["changed_on"],
                                                              r["new_code"])]) < 2:
                continue  # a name change: it lives in the version rows
            # a same-code row with others joining is a merge that kept the code (Re 0716)
            changes.append({"changed_on": r["changed_on"], "level": level,
                            "old_code": r["old_code"], "old_name": r["old_name"],
                            "new_code": r["new_code"], "new_name": r["new_name"],
                            "kind": None, "source": source})
    existed = set()
    for r in changes:
        # the target code already existed if a version of it started before the change
        start = first_start.get(r["new_code"])
        if start is not None and start < r["changed_on"]:
            existed.add((r["new_code"], r["changed_on"]))
    classify_changes(changes, existed)
    changes.sort(key=lambda r: (r["changed_on"], r["level"], r["old_code"], r["new_code"]))
    return {"fylker": fylker, "kommuner": kommuner, "changes": changes}
