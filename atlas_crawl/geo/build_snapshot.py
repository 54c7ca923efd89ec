"""Rebuild the Klass-shaped snapshot tables from the real captures, FHI's table and the reforms.

    python -m atlas_crawl.geo.build_snapshot ../shared/realdata

writes ``atlas_crawl/geo/data/{fylker,kommuner,changes}.csv`` and prints every disagreement it
found between the inputs. Authority, highest first:

1. SSB Klass captures in ``<realdata>/ssb_klass/`` (131 on 2023-03-02 and from 2024-01-01;
   the 104->131 correspondence 2018-01-01..2020-01-02, which lists every kommune with its name and
   exact validity in 2018, 2019 and on 2020-01-01; 104 codes and changes around 2020 and 2024).
2. The reform facts in ``PUBLIC_KNOWLEDGE`` below (fylke changes of 2018 and 2024 and older
   changes neither source covers), each with its reason.
3. FHI's curated lifetime table ``<realdata>/geo_reference/csdata_norway_locations.xlsx``
   (kommune code lifetimes and successors since ~2006; its split weights are not used).
4. Klass 131's own history in ``<realdata>/ssb_klass/``: its ``changes`` from 1971-01-01 to
   2025-01-02 and its versions 1971-2006, for the kommune codes FHI's table does not know (given
   up by 2006): their names, lifetimes and where they went.

A kommune lifetime that FHI starts before 1960 gets an empty ``valid_from``: the snapshot does not
claim when such a code was introduced. A live Klass crawl replaces all three tables with Klass's
own validity periods (``scrapy crawl ssb_klass -a refresh_snapshot=1``).
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from atlas_crawl.formats import klass
from atlas_crawl.geo.snapshot import classify_changes, write_table

CAPTURE_131_2023 = "ssb_klass/klass_131_codesAt_2023-03-02.json"
CAPTURE_131_2024 = "ssb_klass/klass_131_codes_from2024-01-01.json"
CAPTURE_104_131 = "ssb_klass/klass_104_corresponds_target131_from2018-01-01_to2020-01-02.json"
CAPTURE_104_2018 = "ssb_klass/klass_104_codes_from2018-01-01_to2020-01-02.json"
CAPTURE_104_2024 = "ssb_klass/klass_104_codes_from2024-01-01.json"
CAPTURE_104_CHANGES = "ssb_klass/klass_104_changes_from2019-01-01_to2020-01-02.json"
CAPTURE_131_CHANGES = "ssb_klass/klass_131_changes_from1971-01-01_to2025-01-02.json"
CAPTURE_131_VERSIONS = "ssb_klass/klass_131_version_Kommuneinndeling_*.json"
CSDATA = "geo_reference/csdata_norway_locations.xlsx"

SRC_K18 = "klass:104->131 2018-01-01..2020-01-02"
SRC_K23 = "klass:131 codesAt 2023-03-02"
SRC_K24 = "klass:131 codes from 2024-01-01"
SRC_CS = "fhi:csdata norway_locations"
SRC_PK = "public knowledge"
SRC_NOTES = "klass:131 notes in codesAt 2023-03-02"
SRC_KH = "klass:131 changes 1971-01-01..2025-01-02"
SRC_KV = "klass:131 versions 1971-2006"

# Fylker. Klass captures give 2018-2020 (with exact name changes) and 2024; the rest is the
# public record of the 2018 (Trøndelag), 2020 and 2024 county reforms.
FYLKER = [
    # code, name, valid_from, valid_to, source
    ("01", "Østfold", None, "2020-01-01", SRC_K18),
    ("02", "Akershus", None, "2020-01-01", SRC_K18),
    ("03", "Oslo", None, None, f"{SRC_K18}; klass:104 codes from 2024-01-01"),
    ("04", "Hedmark", None, "2020-01-01", SRC_K18),
    ("05", "Oppland", None, "2020-01-01", SRC_K18),
    ("06", "Buskerud", None, "2020-01-01", SRC_K18),
    ("07", "Vestfold", None, "2020-01-01", SRC_K18),
    ("08", "Telemark", None, "2020-01-01", SRC_K18),
    ("09", "Aust-Agder", None, "2020-01-01", SRC_K18),
    ("10", "Vest-Agder", None, "2020-01-01", SRC_K18),
    ("11", "Rogaland", None, None, f"{SRC_K18}; klass:104 codes from 2024-01-01"),
    ("12", "Hordaland", None, "2020-01-01", SRC_K18),
    ("13", "Bergen", None, "1972-01-01", f"{SRC_PK}: Bergen joined Hordaland in 1972"),
    ("14", "Sogn og Fjordane", None, "2020-01-01", SRC_K18),
    ("15", "Møre og Romsdal", None, None, f"{SRC_K18}; klass:104 codes from 2024-01-01"),
    ("16", "Sør-Trøndelag", None, "2018-01-01", f"{SRC_PK}: Trøndelag formed 2018-01-01"),
    ("17", "Nord-Trøndelag", None, "2018-01-01", f"{SRC_PK}: Trøndelag formed 2018-01-01"),
    ("18", "Nordland", None, "2020-01-01", SRC_K18),
    ("18", "Nordland - Nordlánnda", "2020-01-01", None,
     f"{SRC_K18}; klass:104 codes from 2024-01-01"),
    ("19", "Troms - Romsa", None, "2020-01-01", SRC_K18),
    ("20", "Finnmark - Finnmárku", None, "2020-01-01", SRC_K18),
    ("30", "Viken", "2020-01-01", "2024-01-01", f"{SRC_K18}; split 2024 per {SRC_NOTES}"),
    ("31", "Østfold", "2024-01-01", None, "klass:104 codes from 2024-01-01"),
    ("32", "Akershus", "2024-01-01", None, "klass:104 codes from 2024-01-01"),
    ("33", "Buskerud", "2024-01-01", None, "klass:104 codes from 2024-01-01"),
    ("34", "Innlandet", "2020-01-01", None, f"{SRC_K18}; klass:104 codes from 2024-01-01"),
    ("38", "Vestfold og Telemark", "2020-01-01", "2024-01-01",
     f"{SRC_K18}; split 2024 per {SRC_NOTES}"),
    ("39", "Vestfold", "2024-01-01", None, "klass:104 codes from 2024-01-01"),
    ("40", "Telemark", "2024-01-01", None, "klass:104 codes from 2024-01-01"),
    ("42", "Agder", "2020-01-01", None, f"{SRC_K18}; klass:104 codes from 2024-01-01"),
    ("46", "Vestland", "2020-01-01", None, f"{SRC_K18}; klass:104 codes from 2024-01-01"),
    ("50", "Trøndelag", "2018-01-01", "2020-01-01", SRC_K18),
    ("50", "Trøndelag - Trööndelage", "2020-01-01", None,
     f"{SRC_K18}; klass:104 codes from 2024-01-01"),
    ("54", "Troms og Finnmark - Romsa ja Finnmárku - Tromssa ja Finmarkku", "2020-01-01",
     "2024-01-01", f"{SRC_K18}; split 2024 per {SRC_NOTES}"),
    ("55", "Troms - Romsa - Tromssa", "2024-01-01", None, "klass:104 codes from 2024-01-01"),
    ("56", "Finnmark - Finnmárku - Finmarkku", "2024-01-01", None,
     "klass:104 codes from 2024-01-01"),
]

# Fylke code changes no changes capture holds (the 2020 ones come from the changes capture).
# The 2024 splits are stated in Klass's own notes on the kommuner in the 131 codesAt 2023-03-02
# capture ("I 2024 ble 30 Viken delt i 31 Østfold, 32 Akershus og 33 Buskerud."); crosscheck()
# reads those notes back and compares.
PUBLIC_KNOWLEDGE_FYLKE_CHANGES = [
    ("1972-01-01", "13", "12", f"{SRC_PK}: Bergen joined Hordaland"),
    ("2018-01-01", "16", "50", f"{SRC_PK}: Trøndelag formed"),
    ("2018-01-01", "17", "50", f"{SRC_PK}: Trøndelag formed"),
    ("2024-01-01", "30", "31", SRC_NOTES),
    ("2024-01-01", "30", "32", SRC_NOTES),
    ("2024-01-01", "30", "33", SRC_NOTES),
    ("2024-01-01", "38", "39", SRC_NOTES),
    ("2024-01-01", "38", "40", SRC_NOTES),
    ("2024-01-01", "54", "55", SRC_NOTES),
    ("2024-01-01", "54", "56", SRC_NOTES),
]

# FHI writes some Sámi names without the spaces Klass uses; Klass's spelling wins.
CSDATA_NAME_FIXES = {
    "Snåase-Snåsa": "Snåase - Snåsa",
    "Raarvihke-Røyrvik": "Raarvihke - Røyrvik",
}

# FHI's table starts here; kommune codes given up before it come from the Klass history.
HORIZON = "2006-01-01"
# The Klass history (changes and versions) starts here.
KLASS_HORIZON = "1971-01-01"

# Klass 131 gives no date for these name changes; the dates below are 1 January of the year the
# new name is first seen, and the source column says so.
APPROX_NAME_NOTE = "name change date not in the captures; set to 1 January of the first year seen"


_SPLIT_NOTE = re.compile(r"I 2024 ble (?P<old>\d{2,4}) [^.]*? delt i (?P<into>[^.]*)\.")


def _load_json(root: Path, rel: str) -> dict:
    return json.loads((root / rel).read_text(encoding="utf-8"))


def _csdata(root: Path) -> list[dict]:
    import openpyxl

    wb = openpyxl.load_workbook(root / CSDATA, read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    header = rows[0]
    out = []
    for values in rows[1:]:
        r = dict(zip(header, values))
        if not str(r["municip_code"]).startswith("municip_nor"):
            continue  # Svalbard, Jan Mayen and 9999 live in special_codes.csv
        out.append({
            "code": r["municip_code"].removeprefix("municip_nor"),
            "name": CSDATA_NAME_FIXES.get(r["municip_name"], r["municip_name"]),
            "year_start": int(r["year_start"]),
            "year_end": None if r["year_end"] is None else int(r["year_end"]),
            "code_end": (r["municip_code_end"] or "").removeprefix("municip_nor") or None,
        })
    return out


def build(root: Path) -> tuple[dict[str, list[dict]], list[str]]:
    """Return the three tables and the list of disagreements found while building them."""
    notes: list[str] = []

    corr = klass.parse_corresponds(_load_json(root, CAPTURE_104_131), requested_to="2020-01-02")
    k23 = {r["code"]: r["name"] for r in
           klass.parse_codes_at(_load_json(root, CAPTURE_131_2023), "2023-03-02")}
    k24 = {r["code"]: r["name"] for r in klass.parse_codes(_load_json(root, CAPTURE_131_2024))}
    k23.pop("9999", None)
    k24.pop("9999", None)
    cs = _csdata(root)

    # --- kommune lifetimes -------------------------------------------------------------------
    life: dict[str, dict] = {}
    for r in cs:
        start = f"{r['year_start']}-01-01" if r["year_start"] >= 1960 else None
        end = f"{r['year_end'] + 1}-01-01" if r["year_end"] is not None else None
        life.setdefault(r["code"], {"start": start, "end": end, "cs_name": r["name"]})

    # Klass names with exact validity, 2018-01-01 .. 2020-01-01 (and open from 2020-01-01)
    observed: dict[str, list[tuple[str, str | None, str, str]]] = defaultdict(list)
    for r in corr:
        if r["target_code"] == "9999":
            continue
        observed[r["target_code"]].append((r["valid_from"], r["valid_to"], r["target_name"],
                                           SRC_K18))
    for code, name in k23.items():
        observed[code].append(("2023-03-02", None, name, SRC_K23))
    for code, name in k24.items():
        observed[code].append(("2024-01-01", None, name, SRC_K24))

    # Klass decides the 2024 boundary (FHI lists some new codes from 2023).
    moved_2024: list[str] = []
    for code in set(k24) - set(k23):
        if code not in life:
            notes.append(f"kommune {code} {k24[code]}: in Klass 2024, not in FHI's table")
            life[code] = {"start": "2024-01-01", "end": None, "cs_name": k24[code]}
        elif life[code]["start"] != "2024-01-01":
            moved_2024.append(code)
            life[code]["start"] = "2024-01-01"
    if moved_2024:
        notes.append(f"{len(moved_2024)} kommuner FHI starts on 2023-01-01 start on 2024-01-01 "
                     "in Klass (Klass kept): " + " ".join(sorted(moved_2024)))
    for code in set(k23) - set(k24):
        if life[code]["end"] != "2024-01-01":
            notes.append(f"kommune {code}: FHI ends it {life[code]['end']}, Klass 2024-01-01")
            life[code]["end"] = "2024-01-01"
    for code in k24:
        if life[code]["end"] is not None:
            notes.append(f"kommune {code}: FHI ends it {life[code]['end']}, Klass 2024 lists it")
            life[code]["end"] = None
    # Klass correspondence validity wins for 2018-2020 boundaries (Rindal moved 2019-01-01).
    for code, obs in observed.items():
        k18 = [o for o in obs if o[3] == SRC_K18]
        if not k18:
            continue
        first = min(o[0] for o in k18)
        last_to = [o[1] for o in k18]
        end = None if None in last_to else max(last_to)
        if first > "2018-01-01" and life[code]["start"] != first:
            if life[code]["start"] is None or life[code]["start"] < "2018-01-01":
                notes.append(f"capture gap: 104->131 lists {code} only from {first}; FHI has it "
                             f"since {life[code]['start'] or 'before 1960'} (FHI kept)")
            else:
                notes.append(f"kommune {code}: FHI starts it {life[code]['start']}, "
                             f"Klass {first} (Klass kept)")
                life[code]["start"] = first
        if end is not None and life[code]["end"] != end:
            notes.append(f"kommune {code}: FHI ends it {life[code]['end']}, Klass {end}")
            life[code]["end"] = end

    # Kommune codes given up before FHI's horizon, and where they went (Klass's own history).
    history_kommuner, history_changes = _klass_history(root, life, notes)

    # --- name versions -------------------------------------------------------------------------
    kommuner: list[dict] = []
    for code in sorted(life):
        lt = life[code]
        obs = sorted(observed.get(code, []))
        if not obs:  # ended before 2018: FHI's name over its whole lifetime
            kommuner.append({"code": code, "name": lt["cs_name"], "valid_from": lt["start"],
                             "valid_to": lt["end"], "source": SRC_CS})
            continue
        versions: list[dict] = []
        for seen_from, seen_to, name, src in obs:
            if versions and versions[-1]["name"] == name:
                if src not in versions[-1]["source"]:
                    versions[-1]["source"] += f"; {src}"
                continue
            if versions:
                if src == SRC_K18:
                    boundary = seen_from  # exact: the correspondence item starts here
                else:
                    boundary = f"{seen_from[:4]}-01-01"
                    if boundary <= versions[-1]["valid_from"]:
                        boundary = seen_from
                    if src == SRC_K23:
                        src = f"{src} ({APPROX_NAME_NOTE})"
                versions[-1]["valid_to"] = boundary
                seen_from = boundary
            versions.append({"code": code, "name": name, "valid_from": seen_from,
                             "valid_to": None, "source": src})
        versions[0]["valid_from"] = lt["start"]
        if versions[0]["source"].startswith(SRC_K18) and lt["start"] != "2018-01-01":
            versions[0]["source"] += f"; lifetime start {SRC_CS}"
        versions[-1]["valid_to"] = lt["end"]
        kommuner.extend(versions)
    kommuner.extend(history_kommuner)
    kommuner.sort(key=lambda r: (r["code"], r["valid_from"] or ""))

    # --- changes ------------------------------------------------------------------------------
    def name_on(code: str, day: str, before: bool) -> str | None:
        best = None
        for v in kommuner:
            if v["code"] != code:
                continue
            lo, hi = v["valid_from"] or "", v["valid_to"] or "9999"
            if (before and lo < day <= hi) or (not before and lo <= day < hi):
                best = v["name"]
        return best

    changes: list[dict] = []
    for r in cs:
        if r["code_end"] is None:
            continue
        changed_on = life[r["code"]]["end"]
        changes.append({"changed_on": changed_on, "level": "kommune",
                        "old_code": r["code"], "new_code": r["code_end"], "source": SRC_CS})
    changes.extend(history_changes)
    for r in changes:
        r["old_name"] = name_on(r["old_code"], r["changed_on"], before=True)
        r["new_name"] = name_on(r["new_code"], r["changed_on"], before=False)
        if r["changed_on"] in ("2020-01-01", "2019-01-01", "2018-01-01"):
            r["source"] += f"; ends/starts confirmed by {SRC_K18}"
        if r["changed_on"] == "2024-01-01":
            r["source"] += "; ends/starts confirmed by klass:131 2023-03-02 and 2024"

    fylke_changes = klass.parse_changes(_load_json(root, CAPTURE_104_CHANGES))
    fylke_names = {}
    for code, name, start, end, _ in FYLKER:
        fylke_names[(code, "end", end)] = name
        fylke_names[(code, "start", start)] = name
    for r in fylke_changes:
        if r["old_code"] != r["new_code"]:
            changes.append({"changed_on": r["changed_on"], "level": "fylke",
                            "old_code": r["old_code"], "old_name": r["old_name"],
                            "new_code": r["new_code"], "new_name": r["new_name"],
                            "source": "klass:104 changes 2019-01-01..2020-01-02"})
    for changed_on, old, new, src in PUBLIC_KNOWLEDGE_FYLKE_CHANGES:
        changes.append({"changed_on": changed_on, "level": "fylke", "old_code": old,
                        "old_name": fylke_names.get((old, "end", changed_on)),
                        "new_code": new,
                        "new_name": fylke_names.get((new, "start", changed_on))
                        or _fylke_name_on(new, changed_on),
                        "source": src})

    existed = set()
    # a merger that keeps one old code starts a new lifetime under it (0716 Våle -> 0716 Re)
    same_code = {(r["new_code"], r["changed_on"]) for r in history_changes
                 if r["old_code"] == r["new_code"]}
    starts = defaultdict(list)
    for v in kommuner:
        starts[v["code"]].append(v["valid_from"] or "")
    for code, _, start, _, _ in FYLKER:
        starts[code].append(start or "")
    for r in changes:
        if any(s < r["changed_on"] for s in starts[r["new_code"]]) and (
            (r["new_code"], r["changed_on"]) not in same_code
        ):
            existed.add((r["new_code"], r["changed_on"]))
    classify_changes(changes, existed)
    changes.sort(key=lambda r: (r["changed_on"], r["level"], r["new_code"], r["old_code"]))

    fylker = [{"code": c, "name": n, "valid_from": s, "valid_to": e, "source": src}
              for c, n, s, e, src in FYLKER]

    notes.extend(crosscheck({"fylker": fylker, "kommuner": kommuner, "changes": changes}, root))
    return {"fylker": fylker, "kommuner": kommuner, "changes": changes}, notes


def _klass_versions(root: Path) -> list[tuple[str, str, dict[str, str]]]:
    """Klass 131's versions in the captures, oldest first: (valid_from, valid_to, {code: name})."""
    versions = []
    for path in sorted(root.glob(CAPTURE_131_VERSIONS)):
        _, rows = klass.parse_version(path.read_text(encoding="utf-8"))
        codes = {r["code"]: r["name"] for r in rows if r["code"] != "9999"}
        versions.append((rows[0]["valid_from"], rows[0]["valid_to"], codes))
    return sorted(versions, key=lambda v: v[0])


