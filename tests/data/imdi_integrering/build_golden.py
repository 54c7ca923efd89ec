"""Build golden/imdi_<kind>/ for every IMDi export source from the real exports in this folder.

Each golden case reads excerpts of every export of its kind (kommune and bydel, every year): the
header block and the rows of a few places, each line byte for byte as IMDi wrote it (encoding,
CRLF, quoting unchanged), so that `expected/` stays reviewable. One export: the excerpt itself;
several: a zip of the excerpts (fixed entry dates, so a rebuild gives the same bytes). The full
exports stay here and are read whole by tests/formats/test_imdi_export.py.

Run from the project root: `python tests/data/imdi_integrering/build_golden.py`, then
`pytest tests/test_golden.py --update-golden -k imdi_` and review the diff.
"""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

from atlas_crawl.formats import imdi_export
from atlas_crawl.manifests import all_manifests

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[2]
GOLDEN = PROJECT / "golden"
REPOSITORY = "bengler/imdi-dataset"
COMMIT = "75e9b97bbcdb06059231415a6c55452838ac553f"
# The two kommune exports of the family the older spiders read, kept in their golden folders.
ELSEWHERE = [
    PROJECT / "golden/imdi_innvandringsgrunn/responses/05-befolkning_innvandringsgrunn-kommune-2014.csv",
    PROJECT / "golden/imdi_landbakgrunn/responses/03-befolkning_opprinnelsesland-kommune-2014.csv",
]
# Places kept in the excerpts: kommuner of every size and the four cities (Bergen's row of the
# introduction-programme export holds IMDi's stray header token), Utsira (tiny: suppression),
# 9999 (unknown kommune); Oslo and five of its bydeler (St. Hanshaugen: a block suppresses what
# another shows; Sentrum: '.'; 030199 unknown bydel). For the population series also 0102
# Sarpsborg (abolished 1992: placed until then, left out after), 0716 (Våle, then Re) and 1017
# Songdalen / 1018 Søgne (merged into Kristiansand in 2020).
KOMMUNER = {"0101", "0301", "1001", "1103", "1151", "1201", "1601", "9999"}
BYDELER = {"0301", "030101", "030104", "030112", "030116", "030199"}
SERIES = {"0101", "0102", "0301", "0716", "1001", "1017", "1018", "1201"}
# When each export was last changed in that repository (git log -1 <commit> -- import/files/<name>).
LAST_CHANGED = json.loads((HERE / "last_changed.json").read_text(encoding="utf-8"))


def exports() -> list[tuple[str, bytes]]:
    """Every real export: (file name, bytes), the population series from its zip."""
    found = [(p.name, p.read_bytes()) for p in sorted(HERE.glob("*/*.csv"))]
    found += [(p.name, p.read_bytes()) for p in ELSEWHERE]
    with zipfile.ZipFile(HERE / "befolkning_1986_2015.zip") as archive:
        found += [(i.filename.rsplit("/", 1)[-1], archive.read(i)) for i in archive.infolist()]
    return found


def excerpt(data: bytes, keep: set[str]) -> bytes:
    """The header lines and the lines of the places in `keep`, byte for byte. Place rows never
    span lines (only header cells hold line breaks), so from the first place row on a line is a
    record."""
    lines = data.split(b"\r\n")
    codes = []
    for line in lines:
        fields = next(csv.reader([line.decode("latin-1")], delimiter=";"), [])
        raw = fields[1].strip() if len(fields) > 3 else ""
        codes.append(imdi_export.restore_code(raw) if raw.isdigit() else None)
    first = next(i for i, code in enumerate(codes) if code)
    kept = lines[:first] + [line for line, code in zip(lines[first:], codes[first:], strict=True)
                            if code and code[0] in keep]
    return b"\r\n".join([*kept, b""])


def write_zip(path: Path, entries: list[tuple[str, bytes]], when: tuple[int, ...]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=9)


