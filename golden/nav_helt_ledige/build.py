"""Build the constructed HL060 workbook and landing page of this golden folder.

Run from the repository root: `.venv/bin/python golden/nav_helt_ledige/build.py`.
The layout follows the documented public HL060 file (label column B, a bare fylke header,
the month row, "I alt <fylke>", "NNNN name" kommune rows, "2100 Svalbard", "Ukjent" twice).
The January 2026 numbers are copied from NAV's real delivery
`../shared/realdata/nav/nav_ledighet_og_stillinger_telemark_2026-02-05.xlsx` (sheets "Fylker"
and "Telemark", Helt ledige, Begge kjønn), so each can be checked there.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from atlas_crawl.run.golden import stable_xlsx

HERE = Path(__file__).resolve().parent
NAME = "202601_HL060 Helt ledige. Fylke og kommune. Tidsserie måned.xlsx"
FILE = "responses/202601_HL060_constructed.xlsx"

# (label, antall, prosent) for January 2026, from the real delivery; None = blank there.
BLOCKS = [
    ("Oslo - Oslove", [("I alt Oslo - Oslove", 12125, 2.9), ("0301 Oslo - Oslove", 12125, 2.9)]),
    ("Telemark", [
        ("I alt Telemark", 2328, 2.7),
        ("4001 Porsgrunn", 554, 3), ("4003 Skien", 760, 2.7), ("4005 Notodden", 185, 2.8),
        ("4010 Siljan", 12, 1), ("4012 Bamble", 192, 2.8), ("4014 Kragerø", 130, 2.7),
        ("4016 Drangedal", 46, 2.4), ("4018 Nome", 82, 2.6), ("4020 Midt-Telemark", 152, 2.8),
        ("4022 Seljord", 31, 2.1), ("4024 Hjartdal", 18, 2.2), ("4026 Tinn", 58, 2.1),
        ("4028 Kviteseid", 20, 1.6), ("4030 Nissedal", 12, 1.7), ("4032 Fyresdal", 12, 1.8),
        ("4034 Tokke", 27, 2.3), ("4036 Vinje", 37, 1.8),
    ]),
    ("Svalbard og øvrige områder", [
        ("I alt Svalbard og øvrige områder", 13, None), ("2100 Svalbard", 13, None)]),
    # HL060 shows Ukjent's share as "*" in every month (SOURCE-FACTS §4.3).
    ("Ukjent", [("I alt Ukjent", 13, "*"), ("Ukjent", 13, "*")]),
]


def kommune_sheet(wb: Workbook, title: str, column: int, spacer: bool) -> None:
    ws = wb.create_sheet(title)
    ws["B1"] = "HL060 Helt ledige. Fylke og kommune. Tidsserie måned."
    ws["B2"] = "Antall" if column == 1 else "Prosent av arbeidsstyrken"
    ws["B3"] = "Januar - januar 2026"
    row = 5
    for fylke, rows in BLOCKS:
        ws.cell(row, 2, fylke)
        ws.cell(row + 1, 3, "Januar")
        row += 2
        for values in rows:
            ws.cell(row, 2, values[0])
            if values[column] is not None:
                ws.cell(row, 3, values[column])
            row += 1
        if spacer:  # blank rows between fylke blocks exist in the Prosent sheet only
            row += 1


# (code, name, antall, prosent) of the fylke sheets, January 2026, from the same real delivery
# (sheet "Landet": Helt ledige, Begge kjønn 68932 / 2.3; sheet "Fylker" as above). Ukjent's
# share is "*" as on the kommune sheet. The delivery's "97 Svalbard og øvrige områder" is left
# out: how the public HL060 of 2026 codes that group on its fylke sheets is not known here.
FYLKE_ROWS = [(None, "I alt", 68932, 2.3), ("03", "Oslo", 12125, 2.9),
              ("40", "Telemark", 2328, 2.7), ("Ukjent", "Ukjent", 13, "*")]


def build() -> bytes:
    wb = Workbook()
    about = wb.active
    about.title = "0. Om tabellene"
    about["B2"] = "HL060 Helt ledige. Fylke og kommune. Tidsserie måned."
    about["B4"] = ("Brudd i tidsserien: januar 2024 (ny kommune- og fylkesstruktur), november "
                   "2018 (ny registreringsmetode), april 2025 (modernisering).")
    # The fylke sheets in the layout of NAV's real HL060 of October 2022
    # (tests/data/nav_hl060/): period in B6, the month over every other column from D8, then
    # the code in B, the name in C: "I alt" (the whole country) first, "Ukjent" last.
    for title, column in (("1. Fylke Antall", 1), ("2. Fylke Prosent av arbeidsstyr", 2)):
        ws = wb.create_sheet(title)
        ws["B2"], ws["E2"] = "Kilde: NAV", "Helt ledige. Fylke og kommune. Tidsserie måned"
        ws["E3"] = "Fylke. Antall²" if column == 1 else "Fylke. Prosent av arbeidsstyrken²"
        ws["B6"] = "Januar - januar 2026"
        ws["D8"] = "Januar"
        for n, (code, name, *values) in enumerate(FYLKE_ROWS, start=9):
            ws.cell(n, 2, code)
            ws.cell(n, 3, name)
            ws.cell(n, 4, values[column - 1])
    kommune_sheet(wb, "3. Kommune Antall", 1, spacer=False)
    kommune_sheet(wb, "4. Kommune Prosent av arbeidsst", 2, spacer=True)
    wb.properties.creator = "constructed for atlas_crawl golden tests"
    return stable_xlsx(wb, datetime(2026, 2, 1))



if __name__ == "__main__":
    (HERE / FILE).parent.mkdir(exist_ok=True)
    (HERE / FILE).write_bytes(build())
    print(f"wrote {FILE}")
