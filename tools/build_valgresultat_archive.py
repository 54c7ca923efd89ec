"""Build the golden cases golden/valgresultat_st<year>/ from the archive of valgresultat.no.

    python tools/build_valgresultat_archive.py GIT_DIR [YEAR ...]

GIT_DIR is a clone of HNygard/valgresultat.no-copy (a bare one will do). That repository polls
Valgdirektoratet's results API and commits every answer under
`data/<year>/<level>/<area>/<timestamp>.json`; `data/<year>/<level>/<area>.json` is a link to the
newest one. For each stortingsvalg year this takes the newest answer of the country
(`nasjonalt/norge`), of every fylke (valgdistrikt) and of every kommune, stores it gzip-compressed
under the case's `responses/`, and writes `responses.json` so that a replay of
`scrapy crawl valgresultat -a years=<year> -a valgtyper=st` is served these answers for the URLs
the API answers them at (the answer's own `_links.self.href`). The bytes inside each .gz are the
archive's, unchanged. Expected rows are then made with
`pytest tests/test_golden.py --update-golden -k valgresultat_st<year>`.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
YEARS = ("2009", "2013", "2017", "2021", "2025")
LEVELS = (("nasjonalt", "land"), ("fylke", "fylke"), ("kommune", "kommune"))
API = "https://valgresultat.no/api"
SHARED_NOTE = {
    "2009": "The same answers, byte for byte, are in `../shared/realdata/valgresultat/archive/2009/`.",
    "2013": "The same answers, byte for byte, are in `../shared/realdata/valgresultat/archive/2013/`.",
    "2017": "This election is not in `../shared/realdata/`; it was taken from the repository "
            "itself.",
    "2021": "The same answers are in `../shared/realdata/valgresultat/archive/2021/`, except "
            "1151 Utsira, which that copy left out and which was taken from the repository "
            "(`data/2021/kommune/kommune-11-1151/2025-09-07__0701.json`); that copy's older "
            "generation of the country's answer (`stortingsvalget_…`) is not used.",
    "2025": "The same answers, byte for byte, are in `../shared/realdata/valgresultat/archive/2025/`.",
}


def git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True,
                          capture_output=True).stdout


def newest_answers(git_dir: Path, commit: str, year: str, folder: str) -> list[tuple[str, bytes]]:
    """(archive path, bytes) of the newest answer of every area of a level."""
    out = []
    listing = git(git_dir, "ls-tree", commit, f"data/{year}/{folder}/").decode()
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        if not meta.startswith("120000") or not path.endswith(".json"):
            continue
        if folder == "nasjonalt" and not path.endswith("/norge.json"):
            continue  # 2021 also keeps an older generation of the country's answer
        target = git(git_dir, "cat-file", "-p", f"{commit}:{path}").decode().strip()
        real = f"data/{year}/{folder}/{target}"
        out.append((real, git(git_dir, "cat-file", "-p", f"{commit}:{real}")))
    return out


def build(git_dir: Path, year: str) -> Path:
    commit = git(git_dir, "rev-parse", "HEAD").decode().strip()
    case = PROJECT / "golden" / f"valgresultat_st{year}"
    entries, captured = [], []
    for folder, level in LEVELS:
        for path, body in newest_answers(git_dir, commit, year, folder):
            doc = json.loads(body)
            if doc["id"]["nivaa"] != level or doc["id"]["valgaar"] != year:
                raise SystemExit(f"{path}: not a {level} answer of {year}: {doc['id']}")
            href = doc["_links"]["self"]["href"]
            stamp = Path(path).stem  # 2025-09-07__0701
            captured.append(stamp)
            name = f"responses/{folder}/{Path(path).parent.name}_{stamp}.json.gz"
            (case / name).parent.mkdir(parents=True, exist_ok=True)
            (case / name).write_bytes(gzip.compress(body, compresslevel=9, mtime=0))
            entries.append({"method": "GET", "url": API + href, "status": 200,
                            "headers": {"Content-Type": "application/json"}, "file": name,
                            "archived_as": path})
    entries.sort(key=lambda e: e["url"])
    (case / "responses.json").write_text(
        json.dumps({"responses": entries}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    spec = {
        "spider": "valgresultat",
        "args": {"years": year, "valgtyper": "st"},
        "settings": {"ATLAS_RAW_DIR": ""},
        "tables": ["valgresultat", "valgresultat_partier"],
        "data_origin": "capture",
        "captured": max(captured)[:10],
        "capture_source": f"HNygard/valgresultat.no-copy data/{year}/ at {commit}",
        "update_replay": True,
    }
    (case / "golden.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    (case / "README.md").write_text(readme(year, commit, entries, case), encoding="utf-8")
    print(f"{case.relative_to(PROJECT)}: {len(entries)} answers, newest archived "
          f"{max(captured)}, commit {commit}")
    return case


def readme(year: str, commit: str, entries: list[dict], case: Path) -> str:
    levels = {lv: sum(e["file"].startswith(f"responses/{lv}/") for e in entries)
              for lv, _ in LEVELS}
    land = next(e for e in entries if e["file"].startswith("responses/nasjonalt/"))
    doc = json.loads(gzip.decompress((case / land["file"]).read_bytes()))
    party = doc["partier"][0]
    stamps = sorted(Path(e["archived_as"]).stem for e in entries)
    return f"""# golden/valgresultat_st{year} — stortingsvalg {year}, every area, final count

