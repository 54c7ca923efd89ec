"""Write the constructed FHI cassettes: golden/fhi_befolkningsvekst/ and golden/fhi_selvmord_file/.

    .venv/bin/python tools/build_fhi_golden.py

No real answer of FHI's open API was found in any public repository reachable here. These are
built from FHI's own documentation (github.com/folkehelseinstituttet/Fhi.Statistikk.OpenAPI,
README): the data answer of golden/fhi_befolkningsvekst is the documentation's example response
for "Befolkningsvekst (B)" verbatim; the `/query` answer before it and the selvmord answer are
constructed in the documented shape, with made-up values. Regenerating is deliberate: run this,
then `pytest tests/test_golden.py --update-golden -k fhi_` and review `git diff golden/`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from atlas_crawl.formats import fhi

GOLDEN = ROOT / "golden"
HEADERS = {"Content-Type": "application/json; charset=utf-8"}

# FHI's README, "Example of a jsonstat response" (the version with role.metric and unit).
DOC_EXAMPLE = {
    "class": "dataset", "version": "2.0", "href": None, "label": "Befolkningsvekst (B)",
    "updated": "2022-12-20T11:44:58.7706326+00:00", "source": None,
    "id": ["GEO", "AAR", "KJONN", "ALDER", "MEASURE_TYPE"], "size": [2, 2, 1, 1, 1],
    "role": {"time": None, "geo": None, "metric": ["MEASURE_TYPE"]},
    "dimension": {
        "GEO": {"label": "Geografi", "category": {"index": ["03", "30"],
                                                  "label": {"03": "Oslo", "30": "Viken"}}},
        "AAR": {"label": "År", "category": {"index": ["2020_2020", "2021_2021"],
                                            "label": {"2020_2020": "2020", "2021_2021": "2021"}}},
        "KJONN": {"label": "Kjønn", "category": {"index": ["0"], "label": {"0": "Kjønn samlet"}}},
        "ALDER": {"label": "Alder", "category": {"index": ["0"], "label": {"0": "Alle aldre"}}},
        "MEASURE_TYPE": {"label": "Måltall", "category": {
            "index": ["BEFVEKST_ANT"], "label": {"BEFVEKST_ANT": "antall"},
            "unit": {"BEFVEKST_ANT": {"decimals": None, "label": "antall", "symbol": None,
                                      "position": None}}}},
    },
    "value": [3516, 2817, 11219, 16846],
    "status": "",
}
QUERY_185 = {  # the documented /query shape, with the example's categories
    "dimensions": [
        {"code": "GEO", "filter": "item", "values": ["03", "30"]},
        {"code": "AAR", "filter": "item", "values": ["2020_2020", "2021_2021"]},
        {"code": "KJONN", "filter": "item", "values": ["0"]},
        {"code": "ALDER", "filter": "item", "values": ["0"]},
        {"code": "MEASURE_TYPE", "filter": "item", "values": ["BEFVEKST_ANT"]},
    ],
    "response": {"format": "json-stat2", "maxRowCount": 50000},
}
SELVMORD = {  # constructed: multi-year periods, a bydel, unknown place, "k" and ".." hidden values
    "class": "dataset", "version": "2.0", "href": None, "label": "Selvmord (B)",
    "updated": "2026-03-01T08:00:00+00:00", "source": None,
    "id": ["GEO", "AAR", "KJONN", "MEASURE_TYPE"], "size": [4, 2, 1, 2],
    "role": {"time": None, "geo": None, "metric": ["MEASURE_TYPE"]},
    "dimension": {
        "GEO": {"label": "Geografi", "category": {
            "index": ["0", "03", "030101", "9999"],
            "label": {"0": "Hele landet", "03": "Oslo", "030101": "Gamle Oslo",
                      "9999": "Uoppgitt"}}},
        "AAR": {"label": "År", "category": {
            "index": ["2018_2022", "2019_2023"],
            "label": {"2018_2022": "2018-2022", "2019_2023": "2019-2023"}}},
        "KJONN": {"label": "Kjønn", "category": {"index": ["0"], "label": {"0": "Kjønn samlet"}}},
        "MEASURE_TYPE": {"label": "Måltall", "category": {
            "index": ["TELLER", "RATE"], "label": {"TELLER": "antall", "RATE": "per 100 000"},
            "unit": {"TELLER": {"decimals": 0, "label": "antall", "symbol": None,
                                "position": None},
                     "RATE": {"decimals": 1, "label": "per 100 000", "symbol": None,
                              "position": None}}}},
    },
    "value": [650.2, 12.1, 655.4, 12.2, 78.0, 11.4, 80.2, 11.6, "k", "k", "k", "k",
              "..", "..", "..", ".."],
    "status": "",
}


def write(folder: Path, name: str, doc, bom: bool = False) -> str:
    (folder / "responses").mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    (folder / "responses" / name).write_bytes((b"\xef\xbb\xbf" if bom else b"")
                                              + text.encode("utf-8"))
    return f"responses/{name}"


def main() -> int:
    folder = GOLDEN / "fhi_befolkningsvekst"
    entries = [{"method": "GET", "url": fhi.table_url("nokkel", "185", "query"),
                "status": 200, "headers": HEADERS,
                "file": write(folder, "query_185_constructed.json", QUERY_185)}]
    for n, body in enumerate(fhi.data_bodies(fhi.query_dimensions(QUERY_185)), 1):
        entries.append({"method": "POST", "url": fhi.table_url("nokkel", "185", "data"),
                        "body": json.dumps(body, ensure_ascii=False), "status": 200,
                        "headers": HEADERS,
                        "file": write(folder, f"data_185_{n}_documentation_example.json",
                                      DOC_EXAMPLE)})
    (folder / "responses.json").write_text(
        json.dumps({"responses": entries}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    write(GOLDEN / "fhi_selvmord_file", "selvmord_344_constructed_bom.json", SELVMORD, bom=True)
    print("wrote golden/fhi_befolkningsvekst and golden/fhi_selvmord_file")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