def main() -> None:
    by_kind: dict[str, list[tuple[str, bytes]]] = {}
    for name, data in exports():
        meta = imdi_export.parse_name(name)
        assert meta is not None, name
        by_kind.setdefault(meta.kind, []).append((name, data))
    for manifest in all_manifests().values():
        cfg = manifest.extra.get("imdi_export")
        if not cfg:
            continue
        files = sorted(f for kind in cfg["kinds"] for f in by_kind[kind])
        series = cfg.get("drop_empty_places", False)
        folder = GOLDEN / manifest.source_id
        responses = folder / "responses"
        responses.mkdir(parents=True, exist_ok=True)
        for old in responses.iterdir():
            old.unlink()
        parts = []
        for name, data in files:
            geography = imdi_export.parse_name(name).geography
            keep = SERIES if series else KOMMUNER if geography == "kommune" else BYDELER
            parts.append((name.replace(".csv", "_EXCERPT.csv"), excerpt(data, keep)))
        captured = max(LAST_CHANGED[name] for name, _ in files)
        if len(parts) == 1:
            response = parts[0][0]
            (responses / response).write_bytes(parts[0][1])
        else:
            response = f"{manifest.source_id}_EXCERPTS.zip"
            write_zip(responses / response, parts, (*map(int, captured.split("-")), 0, 0, 0))
        spec = {
            "spider": manifest.source_id,
            "args": {"file": f"responses/{response}"},
            "settings": {"ATLAS_RAW_DIR": ""},
            "tables": [manifest.source_id],
            "data_origin": "capture",
            "captured": captured,
            "capture_source": "; ".join(f"{REPOSITORY} import/files/{name} @ {COMMIT[:8]}"
                                        for name, _ in files),
        }
        (folder / "golden.json").write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
        (folder / "README.md").write_text(readme(manifest, files, response, parts, series),
                                          encoding="utf-8")
        print(manifest.source_id, len(files), "exports ->", response)


def readme(manifest, files, response, parts, series: bool) -> str:
    rows = "\n".join(f"| `{name}` | {LAST_CHANGED[name]} | {len(data):,} bytes |"
                     for name, data in files)
    if series:
        kept = ("the header block and the rows of 0101 Halden, 0102 Sarpsborg (abolished 1992), "
                "0301 Oslo, 0716 (Våle until 2002, then Re), 1001 Kristiansand, 1017 Songdalen, "
                "1018 Søgne and 1201 Bergen")
    else:
        kept = ("the header block and the rows of 0101 Halden, 0301 Oslo, 1001 Kristiansand, "
                "1103 Stavanger, 1151 Utsira, 1201 Bergen, 1601 Trondheim and 9999 (kommune "
                "exports, where present) or of Oslo, 030101 Gamle Oslo, 030104 St. Hanshaugen, "
                "030112 Alna, 030116 Sentrum and 030199 (bydel exports)")
    what = "a zip of the excerpts" if len(parts) > 1 else "the excerpt"
    note = ""
    if series:
        note = ("\n\nEach year is on that year's codes: 1017 Songdalen and 1018 Søgne come out "
                 "with `region_current` 4204 (Kristiansand) and `region_geo_status` merged, 0101 "
                 "Halden renamed (3101), 0102 Sarpsborg (1987-1991) `region_current` 3105 and "
                 "merged (with Skjeberg, Tune and part of Varteig it became 0105 in 1992, per "
                 "Klass 131's changes); from 1992 IMDi lists 0102 with 0 persons and the spider "
                 "leaves it out. In the full series every row is placed: the 33 codes given up "
                 "between 1987 and 2005 (3,045 rows) resolve through Klass 131's history, 75 "
                 "rows of 0114 Varteig (split between Sarpsborg and Rakkestad in 1992) as a "
                 "split, never apportioned.")
    return f"""# golden/{manifest.source_id} — `scrapy crawl {manifest.source_id} -a file={response}`

{manifest.extra.get('title_en', manifest.upstream_title)} ({manifest.upstream_title}).

**Real data (capture).** IMDi's own CSV exports of its integration statistics (integreringsdata),
as kept by the public repository **{REPOSITORY}** in `import/files/` (the raw input of its import
scripts), at commit {COMMIT} (2015-09-22). No licence is stated for the data; IMDi publishes these
figures openly. Copied byte for byte into `../shared/realdata/imdi_integrering/` and from there
into `tests/data/imdi_integrering/` (checked identical with `git show {COMMIT[:8]}:import/files/<name>`).

| export | last changed in {REPOSITORY} | size |
| --- | --- | --- |
{rows}

`responses/{response}` is real, {what}: {kept}; each line byte for byte as IMDi wrote it (encoding,
CRLF, quoting unchanged). Built by `tests/data/imdi_integrering/build_golden.py` from the full
exports, which the tests read whole.{note}

Regenerate deliberately: `python tests/data/imdi_integrering/build_golden.py` and
`pytest tests/test_golden.py --update-golden -k {manifest.source_id}`.
"""


if __name__ == "__main__":
    main()