def _klass_history(root: Path, known: dict[str, dict],
                   notes: list[str]) -> tuple[list[dict], list[dict]]:
    """Kommune codes FHI's table does not know (given up by 2006), from Klass 131's history.

    Returns their name versions (kommuner rows) and their changes. A change whose old code is
    still in the version that starts on the change date moved ground, not a code (part of 0412
    Ringsaker went to 0403 Hamar in 1992): it is reported in ``notes`` and not kept, because
    ``changes.csv`` holds code changes only.
    """
    versions = _klass_versions(root)
    if not versions:
        return [], []

    def codes_on(day: str) -> dict[str, str]:
        return next(v[2] for v in versions if v[0] <= day < v[1])

    ended: dict[str, str] = {}
    edges: list[dict] = []
    for r in klass.parse_changes(_load_json(root, CAPTURE_131_CHANGES)):
        day, old, new = r["changed_on"], r["old_code"], r["new_code"]
        if day >= versions[-1][1]:
            continue
        if old != new and old in codes_on(day):
            notes.append(f"Klass {day}: part of {old} {r['old_name']} went to {new} "
                         f"{r['new_name']}; {old} kept its code (ground moved, not kept here)")
            continue
        if old == new:
            # A name change, unless FHI starts the code's lifetime on that day: then the old
            # kommune kept its code in a merger (0716 Våle + 0718 Ramnes -> 0716 Re, 2002).
            if old not in known or known[old]["start"] != day:
                continue
        elif old in known:
            continue  # FHI's table follows this code
        ended[old] = day
        if new in known and (known[new]["start"] or "") > day:
            notes.append(f"kommune {new}: FHI starts it {known[new]['start']}, "
                         f"Klass {day} (Klass kept)")
            known[new]["start"] = day
        edges.append({"changed_on": day, "level": "kommune", "old_code": old, "new_code": new,
                      "source": SRC_KH})
    rows: list[dict] = []
    for code in sorted(ended):
        seen = [(v[0], v[1], v[2][code]) for v in versions
                if code in v[2] and v[1] <= ended[code]]
        first = None if seen[0][0] == versions[0][0] else seen[0][0]
        versions_of_code = [{"code": code, "name": seen[0][2], "valid_from": first,
                             "valid_to": seen[0][1], "source": SRC_KV}]
        for start, end, name in seen[1:]:
            last = versions_of_code[-1]
            if last["valid_to"] != start:
                notes.append(f"kommune {code}: gap in Klass's versions before {start}")
            if last["name"] == name:
                last["valid_to"] = end
            else:
                versions_of_code.append({"code": code, "name": name, "valid_from": start,
                                         "valid_to": end, "source": SRC_KV})
        if versions_of_code[-1]["valid_to"] != ended[code]:
            notes.append(f"kommune {code}: last Klass version ends "
                         f"{versions_of_code[-1]['valid_to']}, its change is on {ended[code]}")
            versions_of_code[-1]["valid_to"] = ended[code]
        versions_of_code[-1]["source"] += f"; end {SRC_KH}"
        rows.extend(versions_of_code)
    return rows, edges


