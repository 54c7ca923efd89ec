"""Build the constructed Bufdir monitor pages, workbooks and ZIPs (deterministic; re-run after a
change and review `git diff golden/`):

    .venv/bin/python tools/build_bufdir_fixtures.py
    .venv/bin/python -m pytest tests/test_golden.py --update-golden -k bufdir

No real Bufdir file could be captured here (the real workbooks exist only as binary fixtures in
terchris/atlas, which the text index used for ../shared/realdata cannot copy). Everything below
follows the layouts documented in ../shared/SOURCE-FACTS.md §5 and §12.4–5; the few numbers that
SOURCE-FACTS quotes from the real files are used where they belong (Norge 2017 barn antall 64465,
prosent "17,7"; Bispevika 03010109 2013–2023 `.. 12 .. 13 18 14 24 18 17 18 19`; barnevern 2A
`17689,64` kroner). Every other number is invented.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from atlas_crawl.run.golden import stable_xlsx

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
STRAPI = "https://ca-statistikk-strapi-prod.whitesea-89be7839.norwayeast.azurecontainerapps.io"
PAGES = {
    "barnefattigdom": "https://www.bufdir.no/statistikk-og-analyse/monitor/barnefattigdom/",
    "barnevern": "https://www.bufdir.no/statistikk-og-analyse/monitor/barnevern/",
}
FIXED = (2026, 7, 3, 8, 0, 0)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --------------------------------------------------------------------------------------------
# Deterministic files


def xlsx_bytes(wb: Workbook) -> bytes:
    return stable_xlsx(wb, datetime(*FIXED))


def zip_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, FIXED)
            info.flag_bits |= 0x800  # UTF-8 names, as macOS' Archive Utility writes them
            z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


RESOURCE_FORK = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "  # AppleDouble header


# --------------------------------------------------------------------------------------------
# Workbooks


def barnefattigdom_workbook(title: str, years: list[int], rows: list[list]) -> bytes:
    """Sheet `Data`: title rows, then `Region | Regionnavn | Enhet | Tallformat | <years>`."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append([title])
    ws.append(["Kilde: SSB, inntekts- og formuesstatistikk for husholdninger"])
    ws.append([])
    ws.append(["Region", "Regionnavn", "Enhet", "Tallformat", *years])
    for row in rows:
        ws.append(row)
    ws.append([])
    ws.append(["Tallene for bydeler og delbydeler gjelder Oslo."])
    return xlsx_bytes(wb)


def barnevern_workbook(stem: str, years: list[int], rows: list[list]) -> bytes:
    """Sheet `Sheet1`: the file-name stem in row 1, the header in row 3, no Enhet column."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append([stem])
    ws.append([])
    ws.append(["Region", "Regionnavn", "Tallformat", *years])
    for row in rows:
        ws.append(row)
    return xlsx_bytes(wb)


def turnover_workbook() -> bytes:
    """The barnevern turnover file in its own layout (SOURCE-FACTS §5.2)."""
    wb = Workbook()
    info = wb.active
    info.title = "Info"
    info.append(["Turnover blant saksbehandlere i det kommunale barnevernet 2016-2024"])
    ws = wb.create_sheet("Turnover saksbehandlere")
    ws.append(["Kommune", "turnover 2015-2016", "turnover 2023-2024"])
    ws.append(["0301 Oslo", 0.18, 0.21])
    return xlsx_bytes(wb)


def prosent(x: float) -> str:
    """Bufdir's percent text: padded, decimal comma."""
    return f"{x:7.1f}".replace(".", ",")