`scrapy crawl valgresultat -a years={year} -a valgtyper=st` in replay: the country's answer, its
{levels["fylke"]} fylker (valgdistrikter) and their {levels["kommune"]} kommuner, {len(entries)} answers in
all, each the **real** final answer of Valgdirektoratet's results API for that area.
`update --replay` (and so the demo) crawls this case after `golden/valgresultat/`
(`"update_replay": true` in golden.json).

Provenance: the public repository **HNygard/valgresultat.no-copy**, which polls
`https://valgresultat.no/api` and commits every answer under
`data/{year}/<level>/<area>/<timestamp>.json`, with `<area>.json` linking the newest one. This
case holds that newest answer of every area as of commit
`{commit}` (2025-11-30); the path of each is `archived_as` in `responses.json`. Archived
{stamps[0].replace("__", " ")} to {stamps[-1].replace("__", " ")} (UTC+2 file names); the answers' own
`rapportGenerert` says when the API generated them. {SHARED_NOTE[year]} The repository has no
licence file; the data are Valgdirektoratet's (open data).

Stored gzip-compressed (`responses/<level>/<area>_<timestamp>.json.gz`; the replay serves them
decompressed); inside each .gz are the archive's bytes, unchanged (the archive re-indented the
API's JSON: content and key order are the API's, whitespace is not). Built by
`tools/build_valgresultat_archive.py`; the expected party rows are large and kept as
`expected/valgresultat_partier.jsonl.gz`.

Areas are on the codes of {year} ({"today's" if year == "2025" else "that year's"} kommune codes; the
valgdistrikter keep the pre-2020 fylke numbers until 2021): the geography places old codes by
the election year (`nr_geo_status` renamed/merged/split).

Values to check: the whole country {doc["antallsb"]:,} entitled to vote, {doc["stemmer"]["total"]:,}
votes, turnout {doc["frammote"]["prosent"]} %, {doc["mandater"]["antall"]} seats;
{party["id"]["navn"]} {party["stemmer"]["resultat"]["antall"]["total"]:,} votes
({party["stemmer"]["resultat"]["prosent"]} %).

Regenerate deliberately: `pytest tests/test_golden.py --update-golden -k valgresultat_st{year}`.
"""


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    git_dir = Path(argv[0])
    for year in argv[1:] or YEARS:
        build(git_dir, year)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
