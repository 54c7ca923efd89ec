"""Build the constructed PST302 workbook of this golden folder.

Run from the repository root: `.venv/bin/python golden/nav_uforetrygd/build.py`.
The layout follows the documented public PST302 file (SOURCE-FACTS §4.1): sheet
" Om statistikken" with a leading space, fylke sheets (with "98 Utland"), and the two
"Kommune-bydel" sheets with "2026 : " in B6 and a block per fylke:

    "03 Oslo - Oslove"            fylke title, no data
    Januar  Februar               month row
    "03 Oslo - Oslove i alt  "    fylke total, trailing spaces
    "030101 Gamle Oslo" ...       bydeler
    "0301 Oslo - Oslove"          kommune rollup AFTER its bydeler, "*" in every month
    "11 Rogaland" / months / "11 Rogaland i alt  " / "1101 Eigersund"
    "1103 Stavanger i alt  "      kommune rollup BEFORE its bydeler, with "i alt"
    "110301 Hundvåg" ...

Every number is a PLACEHOLDER chosen to exercise the layout (no public PST302 figures are
documented); only the "*" on 0301 is the documented pattern.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from atlas_crawl.run.golden import stable_xlsx

HERE = Path(__file__).resolve().parent
FILE = "responses/PST302_202602_constructed.xlsx"

# label -> (antall Jan, antall Feb, andel Jan, andel Feb); placeholders, see above.
OSLO = [
    ("03 Oslo - Oslove i alt  ", (3100, 3110, 6.306333321699, 6.31)),
    ("030101 Gamle Oslo", (1800, 1805, 6.1, 6.12)),
    ("030102 Grünerløkka", (1300, 1305, 6.6, 6.6)),
    ("0301 Oslo - Oslove", ("*", "*", "*", "*")),
]
ROGALAND = [
    ("11 Rogaland i alt  ", (2120, 2118, 7.2, 7.19)),
    ("1101 Eigersund", (620, 618, 8.1, 8.08)),
    ("1103 Stavanger i alt  ", (1500, 1500, 6.9, 6.9)),
    ("110301 Hundvåg", (900, 899, 7.0, 6.99)),
    ("110302 Tasta", (600, 601, 6.8, 6.81)),
    ("1144 Kvitsøy", ("*", 3, "*", 1.5)),
]


def kommune_sheet(wb: Workbook, title: str, first: int) -> None:
    ws = wb.create_sheet(title)
    ws["B2"] = ("PST302 Mottakere av uføretrygd. Antall og andel av befolkningen 18-67 år. "
                "Fylke. Kommune.")
    ws["B6"] = "2026 : "
    row = 8
    for fylke, rows in (("03 Oslo - Oslove", OSLO), ("11 Rogaland", ROGALAND)):
        ws.cell(row, 2, fylke)
        ws.cell(row + 1, 3, "Januar")
        ws.cell(row + 1, 4, "Februar")
        row += 2
        for label, values in rows:
            ws.cell(row, 2, label)
            ws.cell(row, 3, values[first])
            ws.cell(row, 4, values[first + 1])
            row += 1
        row += 1


def build() -> bytes:
    wb = Workbook()
    wb.active.title = " Om statistikken"
    wb.active["B2"] = "Andel av befolkningen 18-67 år."
    for title in ("Fylke. Antall", "Fylke. Andel"):
        ws = wb.create_sheet(title)
        ws["B6"] = "2026 : "
        ws["C8"], ws["D8"] = "Januar", "Februar"
        ws["B9"], ws["C9"], ws["D9"] = "98 Utland", 40, 41
    kommune_sheet(wb, "Kommune-bydel. Antall", 0)
    kommune_sheet(wb, "Kommune-bydel. Andel", 2)
    wb.properties.creator = "constructed for atlas_crawl golden tests"
    return stable_xlsx(wb, datetime(2026, 3, 1))



if __name__ == "__main__":
    (HERE / FILE).parent.mkdir(exist_ok=True)
    (HERE / FILE).write_bytes(build())
    print(f"wrote {FILE}")