def barnefattigdom_bundle() -> list[tuple[str, bytes]]:
    years17 = list(range(2017, 2025))
    ind17 = barnefattigdom_workbook(
        "Tab. 17: Barn 0-5 år i husholdninger som leier bolig (kun personer)", years17, [
            ["0", "Norge", "barn", "antall", 64465, 63010, 61877, 60122, 59870, 58403, 57990, 57311],
            ["0", "Norge", "barn", "prosent", prosent(17.7), prosent(17.5), prosent(17.3),
             prosent(17.0), prosent(17.1), prosent(16.8), prosent(16.9), prosent(16.7)],
            ["03", "Oslo", "barn", "antall", 15842, 15501, 15233, 14908, 14877, 14420, 14310, 14102],
            ["03", "Oslo", "barn", "prosent", prosent(25.1), prosent(24.9), prosent(24.6),
             prosent(24.0), prosent(24.2), prosent(23.7), prosent(23.8), prosent(23.5)],
            ["0301", "Oslo", "barn", "antall", 15842, 15501, 15233, 14908, 14877, 14420, 14310, 14102],
            ["030101", "Gamle Oslo", "barn", "antall", 1630, 1588, 1571, 1502, 1490, 1455, 1449, 1437],
            ["030101", "Gamle Oslo", "barn", "prosent", prosent(38.2), prosent(37.6), "..",
             prosent(36.1), prosent(35.9), prosent(35.0), prosent(35.2), prosent(34.8)],
            ["03010109", "Bispevika", "barn", "antall", "..", 12, "..", 13, 18, 14, 24, 18],
            ["03010109", "Bispevika", "barn", "prosent", "..", ".", "..", ".", ".", ".", ".", "."],
            ["4601", "Bergen", "barn", "antall", 5120, 5066, 4987, 4870, None, 4733, 4710, 4688],
            ["5503", "Harstad - Hárstták", "barn", "antall", 310, 305, 298, 290, 284, 281, 277, 270],
        ])
    years4 = list(range(2019, 2024))
    ind4 = barnefattigdom_workbook(
        "Tab. 4: Barn i husholdninger som har mottatt sosialhjelp i løpet av året", years4, [
            # Codes stored as Excel numbers: the leading zeros are gone and must come back.
            [0, "Norge", "barn", "antall", "91 204", "89 877", "88 015", "86 950", "87 402"],
            [0, "Norge", "husholdning", "antall", "48 310", "47 702", "46 980", "46 201", "46 655"],
            [301, "Oslo", "barn", "antall", "19 870", "19 402", "18 990", "18 611", "18 720"],
            [301, "Oslo", "husholdning", "prosent", prosent(7.9), prosent(7.7), prosent(7.5),
             prosent(7.3), prosent(7.4)],
            [30101, "Gamle Oslo", "barn", "antall", 2140, 2093, 2051, 1987, 2004],
            [3010109, "Bispevika", "barn", "antall", 17, 18, 19, 18, 17],
        ])
    ind9a = barnefattigdom_workbook(
        "Tab. 9a: Barn med innvandrerbakgrunn i husholdninger med vedvarende lavinntekt",
        [2022, 2023], [
            ["0", "Norge", "barn", "prosent", prosent(36.4), prosent(36.9)],
            ["1103", "Stavanger", "barn", "prosent", prosent(33.0), ".."],
        ])
    return [
        ("Indikator_17_barn_0-5_i_hush_som_leier_bolig_kun_pers.xlsx", ind17),
        ("Indikator_4_barn_i_hush_mottat_sosialhjelp_ila_året.xlsx", ind4),
        ("Indikator_9a_barn_innvandrerbakgrunn_vedvarende_lavinntekt.xlsx", ind9a),
        ("__MACOSX/._Indikator_17_barn_0-5_i_hush_som_leier_bolig_kun_pers.xlsx", RESOURCE_FORK),
        ("._Indikator_4_barn_i_hush_mottat_sosialhjelp_ila_året.xlsx", RESOURCE_FORK),
        ("Les_meg.txt", b"Indikatorer fra Barnefattigdom kommunemonitor.\n"),
    ]


YEARS_BV = list(range(2021, 2026))


