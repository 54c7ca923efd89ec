"""Write tests/data/harmonise/ from the real captures in ../shared/realdata (run once, by hand).

    python tools/extract_harmonise_data.py ../shared/realdata

- `imdi_befolkning_1987_2015.csv.gz`: from IMDi's 29 population exports
  (imdi_integrering/befolkning_1986_2015/01-befolkning_hovedgruppe-kommune-<year>.csv), read
  with atlas_crawl.formats.imdi_csv: every kommune code of every file, kjønn "alle", the groups
  "alle" and "innvandrere" in persons and the immigrants' share in percent, each cell as written
  (value or suppression symbol). The exports list every code of 1986-2015 in every year; a code
  that did not exist that year has 0 persons and "." for the share. Those rows are kept: the
  test's loader drops them, saying why.
- `valgresultat_st_kommune.csv`: from valgresultat/archive/<year>/kommune/*.json (stortingsvalg
  2009, 2013, 2021, 2025), read with atlas_crawl.formats.valgresultat: one row per kommune.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import sys
from pathlib import Path

from atlas_crawl.formats.imdi_csv import parse_export
from atlas_crawl.formats.valgresultat import parse_answer

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "harmonise"
GROUPS = {("alle", "personer"), ("innvandrere", "personer"), ("innvandrere", "prosent")}


def imdi(realdata: Path) -> list[str]:
    folder = realdata / "imdi_integrering" / "befolkning_1986_2015"
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["year", "kommune_nr", "gruppe", "enhet", "value", "status"])
    sums = []
    for path in sorted(folder.glob("01-befolkning_hovedgruppe-kommune-*.csv")):
        year = int(re.search(r"(\d{4})\.csv$", path.name).group(1))
        data = path.read_bytes()
        sums.append(f"{path.name} sha256 {hashlib.sha256(data).hexdigest()}")
        for cell in parse_export(data, str(path)).cells:
            d = cell.dimensions
            if d.get("kjonn") != "alle" or (d.get("innvkat_5"), d.get("enhet")) not in GROUPS:
                continue
            out.writerow([year, cell.kommune_nr, d["innvkat_5"], d["enhet"],
                          "" if cell.value is None else cell.value, cell.status or ""])
    OUT.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT / "imdi_befolkning_1987_2015.csv.gz", "wb", mtime=0) as fh:
        fh.write(buf.getvalue().encode("utf-8"))
    return sums


def valg(realdata: Path) -> None:
    rows = []
    for year in (2009, 2013, 2021, 2025):
        for path in sorted((realdata / "valgresultat" / "archive" / str(year) / "kommune")
                           .glob("*.json")):
            a = parse_answer(path.read_bytes(), str(path)).area
            rows.append([a.year, a.valgtype, a.nr, a.name, a.count_status, a.stemmeberettigede,
                         a.stemmer, a.forkastede, a.frammote_prosent, path.name])
    with (OUT / "valgresultat_st_kommune.csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["valgaar", "valgtype", "nr", "navn", "count_status", "stemmeberettigede",
                      "stemmer", "forkastede", "frammote_prosent", "archive_file"])
        out.writerows(rows)


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/realdata")
    for line in imdi(root):
        print(line)
    valg(root)
