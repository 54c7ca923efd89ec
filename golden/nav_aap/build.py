"""Build the constructed AAP155 workbook of this golden folder.

Run from the repository root: `.venv/bin/python golden/nav_aap/build.py`.
The layout follows the documented public AAP155 file (SOURCE-FACTS §4.2): label column B, a
blank cell left of the month row, "I alt 03 Oslo - Oslove" fylke rollups, 4-digit kommune rows,
an "I alt Ukjent" / "Ukjent" pair in the Antall sheet only, "*" for Utsira.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from atlas_crawl.run.golden import stable_xlsx

HERE = Path(__file__).resolve().parent
FILE = "responses/AAP155_202601_constructed.xlsx"

# Antall, January 2026: documented values (SOURCE-FACTS §4.2), except the Rogaland rollup,
# which is the sum of the two Rogaland kommuner kept here (NAV's covers all 23).
ANTALL = [
    [("I alt 03 Oslo - Oslove", 22311), ("0301 Oslo - Oslove", 22311)],
    [("I alt 11 Rogaland", 4283), ("1101 Eigersund", 436), ("1103 Stavanger", 3847),
     ("1151 Utsira", "*")],
    [("I alt Ukjent", 1528), ("Ukjent", 1528)],
]
# Andel: PLACEHOLDERS (no documented value), chosen only to exercise the layout.
ANDEL = [
    [("I alt 03 Oslo - Oslove", 4.1), ("0301 Oslo - Oslove", 4.1)],
    [("I alt 11 Rogaland", 4.7), ("1101 Eigersund", 4.6), ("1103 Stavanger", 4.8),
     ("1151 Utsira", "*")],
]


def sheet(wb: Workbook, title: str, blocks: list) -> None:
    ws = wb.create_sheet(title)
    ws["B1"] = "AAP155 Mottakere av arbeidsavklaringspenger. Kommune."
    ws["B2"] = "Periode: 2026 01 - 2026 01"
    row = 4
    for block in blocks:
        ws.cell(row, 3, "Januar")  # B is blank on the month row
        row += 1
        for label, value in block:
            ws.cell(row, 2, label)
            ws.cell(row, 3, value)
            row += 1


def build() -> bytes:
    wb = Workbook()
    wb.active.title = "0. Om tabellene"
    wb.active["B2"] = ("Prikking: * betyr færre enn 4 personer (statistikkloven § 2-6).")
    sheet(wb, "1. Kommune. Antall", ANTALL)
    sheet(wb, "2. Kommune. Andel", ANDEL)
    wb.properties.creator = "constructed for atlas_crawl golden tests"
    return stable_xlsx(wb, datetime(2026, 2, 1))



if __name__ == "__main__":
    (HERE / FILE).parent.mkdir(exist_ok=True)
    (HERE / FILE).write_bytes(build())
    print(f"wrote {FILE}")