def barnevern_bundle() -> list[tuple[str, bytes]]:
    ind1a = barnevern_workbook("1A_andel_ant_barn_tiltak_ilaaret_ialt_0_17", YEARS_BV, [
        ["0", "Norge", "Antall", 52731, 51003, 49402, 48120, 47765],
        ["0", "Norge", "Andel", "4,5", "4,4", "4,3", "4,2", "4,1"],
        ["03", "Oslo", "Antall", 6120, 5988, 5802, 5611, 5590],
        ["0301", "Oslo", "Antall", 6120, 5988, 5802, 5611, 5590],
        ["030101", "Gamle Oslo", "Antall", 702, 688, "..", 640, 633],
        ["030101", "Gamle Oslo", "Andel", "9,8", "9,6", "..", "9,0", "8,9"],
        ["1804", "Bodø", "Antall", 401, 395, 388, 380, "."],
        # Svalbard placeholders: every value empty.
        ["21", "Svalbard", "Antall", None, None, None, None, None],
        ["2111", "Longyearbyen", "Antall", None, None, None, None, None],
    ])
    ind2a = barnevern_workbook("2A_netto_driftsutgifter_barnevern_per_barn_0_17", YEARS_BV, [
        # "Andel" here is kroner per child, not a percentage.
        ["0", "Norge", "Andel", "16 902,10", "17 255,48", "17 689,64", "18 102,00", "18 540,75"],
        ["0301", "Oslo", "Andel", "21 015,33", "21 540,90", "22 003,12", "..", "22 911,40"],
    ])
    ind3m = barnevern_workbook("3M_turnover_saksbehandlere", [2023, 2024], [
        ["0", "Norge", "Andel", "17,9", "18,4"],
        ["0301", "Oslo", "Andel", "21,0", "20,6"],
    ])
    return [
        ("1A_andel_ant_barn_tiltak_ilaaret_ialt_0_17.xlsx", ind1a),
        ("2A_netto_driftsutgifter_barnevern_per_barn_0_17.xlsx", ind2a),
        ("3M_turnover_saksbehandlere.xlsx", ind3m),
        ("Turnover_kommunalt barnevern_2016-2024.xlsx", turnover_workbook()),
        ("._1A_andel_ant_barn_tiltak_ilaaret_ialt_0_17.xlsx", RESOURCE_FORK),
    ]


def unknown_workbook() -> bytes:
    """A workbook in a layout neither monitor uses: the run must name it and fail."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["5A_ny_indikator_under_arbeid"])
    ws.append([])
    ws.append(["Kommunenummer", "Kommune", "2024"])
    ws.append(["0301", "Oslo", 12])
    return xlsx_bytes(wb)


# --------------------------------------------------------------------------------------------
# Monitor pages


def monitor_page(monitor: str, title: str, links: list[tuple[str, str]]) -> bytes:
    """A server-rendered page whose download link sits both in an <a> and, as Markdown, in the
    embedded JSON with escaped slashes (the way a headless-CMS page carries it)."""
    anchors = "\n".join(f'      <li><a href="{href}">{text}</a></li>' for href, text in links)
    markdown = " ".join(f"[{text}]({href})" for href, text in links)
    data = json.dumps({"props": {"pageProps": {"monitor": monitor, "body": markdown}}})
    data = data.replace("/", "\\/")
    return f"""<!DOCTYPE html>
<html lang="nb">
<head><meta charset="utf-8"><title>{title} | Bufdir</title></head>
<body>
  <main>
    <h1>{title}</h1>
    <p>Her kan du laste ned hele datasettet.</p>
    <ul>
{anchors}
    </ul>
  </main>
  <script id="__NEXT_DATA__" type="application/json">{data}</script>
