"""Build this folder's CONSTRUCTED DSB pages and workbooks, and the challenge page of
../dsb_kommuneundersokelsen_blocked/ (none of it is a capture: dsb.no sits behind a browser check).

    .venv/bin/python golden/dsb_kommuneundersokelsen/build.py

Taken from the (unverified) description in SOURCE-FACTS §9.2: a landing page linking one page
per year (`.../kommuneundersokelsen/kommuneundersokelsen-2025/`), a PDF report plus an Excel file
of raw data per year, kommune level, columns changing by year, uneven participation. Everything
else — page markup, file paths, sheet layouts, questions, kommuner's answers — is invented.
The challenge page imitates the markers of Cloudflare's managed-challenge interstitial
("Just a moment...", `window._cf_chl_opt`, `/cdn-cgi/challenge-platform/`) without copying one.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from atlas_crawl.run.golden import stable_xlsx

HERE = Path(__file__).resolve().parent
BLOCKED = HERE.parent / "dsb_kommuneundersokelsen_blocked"
SITE = "https://www.dsb.no"
LANDING = f"{SITE}/ros-og-beredskap/kommuner/kommuneundersokelsen/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HTML = "text/html; charset=utf-8"


def page(title: str, body: str) -> str:
    return ("<!doctype html>\n<html lang=\"nb\"><head><meta charset=\"utf-8\">"
            f"<title>{title} | DSB</title></head>\n<body>\n"
            "<!-- CONSTRUCTED for atlas_crawl's golden test; not a capture of dsb.no -->\n"
            "<nav><a href=\"/\">Forside</a> <a href=\"/ros-og-beredskap/\">ROS og beredskap</a>"
            f"</nav>\n<main>\n<h1>{title}</h1>\n{body}\n</main>\n</body></html>\n")


LANDING_HTML = page("Kommuneundersøkelsen", """<p>DSB kartlegger hvert år kommunenes arbeid med
samfunnssikkerhet og beredskap.</p>
<ul>
<li><a href="kommuneundersokelsen-2024/">Kommuneundersøkelsen 2024</a></li>
<li><a href="/ros-og-beredskap/kommuner/kommuneundersokelsen/kommuneundersokelsen-2023/">
Kommuneundersøkelsen 2023</a></li>
<li><a href="/ros-og-beredskap/kommuner/veileder-helhetlig-ros/">Veileder</a></li>
</ul>""")

YEAR_2024_HTML = page("Kommuneundersøkelsen 2024", """<p>Rapport og rådata.</p>
<ul>
<li><a href="/globalassets/dokumenter/kommuneundersokelsen/kommuneundersokelsen-2024.pdf">
Rapport (pdf)</a></li>
<li><a href="/globalassets/dokumenter/kommuneundersokelsen/sporreskjema-2024.xlsx">
Spørreskjema 2024 (xlsx)</a></li>
<li><a href="/globalassets/dokumenter/kommuneundersokelsen/ku-2024-radata.xlsx">
Rådata fra kommuneundersøkelsen 2024 (xlsx)</a></li>
</ul>""")

YEAR_2023_HTML = page("Kommuneundersøkelsen 2023", """<ul>
<li><a href="/globalassets/dokumenter/kommuneundersokelsen/kommuneundersokelsen-2023.pdf">
Rapport (pdf)</a></li>
<li><a href="/globalassets/dokumenter/kommuneundersokelsen/Kommuneundersokelsen_2023.xlsx">
Last ned tallene (xlsx)</a></li>
</ul>""")

CHALLENGE_HTML = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow">
<meta name="viewport" content="width=device-width,initial-scale=1">
<!-- CONSTRUCTED challenge-like page for atlas_crawl's tests: the markers of a Cloudflare managed
     challenge, not a copy of one -->
</head><body>
<div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">www.dsb.no</h1>
<h2 class="h2" id="challenge-running">Verifying you are human. This may take a few seconds.</h2>
<noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to
continue</span></div></noscript>
<p><a href="/ros-og-beredskap/kommuner/kommuneundersokelsen/kommuneundersokelsen-2024/">
kommuneundersokelsen-2024</a> (a link a careless parser would follow)</p>
</div></div>
<script>(function(){window._cf_chl_opt={cvId: '3', cZone: 'www.dsb.no', cType: 'managed',
cRay: '0000000000000000', cH: 'constructed'};var cpo=document.createElement('script');
cpo.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=0000000000000000';
document.getElementsByTagName('head')[0].appendChild(cpo);}());</script>
</body></html>
"""


