"""Build this folder's CONSTRUCTED Lottstift workbooks and open-data page (not captures).

    .venv/bin/python golden/lottstift_momskompensasjon/build.py

What is documented (SOURCE-FACTS §6) and reproduced exactly: each year's sheet name, the header
text of the recipient-orgnr and amount columns and their 0-based positions, 2022's applicant
column `Org.nr søkar` at position 4 beside the recipient's `Org.nr`, the header in row 1, orgnr
cells numeric in some years and text in others, blank amounts, and recipients with several cases
in a year. Everything else is filler and invented: the other header texts, the organisations
(made-up numbers that pass Brreg's mod-11 check) and every amount.

Also writes `unmapped_2025.xlsx` (a made-up 2025 layout no manifest map matches) for the test
that a year without a map fails with the headers found.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from atlas_crawl.run.golden import stable_xlsx

HERE = Path(__file__).resolve().parent
RESPONSES = HERE / "responses"
BASE = "https://lottstift.no/app/uploads/"
LISTING = "https://lottstift.no/nb/om-oss/apne-data/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def orgnr(stem: int) -> str:
    """A made-up 9-digit number with a valid mod-11 control digit (stem: 8 digits)."""
    digits = f"{stem:08d}"
    for bump in range(100):
        d = f"{stem + bump:08d}"
        rest = sum(int(x) * w for x, w in zip(d, WEIGHTS)) % 11
        control = 0 if rest == 0 else 11 - rest
        if control != 10:
            return d + str(control)
    raise AssertionError(digits)


A, B, C, D, E, F = (orgnr(s) for s in (99100010, 99200020, 99300030, 99400040, 99500050,
                                      99600060))
BAD_CHECKSUM = "991000100" if orgnr(99100010) != "991000100" else "991000101"

# year -> (file path under uploads/, sheet, headers by 0-based position, rows)
# In rows, None leaves a cell empty. Header positions of orgnr/amount are the documented ones.
YEARS: dict[int, tuple[str, str, list[str], list[list]]] = {
    2019: ("2021/07/Oversikt-over-alle-mottakarar_2019-1.xlsx", "2019",
           ["Saksnummer", "Søkar", "Org.nr. søkar", "Org.nr. mottakar", "Mottakar", "Kategori",
            "Søkt beløp (NOK)", "Tildelt etter avkorting (NOK)"],
           [["S19-1", "Søkar A", int(A), int(A), "Mottakar A", "Idrett", 120000, 101234.5],
            ["S19-2", "Søkar A", int(A), int(A), "Mottakar A", "Idrett", 10000, 8000],
            ["S19-3", "Paraply B", int(B), int(C), "Lokallag C", "Kultur", 50000, 41000],
            ["S19-4", "Søkar D", int(D), int(D), "Mottakar D", "Helse", 9000, None],
            ["S19-5", "Søkar E", int(E), None, "Mottakar uten orgnr", "Helse", 5000, 4000]]),
    2020: ("2021/06/Oversikt-over-alle-sokarar_2020_moms.xlsx", "2020",
           ["Org.nr. søkar", "Søkar", "Søknadstype", "Søkt beløp (NOK)", "Utbetalt Beløp (NOK)"],
           [[A, "Søkar A", "Forenklet", 130000, 111111],
            [C, "Lokallag C", "Forenklet", 60000, 45000.25],
            [C, "Lokallag C", "Dokumentert", 20000, 15000],
            [C, "Lokallag C", "Dokumentert", 1000, 500],
            [BAD_CHECKSUM, "Skrivefeil", "Forenklet", 2000, 1500]]),
    2021: ("2023/01/Oversikt-over-alle-mottakarar_2021_moms.xlsx", "2021",
           ["Saksnummer", "Søkar", "Org.nr. søkar", "Org.nr. mottakar", "Mottakar", "Kategori",
            "Søkt beløp (NOK)", "Tildelt beløp (NOK)",
            "Utbetalt beløp ink. administrasjonsgebyr (NOK)"],
           [["S21-1", "Søkar A", A, A, "Mottakar A", "Idrett", 140000, 120000, 121500],
            ["S21-2", "Søkar D", D, D, "Mottakar D", "Helse", 7000, 6000, None],
            ["S21-3", "Søkar D", D, D, "Mottakar D", "Helse", 3000, 2000, None],
            ["S21-4", "Søkar F", F, F, "Mottakar F", "Kultur", 9000, 8000, "8 100,50"]]),
    2022: ("2022/12/Oversikt-over-mottakere-og-tildelt-belop-2022.xlsx", "Uttrekk_moms",
           ["Saksnummer", "Org.nr", "Mottaker", "Søker", "Org.nr søkar", "Kommune", "Kategori",
            "Søkt beløp", "Tildelt beløp"],
           [["S22-1", int(C), "Lokallag C", "Paraply B", int(B), "HAMAR", "Kultur", 70000,
             65000],
            ["S22-2", int(E), "Mottakar E", "Mottakar E", int(E), "BODØ", "Helse", 30000,
             25000],
            ["S22-3", int(E), "Mottakar E", "Mottakar E", int(E), "BODØ", "Helse", 10000,
             9000],
            ["S22-4", int(A), "Mottakar A", "Søkar A", int(A), "OSLO", "Idrett", 150000,
             140000]]),
    2023: ("2023/12/Oversikt-over-mottakere-og-tildelt-belop-2023.xlsx", "Uttrekk_moms",
           ["Saksnummer", "Org.nr", "Mottaker", "Søker", "Org.nr søkar", "Kommune", "Kommunenr",
            "Kategori", "Søkt beløp", "Tildelt beløp"],
           [["S23-1", f"{A[:3]} {A[3:6]} {A[6:]}", "Mottakar A", "Søkar A", A, "OSLO", 301,
             "Idrett", 160000, 150000],
            ["S23-2", F, "Mottakar F", "Søkar F", F, "TROMSØ", 5501, "Kultur", 12000, 11000],
            ["S23-3", None, None, None, None, None, None, None, None, None],
            ["S23-4", "Ukjent", "Mottakar ukjent", "Søkar", D, "ALTA", 5601, "Helse", 1000,
             900]]),
    2024: ("2026/06/Oversikt-over-tildelinger-momskompensasjon-2024.xlsx", "Tildelinger",
           ["Saksnummer", "Organisasjonsnummer", "Organisasjon", "Kategori", "Søkt",
            "Tildelt"],
           [["S24-1", int(A), "Mottakar A", "Idrett", 170000, 160000],
            ["S24-2", int(B), "Paraply B", "Kultur", 40000, 35000],
            ["S24-3", int(B), "Paraply B", "Kultur", 5000, 4500.75],
            ["S24-4", int(C), "Lokallag C", "Kultur", 80000, None],
            ["S24-5", int(F), "Mottakar F", "Kultur", 15000, 0]]),
}

UNMAPPED = ("unmapped_2025.xlsx", "Tildelinger 2025",
            ["Sak", "Orgnr mottaker", "Navn", "Beløp tildelt"],
            [["S25-1", A, "Mottakar A", 1000]])


def workbook(sheet: str, headers: list[str], rows: list[list]) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(headers)
    for row in rows:
        ws.append(row)
    wb.properties.creator = "atlas_crawl golden (constructed)"
    return wb


def save(wb: Workbook, path: Path) -> None:
    path.write_bytes(stable_xlsx(wb, datetime(2026, 1, 1)))


def main() -> None:
    RESPONSES.mkdir(parents=True, exist_ok=True)
    entries = []
    links = []
    for year, (path, sheet, headers, rows) in YEARS.items():
        name = path.rsplit("/", 1)[-1]
        save(workbook(sheet, headers, rows), RESPONSES / name)
        entries.append({"method": "GET", "url": BASE + path, "status": 200,
                        "headers": {"Content-Type": XLSX}, "file": f"responses/{name}"})
        links.append(f'<li><a href="/app/uploads/{path}">Momskompensasjon {year} (xlsx)</a></li>')
    name, sheet, headers, rows = UNMAPPED
    save(workbook(sheet, headers, rows), RESPONSES / name)
    page = (
        "<!doctype html>\n<html lang=\"nb\"><head><meta charset=\"utf-8\">"
        "<title>Åpne data - Lotteri- og stiftelsestilsynet</title></head>\n<body>\n"
        "<!-- CONSTRUCTED for atlas_crawl's golden test; not a capture of lottstift.no -->\n"
        "<h1>Åpne data</h1>\n<h2>Momskompensasjon</h2>\n<ul>\n" + "\n".join(links) + "\n"
        "<li><a href=\"/app/uploads/2019/05/Oversikt-mottakere-moms-2017.xlsx\">2017</a></li>\n"
        "</ul>\n<h2>Lotteri</h2>\n<ul><li><a href=\"/app/uploads/2024/02/"
        "Lotteriregisteret-2023.xlsx\">Lotteriregisteret</a></li></ul>\n</body></html>\n"
    )
    (RESPONSES / "apne-data.html").write_text(page, encoding="utf-8")
    entries.append({"method": "GET", "url": LISTING, "status": 200,
                    "headers": {"Content-Type": "text/html; charset=utf-8"},
                    "file": "responses/apne-data.html"})
    (HERE / "responses.json").write_text(
        json.dumps({"responses": sorted(entries, key=lambda e: e["url"])}, indent=2,
                   ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(YEARS)} workbooks, {UNMAPPED[0]} and the open-data page into {RESPONSES}")
    print("organisations:", A, B, C, D, E, F, "bad checksum:", BAD_CHECKSUM)


if __name__ == "__main__":
    main()