</body>
</html>
""".encode()


def write_cassette(folder: Path, entries: list[tuple[str, str, str, bytes, dict]]) -> None:
    """entries: (url, content type, file name, body, extra headers)."""
    (folder / "responses").mkdir(parents=True, exist_ok=True)
    index = []
    for url, ctype, name, body, extra in entries:
        (folder / "responses" / name).write_bytes(body)
        index.append({"method": "GET", "url": url, "status": 200,
                      "headers": {"Content-Type": ctype, **extra},
                      "file": f"responses/{name}"})
    index.sort(key=lambda e: e["url"])
    (folder / "responses.json").write_text(
        json.dumps({"responses": index}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_case(folder: Path, spider: str, tables: list[str]) -> None:
    # Everything this builder writes is constructed: a test fixture, never a statistic.
    spec = {"spider": spider, "data_origin": "constructed", "args": {}, "tables": tables}
    (folder / "golden.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")


def build_barnefattigdom() -> None:
    folder = GOLDEN / "bufdir_barnefattigdom"
    # A name no known pattern matches (a hypothetical next rename): accepted because it is the
    # only ZIP under /uploads/; the other ZIP on the page is not under /uploads/.
    zip_url = f"{STRAPI}/uploads/Kommunemonitor_data_2027_06_30_a1b2c3d4e5.zip"
    page = monitor_page("barnefattigdom", "Barnefattigdom kommunemonitor", [
        (zip_url, "Last ned hele datasettet (zip)"),
        ("https://www.bufdir.no/globalassets/metode/Metodenotat_kommunemonitor.zip",
         "Metodenotat (zip)"),
        ("/statistikk-og-analyse/monitor/barnefattigdom/om/", "Om monitoren"),
    ])
    write_cassette(folder, [
        (PAGES["barnefattigdom"], "text/html; charset=utf-8", "monitor_page_constructed.html",
         page, {}),
        (zip_url, "application/zip", "bundle_renamed_constructed.zip",
         zip_bytes(barnefattigdom_bundle()), {"Last-Modified": "Wed, 30 Jun 2027 08:00:00 GMT"}),
    ])
    write_case(folder, "bufdir_barnefattigdom",
               ["bufdir_barnefattigdom", "bufdir_barnefattigdom_indikatorer"])


def build_barnevern() -> None:
    folder = GOLDEN / "bufdir_barnevern"
    zip_url = f"{STRAPI}/uploads/Kommunemonitor_barnevern_2026_09_04_cedc894149.zip"
    page = monitor_page("barnevern", "Barnevern kommunemonitor", [
        (zip_url, "Last ned hele datasettet"),
        # Also a ZIP under /uploads/ with "barnevern" in its name: the exact shape wins.
        (f"{STRAPI}/uploads/Metodebeskrivelse_barnevern_2026_0a1b2c3d4e.zip", "Metode"),
    ])
    write_cassette(folder, [
        (PAGES["barnevern"], "text/html; charset=utf-8", "monitor_page_constructed.html",
         page, {}),
        (zip_url, "application/zip", "Kommunemonitor_barnevern_constructed.zip",
         zip_bytes(barnevern_bundle()), {"Last-Modified": "Fri, 04 Sep 2026 06:12:40 GMT"}),
    ])
    write_case(folder, "bufdir_barnevern", ["bufdir_barnevern", "bufdir_barnevern_indikatorer"])


def build_failures() -> None:
    """Cassettes for the runs that must fail (tests/test_bufdir_spiders.py; no golden.json)."""
    folder = GOLDEN / "bufdir_barnevern_unknown_workbook"
    zip_url = f"{STRAPI}/uploads/Kommunemonitor_barnevern_2027_09_01_ffee001122.zip"
    entries = barnevern_bundle()[:1] + [("5A_ny_indikator_under_arbeid.xlsx", unknown_workbook())]
    write_cassette(folder, [
        (PAGES["barnevern"], "text/html; charset=utf-8", "monitor_page_constructed.html",
         monitor_page("barnevern", "Barnevern kommunemonitor", [(zip_url, "Last ned")]), {}),
        (zip_url, "application/zip", "bundle_with_unknown_workbook_constructed.zip",
         zip_bytes(entries), {}),
    ])
    folder = GOLDEN / "bufdir_barnefattigdom_ambiguous"
    write_cassette(folder, [
        (PAGES["barnefattigdom"], "text/html; charset=utf-8", "monitor_page_constructed.html",
         monitor_page("barnefattigdom", "Barnefattigdom kommunemonitor", [
             (f"{STRAPI}/uploads/Datasett_2027_a1a1a1a1a1.zip", "Last ned datasettet"),
             (f"{STRAPI}/uploads/Datasett_2026_b2b2b2b2b2.zip", "Forrige versjon"),
         ]), {}),
    ])


def main() -> None:
    build_barnefattigdom()
    build_barnevern()
    build_failures()


if __name__ == "__main__":
    main()
