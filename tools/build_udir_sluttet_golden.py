"""Write the constructed cassette of `udir_sluttet_vgs`: golden/udir_sluttet_vgs/.

    .venv/bin/python tools/build_udir_sluttet_golden.py

No real answer of Udir's VGO "sluttet" report was found in any public repository reachable here.
The three answers follow the shapes of the real GSK captures in golden/udir_fravar/ (Rapportside,
filterVerdier, data: `metadata.rowHierarchy`/`columns`, `rows[{navn,kode,id,data}]`, decimal
comma, thousands space, `*`), with the VGO hierarchy Nasjonalt -> Fylke -> Enhet. Page name,
endpoint, ids and all values are made up. Regenerate deliberately, then
`pytest tests/test_golden.py --update-golden -k udir_sluttet_vgs` and review the diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from atlas_crawl.formats import udir

FOLDER = ROOT / "golden" / "udir_sluttet_vgs"
BASE = "rest/v1/Statistikk/VGO/SluttaV/1/1"
FILTERS = ["EierformID", "EnhetID", "KjoennID", "TidID"]

RAPPORTSIDE = {"rappside": {
    "id": 900, "kode": "VGO_sluttet", "navn": "Sluttet i videregående opplæring",
    "gyldigeFiltre": FILTERS,
    "filterVerdiEndepunkt": f"{BASE}/filterVerdier",
    "filterDefaultVerdier": {"EnhetID": [-12], "TidID": [202310, 202410], "EierformID": [-10],
                             "KjoennID": [-10]},
    "rapportElementer": [{"navn": "Sluttet i videregående opplæring", "rapportelementnr": 1,
                          "dataEndepunkt": f"{BASE}/data", "defaultRadsti": "*.*",
                          "gyldigeFiltre": FILTERS}]},
    "tekster": {"0": None}}

FILTERVERDIER = {
    "TidID": [{"indeks": 0, "id": 202410, "kode": "202410", "navn": "2024-25", "erBegrenset": 0},
              {"indeks": 1, "id": 202310, "kode": "202310", "navn": "2023-24", "erBegrenset": 0}],
    "EnhetID": [
        {"indeks": 0, "id": -10, "kode": "Alle", "navn": "Hele landet", "erBegrenset": 0,
         "nivaa": 0, "skjult": 1, "barn": [1]},
        {"indeks": 1, "id": -12, "kode": "I", "navn": "Hele landet", "erBegrenset": 0,
         "nivaa": 1, "forelder": 0, "barn": [2, 4]},
        {"indeks": 2, "id": -503, "kode": "03", "navn": "Oslo", "erBegrenset": 0, "nivaa": 2,
         "forelder": 1, "barn": [3]},
        {"indeks": 3, "id": 9001, "kode": "974590018", "navn": "Elvebakken videregående skole",
         "erBegrenset": 0, "nivaa": 3, "forelder": 2},
        {"indeks": 4, "id": -538, "kode": "42", "navn": "Agder", "erBegrenset": 0, "nivaa": 2,
         "forelder": 1, "barn": [5]},
        {"indeks": 5, "id": 9002, "kode": "974595257", "navn": "Dahlske videregående skole",
         "erBegrenset": 0, "nivaa": 3, "forelder": 4}],
    "EierformID": [{"indeks": 0, "id": -10, "kode": "-10", "navn": "Alle eierformer",
                    "erBegrenset": 0}],
    "KjoennID": [{"indeks": 0, "id": -10, "kode": "A", "navn": "Alle kjønn", "erBegrenset": 0}],
}

DATA = {
    "metadata": {
        "rowHierarchy": ["Nasjonalt", "Fylke", "Enhet"],
        "columns": [[{"name": "2024-25", "tekstId_kolonne": "900001", "columnCount": 3}],
                    [{"name": "Alle eierformer", "tekstId_kolonne": "900002", "columnCount": 3}],
                    [{"name": "Alle kjønn", "tekstId_kolonne": "900003", "columnCount": 3}],
                    [{"name": "Antall elever", "tekstId_kolonne": "900004", "columnCount": 1},
                     {"name": "Antall sluttet", "tekstId_kolonne": "900005", "columnCount": 1},
                     {"name": "Andel sluttet", "tekstId_kolonne": "900006", "columnCount": 1}]]},
    "rows": [
        {"navn": "Oslo", "kode": "03", "id": "1.3", "data": ["21 874", "702", "3,2"]},
        {"navn": "Elvebakken videregående skole", "kode": "974590018", "id": "1.3.9001",
         "data": ["*", "*", "*"]},
        {"navn": "Agder", "kode": "42", "id": "1.49", "data": ["14 310", "501", "3,5"]},
        {"navn": "Dahlske videregående skole", "kode": "974595257", "id": "1.49.9002",
         "data": ["812", "19", "2,3"]},
    ],
}


def main() -> int:
    report = udir.parse_rapportside(RAPPORTSIDE)
    files = [
        (udir.rapportside_url("VGO_sluttet"), "rapportside_constructed.json", RAPPORTSIDE),
        (udir.filterverdier_url(report), "filterVerdier_constructed.json", FILTERVERDIER),
        (udir.data_url(report, {"TidID": 202410, "EierformID": udir.ALLE,
                                "KjoennID": udir.ALLE}, f"{udir.HELE_LANDET}.*.*"),
         "data_202410_anchor12_constructed.json", DATA),
    ]
    (FOLDER / "responses").mkdir(parents=True, exist_ok=True)
    entries = []
    for url, name, doc in files:
        (FOLDER / "responses" / name).write_text(json.dumps(doc, ensure_ascii=False) + "\n",
                                                 encoding="utf-8")
        entries.append({"method": "GET", "url": url, "status": 200,
                        "headers": {"Content-Type": "application/json; charset=utf-8"},
                        "file": f"responses/{name}"})
    (FOLDER / "responses.json").write_text(json.dumps({"responses": entries}, indent=2,
                                                      ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    print(f"wrote {FOLDER.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