def _fylke_name_on(code: str, day: str) -> str | None:
    for c, n, s, e, _ in FYLKER:
        if c == code and (s or "") <= day < (e or "9999"):
            return n
    return None


def _valid_on(rows: list[dict], day: str) -> dict[str, str]:
    return {r["code"]: r["name"] for r in rows
            if (r["valid_from"] or "") <= day < (r["valid_to"] or "9999")}


def crosscheck(tables: dict[str, list[dict]], root: Path) -> list[str]:
    """Every disagreement between the snapshot tables and the Klass captures under ``root``.

    Returns human-readable lines; the known gaps of the captures themselves are reported too,
    prefixed ``capture gap:`` (they are facts about the capture, not errors in the snapshot).
    """
    out: list[str] = []
    kommuner, fylker, changes = tables["kommuner"], tables["fylker"], tables["changes"]

    def compare(label: str, snap: dict[str, str], capt: dict[str, str], gap_ok: bool = False):
        for code in sorted(set(capt) - set(snap)):
            out.append(f"{label}: {code} {capt[code]} is in the capture, not in the snapshot")
        for code in sorted(set(snap) - set(capt)):
            prefix = "capture gap: " if gap_ok else ""
            out.append(f"{prefix}{label}: {code} {snap[code]} is in the snapshot, "
                       "not in the capture")
        for code in sorted(set(snap) & set(capt)):
            if snap[code] != capt[code]:
                out.append(f"{label}: {code} named {snap[code]!r}, capture {capt[code]!r}")

    k23 = {r["code"]: r["name"] for r in
           klass.parse_codes_at(_load_json(root, CAPTURE_131_2023), "2023-03-02")
           if r["code"] != "9999"}
    k24 = {r["code"]: r["name"] for r in klass.parse_codes(_load_json(root, CAPTURE_131_2024))
           if r["code"] != "9999"}
    compare("131 on 2023-03-02", _valid_on(kommuner, "2023-03-02"), k23)
    compare("131 on 2024-01-01", _valid_on(kommuner, "2024-01-01"), k24)

    corr = klass.parse_corresponds(_load_json(root, CAPTURE_104_131), requested_to="2020-01-02")
    for day in ("2018-01-01", "2019-01-01", "2019-12-31", "2020-01-01"):
        capt = {r["target_code"]: r["target_name"] for r in corr
                if r["target_code"] != "9999" and r["valid_from"] <= day < (r["valid_to"] or "9")}
        compare(f"104->131 on {day}", _valid_on(kommuner, day), capt, gap_ok=True)
        for r in corr:
            if (r["valid_from"] <= day < (r["valid_to"] or "9") and r["target_code"] != "9999"
                    and r["target_code"][:2] != r["source_code"]):
                out.append(f"104->131 on {day}: kommune {r['target_code']} under fylke "
                           f"{r['source_code']}, not its first two digits")

    f18 = klass.parse_codes(_load_json(root, CAPTURE_104_2018), requested_to="2020-01-02")
    f24 = klass.parse_codes(_load_json(root, CAPTURE_104_2024))
    for day, rows in (("2018-01-01", f18), ("2019-12-31", f18), ("2020-01-01", f18),
                      ("2024-01-01", f24)):
        capt = {r["code"]: r["name"] for r in rows if r["code"] != "99"
                and (r["valid_from"] or "") <= day < (r["valid_to"] or "9999")}
        compare(f"104 on {day}", _valid_on(fylker, day), capt)

    # Klass's notes on the kommuner state the 2024 splits: read them back
    notes_2024 = set()
    for r in klass.parse_codes_at(_load_json(root, CAPTURE_131_2023), "2023-03-02"):
        for m in _SPLIT_NOTE.finditer(r["notes"] or ""):
            for new in re.findall(r"\b(\d{2,4}) ", m.group("into") + " "):
                notes_2024.add((m.group("old"), new))
    edges_2024 = {(r["old_code"], r["new_code"]) for r in changes
                  if r["changed_on"] == "2024-01-01"}
    for old, new in sorted(notes_2024 - edges_2024):
        out.append(f"Klass notes say {old} went to {new} in 2024; the snapshot has no such change")
    split_2024 = {(o, n) for o, n in edges_2024
                  if sum(1 for x, _ in edges_2024 if x == o) > 1}
    for old, new in sorted(split_2024 - notes_2024):
        out.append(f"the snapshot splits {old} into {new} in 2024; Klass's notes do not say so")

    # Klass 131's versions 1971-2006: the same codes on each version's first day, and the same
    # names for the kommuner the snapshot takes from them (FHI names a kommune that lived past
    # 2006 by its latest name over its whole lifetime)
    from_versions = {v["code"] for v in kommuner if v["source"].startswith(SRC_KV)}
    for start, _end, capt in _klass_versions(root):
        snap = _valid_on(kommuner, start)
        for code in sorted(set(capt) - set(snap)):
            out.append(f"131 version of {start}: {code} {capt[code]} is in the capture, "
                       "not in the snapshot")
        for code in sorted(set(snap) - set(capt)):
            out.append(f"131 version of {start}: {code} {snap[code]} is in the snapshot, "
                       "not in the capture")
        for code in sorted(set(snap) & set(capt) & from_versions):
            if snap[code] != capt[code]:
                out.append(f"131 version of {start}: {code} named {snap[code]!r}, "
                           f"capture {capt[code]!r}")

    # every edge joins a code that ends on the change date to one valid on it
    by_level = {"kommune": kommuner, "fylke": fylker}
    for r in changes:
        rows = by_level[r["level"]]
        before = _valid_on(rows, _day_before(r["changed_on"]))
        after = _valid_on(rows, r["changed_on"])
        if r["old_code"] not in before:
            out.append(f"change {r['changed_on']} {r['old_code']}->{r['new_code']}: "
                       f"{r['old_code']} not valid the day before")
        if r["new_code"] not in after:
            out.append(f"change {r['changed_on']} {r['old_code']}->{r['new_code']}: "
                       f"{r['new_code']} not valid on the day")
    # every kommune that ends has somewhere to go, every new one came from somewhere
    olds = {(r["old_code"], r["changed_on"]) for r in changes if r["level"] == "kommune"}
    news = {(r["new_code"], r["changed_on"]) for r in changes if r["level"] == "kommune"}
    ends = {(v["code"], v["valid_to"]) for v in kommuner if v["valid_to"]}
    for code, end in sorted(ends):
        still = any(v["code"] == code and v["valid_from"] == end for v in kommuner)
        if not still and (code, end) not in olds:
            out.append(f"kommune {code} ends {end} with no successor")
    for v in kommuner:
        start = v["valid_from"]
        if start and start > KLASS_HORIZON and (v["code"], start) not in news:
            earlier = any(w["code"] == v["code"] and w["valid_to"] == start for w in kommuner)
            if not earlier:
                out.append(f"kommune {v['code']} {v['name']} starts {start} with no predecessor")
    return out