def workbook_2024() -> Workbook:
    """Two sheets; the data sheet has title rows above its header, a Besvart column, numeric
    kommune numbers (0301 written as 301), a non-respondent and a total row."""
    wb = Workbook()
    info = wb.active
    info.title = "Om undersøkelsen"
    info.append(["Kommuneundersøkelsen 2024 (konstruert testfil)"])
    info.append(["Svarprosent: 3 av 4 kommuner"])
    ws = wb.create_sheet("Data")
    ws.append(["Kommuneundersøkelsen 2024 – rådata"])
    ws.append([])
    ws.append(["Kommunenummer", "Kommunenavn", "Fylke", "Besvart",
               "Har kommunen en helhetlig ROS-analyse? (1=ja, 0=nei)",
               "Antall beredskapsøvelser siste år", "Kommentar"])
    ws.append([301, "Oslo", "Oslo", "Ja", 1, 12, "Ny ROS vedtatt i 2024"])
    ws.append([3403, "Hamar", "Innlandet", "Ja", 0, 0, None])
    ws.append([5501, "Tromsø", "Troms", "Nei", None, None, None])
    ws.append([1804, "Bodø", "Nordland", "Ja", 1, "3", "Øvelse med nabokommuner"])
    ws.append(["Totalt", None, None, None, 2, 15, None])
    return wb


def workbook_2023() -> Workbook:
    """Another layout: short headers, text kommune numbers, Ja/Nei answers, no Besvart column
    (a kommune with no answer in its row did not answer)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Svar"
    ws.append(["Knr", "Kommune", "ROS-analyse oppdatert siste fire år",
               "Beredskapsplan revidert", "Øvelse gjennomført"])
    ws.append(["0301", "Oslo", "Ja", "Ja", "Ja"])
    ws.append(["3403", "Hamar", "Nei", "Ja", "Nei"])
    ws.append(["5501", "Tromsø", None, None, None])
    ws.append(["1804", "Bodø", "Ja", "Nei", "Ja"])
    return wb


def save(wb: Workbook, path: Path) -> None:
    wb.properties.creator = "atlas_crawl golden (constructed)"
    path.write_bytes(stable_xlsx(wb, datetime(2026, 1, 1)))


def main() -> None:
    responses = HERE / "responses"
    responses.mkdir(parents=True, exist_ok=True)
    files = {
        LANDING: ("kommuneundersokelsen.html", HTML),
        f"{LANDING}kommuneundersokelsen-2024/": ("kommuneundersokelsen-2024.html", HTML),
        f"{LANDING}kommuneundersokelsen-2023/": ("kommuneundersokelsen-2023.html", HTML),
        f"{SITE}/globalassets/dokumenter/kommuneundersokelsen/ku-2024-radata.xlsx":
            ("ku-2024-radata.xlsx", XLSX),
        f"{SITE}/globalassets/dokumenter/kommuneundersokelsen/Kommuneundersokelsen_2023.xlsx":
            ("Kommuneundersokelsen_2023.xlsx", XLSX),
    }
    for name, text in (("kommuneundersokelsen.html", LANDING_HTML),
                       ("kommuneundersokelsen-2024.html", YEAR_2024_HTML),
                       ("kommuneundersokelsen-2023.html", YEAR_2023_HTML)):
        (responses / name).write_text(text, encoding="utf-8")
    save(workbook_2024(), responses / "ku-2024-radata.xlsx")
    save(workbook_2023(), responses / "Kommuneundersokelsen_2023.xlsx")
    entries = [{"method": "GET", "url": url, "status": 200, "headers": {"Content-Type": kind},
                "file": f"responses/{name}"} for url, (name, kind) in sorted(files.items())]
    (HERE / "responses.json").write_text(json.dumps({"responses": entries}, indent=2,
                                                    ensure_ascii=False) + "\n", encoding="utf-8")

    (BLOCKED / "responses").mkdir(parents=True, exist_ok=True)
    (BLOCKED / "responses" / "challenge.html").write_text(CHALLENGE_HTML, encoding="utf-8")
    (BLOCKED / "responses.json").write_text(json.dumps({"responses": [{
        "method": "GET", "url": LANDING, "status": 403, "headers": {"Content-Type": HTML},
        "file": "responses/challenge.html"}]}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(entries)} responses into {responses} and the challenge page into {BLOCKED}")


if __name__ == "__main__":
    main()