def _day_before(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


HEADERS = {
    "fylker": """Fylker (SSB Klass 104) with validity; valid_to is exclusive, empty valid_from means
"since before the snapshot's horizon". Built by `python -m atlas_crawl.geo.build_snapshot` from
the Klass captures in ../shared/realdata/ssb_klass (see its SOURCES.md) plus the public record of
the 2018, 2020 and 2024 county reforms; each row names its source.""",
    "kommuner": """Kommuner (SSB Klass 131), one row per name version; valid_to is exclusive.
Built by `python -m atlas_crawl.geo.build_snapshot` from the Klass captures (131 on 2023-03-02,
131 from 2024-01-01, the 104->131 correspondence 2018-01-01..2020-01-02), for lifetimes and
kommuner that ended before 2018 FHI's csdata norway_locations table (MIT, Folkehelseinstituttet),
and for kommuner given up 1972-2006 Klass 131's versions 1971-2006 and changes from 1971.
Lifetimes FHI starts before 1960, and kommuner in Klass's 1971 version, have an empty valid_from.
Each row names its source.""",
    "changes": """Code changes of fylker and kommuner (like Klass `changes`): old_code -> new_code on
changed_on. kind: renumbered (1:1), merged (into a code with other predecessors, or one that
already existed), split (one old code to several new ones; no weights are kept on purpose).
Built by `python -m atlas_crawl.geo.build_snapshot`; each row names its source.""",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "../shared/realdata")
    tables, notes = build(root)
    for name in ("fylker", "kommuner", "changes"):
        path = write_table(name, tables[name], HEADERS[name])
        print(f"wrote {path} ({len(tables[name])} rows)")
    for line in notes:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
