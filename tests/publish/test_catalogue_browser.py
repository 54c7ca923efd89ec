"""End to end: crawl recorded responses into a temporary database, publish the catalogue, serve
it read-only with Datasette on 127.0.0.1, and look at it in headless Chromium the way a person
would: the index, a table page, a facet, canned queries and a chart.

Needs Debian's chromium (scripts/install-chromium.sh). Screenshots are kept in the test's
temporary folder (pytest prints it on failure; `--basetemp=DIR` keeps them somewhere known).
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest
import pytest_twisted
import yaml
from conftest import golden_rows, page_text, publish_golden_cases

from atlas_crawl.manifests import all_manifests

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The reference geography, a yearly table, a monthly table (annual view) and a names-only source.
CASES = ["ssb_klass", "ssb_07459", "nav_uforetrygd", "imdi_bosetting", "bufdir_barnefattigdom",
         "nav_helt_ledige"]
SENSITIVE = "nav_uforetrygd"

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} not installed (scripts/install-chromium.sh)", allow_module_level=True)


def shown(value: float) -> str:
    """A number as the catalogue shows it: counts stored as REAL without the `.0`."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


@pytest_twisted.async_fixture(scope="module")
async def published(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogue")
    # No source is marked sensitive in a golden case yet: mark one here, so the table page's
    # warning is checked in a browser too.
    manifests = dict(all_manifests())
    manifests[SENSITIVE] = dataclasses.replace(manifests[SENSITIVE],
                                               presentation_policy="sensitive")
    return folder, await publish_golden_cases(folder, CASES, manifests=manifests)


@pytest.fixture(scope="module")
def catalogue(published, served):
    folder, db = published
    meta = yaml.safe_load((folder / "metadata.yml").read_text(encoding="utf-8"))
    return {"base": served, "folder": folder, "db": db, "meta": meta}


def text(dom: str) -> str:
    """The page as a person reads it (a <datalist>'s options too)."""
    return page_text(dom, hidden=("script", "style"))


def test_index_names_the_catalogue_and_its_licences(catalogue, browser):
    seen = text(browser.dom(catalogue["base"] + "/", screenshot="index.png"))
    assert "atlas_crawl: Norway's public statistics" in seen
    assert "Each table's own: CC BY 4.0" in seen and "NLOD 2.0" in seen
    database = text(browser.dom(catalogue["base"] + "/atlas"))
    for title in ("Resettlement picture for a kommune", "Welfare picture for a kommune",
                  "Child welfare picture for a kommune"):
        assert title in database
    assert "nav_uforetrygd_annual" in database and "sources" in database


def test_table_page_shows_title_licence_source_and_golden_numbers(catalogue, browser):
    oslo = next(r for r in golden_rows("ssb_07459", "ssb_07459") if r["region"] == "K-0301")
    url = catalogue["base"] + "/atlas/ssb_07459?" + urlencode(
        {"region_level": "kommune", "_sort_desc": "value"})
    seen = text(browser.dom(url, screenshot="table_ssb_07459.png"))
    assert "07459: Befolkning, etter region, kjønn, alder og år" in seen
    assert "Data license: CC BY 4.0" in seen
    assert "Data source: Statistisk sentralbyrå" in seen
    assert "Attribution: Kilde: Statistisk sentralbyrå, tabell 07459" in seen
    # Oslo first, with its name next to its code (foreign key to dim_place) and SSB's number
    assert "Oslo 0301" in seen
    # SSB's own label, from the table's region dimension (ssb_07459__region), next to its code;
    # a count stored as REAL reads as an integer (699827, not 699827.0)
    assert oslo["value"] == int(oslo["value"])
    assert re.search(rf"Oslo K-0301 .{{0,80}}? {int(oslo['value'])} ", seen), seen[:3000]
    assert f"{oslo['value']}" not in seen
    # the column descriptions are folded away, so the rows come first
    assert "What each column means" in seen


def test_front_page_lists_sources_by_topic_and_explains_symbols(catalogue, browser):
    base = catalogue["base"]
    dom = browser.dom(base + "/", screenshot="front_page.png")
    seen = text(dom)
    assert "Sources by topic" in seen
    population = seen.index("Population ")
    poverty = seen.index("Income and poverty")
    line = re.search(r"07459: Befolkning, etter region, kjønn, alder og år — SSB \(Statistics "
                     r"Norway\) · yearly · 2022 · (\d[\d,]*) rows · real capture of 2022-09-14 · "
                     r"not live \(file\)", seen)
    assert line and population < line.start() < poverty, seen[:4000]
    assert int(line.group(1).replace(",", "")) == len(golden_rows("ssb_07459", "ssb_07459"))
    assert 'href="/atlas/ssb_07459"' in dom and 'href="/atlas/bufdir_barnefattigdom"' in dom
    assert "P1Y" not in seen and "SOCI" not in seen  # plain words, not codes
    legend = seen[seen.index("What the status symbols mean"):]
    assert re.search(r"Nav \* fewer than 4 persons", legend), legend[:2000]
    assert re.search(r"SSB \(Statistics Norway\) \. not applicable.*? \.\. figures not "
                     r"available", legend), legend[:2000]
    assert re.search(r"IMDi : removed for privacy", legend), legend[:2000]

    # the database page leads with data: bookkeeping and reference tables are hidden, but reachable
    database = browser.dom(base + "/atlas")
    listed = set(re.findall(r'<h3><a href="/atlas/([^"]+)"', database))
    assert {"ssb_07459", "imdi_bosetting", "sources"} <= listed
    assert not listed & {"_runs", "_fetches", "dim_place", "dim_period", "dim_kommune",
                         "quarantine", "catalogue_search"}, listed
    for hidden in ("_runs", "dim_place", "quarantine"):
        assert urllib.request.urlopen(f"{base}/atlas/{hidden}").status == 200


def test_search_finds_sources_by_norwegian_and_english_words(catalogue, browser):
    base = catalogue["base"]
    seen = text(browser.dom(base + "/atlas/sources?" + urlencode({"_search": "fattigdom"})))
    assert "bufdir_barnefattigdom" in seen and "imdi_bosetting" not in seen
    # a refugee-settlement source first: IMDi's yearly pages, or its settled-per-1,000 export
    # (whose title holds the word); unemployment: SSB's labour force survey (13760, national)
    # sorts before NAV's HL060 (per kommune) by title, and both are found
    settlement = {"imdi_bosetting", "imdi_bosatt_befolkning"}
    unemployment = {"ssb_13760", "nav_helt_ledige"}
    for word, sources in (("flyktninger", settlement), ("unemployment", unemployment),
                          ("arbeidsledighet", unemployment)):
        url = base + "/atlas/search?" + urlencode({"q": word})
        dom = browser.dom(url, screenshot=f"search_{word}.png" if word == "flyktninger" else None)
        first = re.search(r'<td class="col-link[^"]*"><a href="([^"]+)"', dom)
        assert first and first.group(1) in {f"/atlas/sources/{s}" for s in sources}, (
            word, text(dom)[:2000])
        if sources is unemployment:
            assert 'href="/atlas/sources/nav_helt_ledige"' in dom, word
        title = re.search(r"<title>(.*?)</title>", dom, re.DOTALL).group(1).strip()
        assert title == "Search the catalogue"  # the query's title, not its SQL
        assert "SELECT" not in text(dom)  # the SQL is folded away


def test_facet_counts_match_the_golden_rows(catalogue, browser):
    rows = golden_rows("ssb_07459", "ssb_07459")
    kommuner = sum(1 for r in rows if r["region_level"] == "kommune")
    dom = browser.dom(catalogue["base"] + "/atlas/ssb_07459?_facet=region_level")
    facet = re.search(r'data-column="region_level".*?</ul>', dom, re.DOTALL)
    assert facet, "no region_level facet on the page"
    assert re.search(rf">kommune</a>\s*{kommuner}\b", facet.group(0)), facet.group(0)


def test_canned_query_resettlement_picture(catalogue, browser):
    arendal = {r["metric"]: r for r in golden_rows("imdi_bosetting", "imdi_bosetting")
              if r["name"] == "Arendal" and r["year"] == 2025 and r["level"] == "kommune"}
    assert arendal["vedtatt"]["value"] is not None
    url = catalogue["base"] + "/atlas/resettlement_picture?" + urlencode(
        {"kommune": "Arendal", "year": "2025"})
    seen = text(browser.dom(url, screenshot="query_resettlement.png"))
    assert "Resettlement picture for a kommune" in seen
    for metric in ("anmodet", "vedtatt", "bosatte"):
        row = arendal[metric]
        value = row["value"] if row["value"] is not None else ""
        assert re.search(rf"imdi_bosetting Bosettingstall {row['place_canonical']} "
                         rf"{row['place_current']} Arendal kommune 2025 2025 {metric} {value}",
                         seen), (metric, seen[:3000])


def test_compare_refugees_requested_decided_settled(catalogue, browser):
    arendal = {(r["year"], r["metric"]): r["value"]
               for r in golden_rows("imdi_bosetting", "imdi_bosetting")
               if r["name"] == "Arendal" and r["level"] == "kommune"}
    requested, decided, settled = (arendal[(2025, m)] for m in ("anmodet", "vedtatt", "bosatte"))
    share = round(100 * settled / decided, 1)
    url = catalogue["base"] + "/atlas/refugees_settled?" + urlencode(
        {"kommune": "Arendal", "year": "2025"})
    dom = browser.dom(url, screenshot="compare_refugees.png")
    seen = text(dom)
    assert re.search(r"<title>\s*Refugees: requested, decided and settled\s*</title>", dom)
    assert "SELECT" not in seen  # results first, the SQL folded away
    assert re.search(rf"2025 Arendal {requested} {decided} {settled} {share} ", seen), seen[:3000]


def test_compare_child_poverty_and_unemployment(catalogue, browser):
    rows = golden_rows("bufdir_barnefattigdom", "bufdir_barnefattigdom")
    stavanger = max((r for r in rows if r["region_current"] == "1103" and r["value"] is not None
                     and r["tallformat"] == "prosent"), key=lambda r: r["year"])
    norway = next(r["value"] for r in rows if r["region_level"] == "land"
                  and r["tallformat"] == "prosent" and r["indicator"] == stavanger["indicator"]
                  and r["year"] == stavanger["year"] and r["enhet"] == stavanger["enhet"])
    # Bufdir's golden case is constructed: its rows are samples, left out unless asked for
    url = catalogue["base"] + "/atlas/child_poverty_in_fylke?" + urlencode(
        {"kommune": "Stavanger", "year": ""})
    seen = text(browser.dom(url))
    assert "sample: invented values, not statistics" in seen and "0 results" in seen, seen[:3000]
    seen = text(browser.dom(url + "&samples=1"))
    assert "sample: invented values, not statistics" in seen
    assert re.search(rf"Tab\. {stavanger['indicator']}: .*? {stavanger['year']} 1 of 1 "
                     rf"Stavanger ◀ chosen {shown(stavanger['value'])} {norway}", seen), seen[:3000]

    nav = [r for r in golden_rows("nav_helt_ledige", "nav_helt_ledige")]
    oslo = {r["measure"]: r["value"] for r in nav if r["place_current"] == "0301"
            and r["level"] == "kommune"}
    norway_count = sum(r["value"] for r in nav if r["level"] == "fylke" and r["aggregate"] == 1
                       and r["measure"] == "antall")
    url = catalogue["base"] + "/atlas/unemployment_trend?" + urlencode({"kommune": "Oslo",
                                                                        "year": "",
                                                                        "samples": "1"})
    seen = text(browser.dom(url))
    assert re.search(rf"2026-01 Oslo - Oslove {shown(oslo['antall'])} {oslo['prosent']} "
                     rf"Oslo - Oslove {shown(oslo['antall'])} {oslo['prosent']} "
                     rf"{shown(norway_count)} ", seen), seen[:3000]


def test_kommune_profile_puts_norway_beside_the_kommune(catalogue, browser):
    rows = golden_rows("bufdir_barnefattigdom", "bufdir_barnefattigdom")
    latest = max(r["year"] for r in rows if r["region_current"] == "0301")
    oslo = next(r for r in rows if r["region_current"] == "0301" and r["year"] == latest
                and r["region_level"] == "kommune")
    norway = next(r for r in rows if r["region_level"] == "land" and r["year"] == latest
                  and r["indicator"] == oslo["indicator"] and r["enhet"] == oslo["enhet"]
                  and r["tallformat"] == oslo["tallformat"])
    url = catalogue["base"] + "/atlas/kommune_profile?" + urlencode({"kommune": "Oslo",
                                                                     "year": ""})
    real = text(browser.dom(url))  # Bufdir's golden case is constructed: left out
    assert "sample: invented values, not statistics" in real
    assert "bufdir_barnefattigdom" not in real.split("Powered by")[0].split("Edit SQL")[-1]
    url += "&samples=1"
    seen = text(browser.dom(url, screenshot="kommune_profile.png"))
    assert re.search(rf"bufdir_barnefattigdom .*? {latest} {shown(oslo['value'])} "
                     rf"{oslo['enhet']} {shown(norway['value'])}", seen), seen[:3000]
    population = next(r for r in golden_rows("ssb_07459", "ssb_07459")
                      if r["region_canonical"] == "0301")
    assert re.search(rf"ssb_07459 .*? {population['tid']} {shown(population['value'])} personer",
                     seen), seen[:3000]


def test_canned_query_says_which_sources_are_missing(catalogue, browser):
    url = catalogue["base"] + "/atlas/child_welfare_picture?" + urlencode(
        {"kommune": "0301", "year": "2024"})
    seen = text(browser.dom(url))
    assert "Child welfare picture for a kommune" in seen
    assert "Not in this database: bufdir_barnevern has not been crawled yet" in seen


def test_welfare_picture_reads_nav_through_the_annual_view(catalogue, browser):
    months = [r for r in golden_rows("nav_uforetrygd", "nav_uforetrygd")
              if r["place_canonical"] == "1101" and r["measure"] == "antall"
              and r["period"].startswith("2026")]
    assert len(months) == 2 and all(r["value"] is not None for r in months)
    mean = sum(r["value"] for r in months) / len(months)
    last = max(months, key=lambda r: r["period"])
    url = catalogue["base"] + "/atlas/welfare_picture?" + urlencode(
        {"kommune": "1101", "year": "2026"})
    seen = text(browser.dom(url))
    assert "Welfare picture for a kommune" in seen
    assert re.search(rf"nav_uforetrygd .*? Eigersund kommune 2026 2026 antall {shown(mean)} ",
                     seen), (
        seen[:3000])
    assert f"annual mean of 2 month(s); {last['period']}: {last['value']}" in seen
    # NAV's suppressed Oslo months give no mean, and say why
    seen = text(browser.dom(catalogue["base"] + "/atlas/welfare_picture?" + urlencode(
        {"kommune": "0301", "year": "2026"})))
    assert re.search(r"nav_uforetrygd .*? Oslo kommune 2026 2026 antall \*", seen), seen[:3000]


def test_sensitive_source_says_so_on_its_table_page(catalogue, browser):
    url = catalogue["base"] + f"/atlas/{SENSITIVE}"
    seen = text(browser.dom(url, screenshot="table_sensitive.png"))
    assert "Sensitive indicator: its manifest marks it presentation_policy: sensitive" in seen
    seen = text(browser.dom(catalogue["base"] + "/atlas/sources?" + urlencode(
        {"_search": "uføretrygd"})))
    assert SENSITIVE in seen and "sensitive" in seen


def test_chart_renders_from_bundled_scripts_only(catalogue, browser):
    table = catalogue["meta"]["databases"]["atlas"]["tables"]["ssb_07459"]
    href = html.unescape(re.search(r'class="atlas-vega" href="([^"]+)"',
                                   table["description_html"]).group(1))
    url = catalogue["base"] + href
    # the chart is drawn once the page's scripts have had 10 s of their own time
    page = browser.page(url, screenshot="chart_ssb_07459.png", virtual_time_budget=10_000)
    dom = page.dom
    assert "vega-embed" in dom and "<canvas" in dom, "datasette-vega drew no chart"

    # Every request the page made went to the catalogue itself.
    assert any("/-/static-plugins/datasette_vega/" in u for u in page.requests), page.requests
    outside = [u for u in page.requests if not u.startswith(catalogue["base"])]
    assert outside == [], outside


def test_time_series_of_one_place_from_all_its_rows(catalogue, browser):
    cfg = catalogue["meta"]["plugins"]["atlas-charts"]["tables"]["bufdir_barnefattigdom"]
    wanted = {"indicator": "17", "tallformat": "antall"}
    assert set(cfg["indicators"]) == set(wanted)
    rows = sorted((r for r in golden_rows("bufdir_barnefattigdom", "bufdir_barnefattigdom")
                   if r["region_current"] == "0301" and r["region_level"] == "kommune"
                   and all(str(r[k]) == v for k, v in wanted.items())), key=lambda r: r["year"])
    assert len(rows) >= 6 and len({r["year"] for r in rows}) == len(rows)
    # the table page links the chart
    table = catalogue["meta"]["databases"]["atlas"]["tables"]["bufdir_barnefattigdom"]
    assert 'class="atlas-chart" href="/-/atlas/chart?table=bufdir_barnefattigdom' in (
        table["description_html"])
    url = catalogue["base"] + "/-/atlas/chart?" + urlencode(
        {"table": "bufdir_barnefattigdom", "place": "Oslo", **wanted})
    page = browser.page(url, screenshot="chart_series_oslo.png")
    dom = page.dom
    numbers = re.search(r'<table class="rows-and-columns atlas-numbers">(.*?)</table>', dom,
                        re.DOTALL).group(1)
    shown_rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>", numbers)
    # every period, in time order, with the golden numbers (not a page of 50, not alphabetical)
    assert [(p, v.replace(" ", "")) for p, v in shown_rows] == [
        (str(r["year"]), shown(r["value"])) for r in rows]
    assert dom.count('class="atlas-point"') == sum(r["value"] is not None for r in rows)
    assert 'class="atlas-series"' in dom
    outside = [u for u in page.requests if not u.startswith(catalogue["base"])]
    assert outside == [], outside


def test_latest_period_ranked_by_value(catalogue, browser):
    anmodet = {r["place_current"]: r["value"]
               for r in golden_rows("imdi_bosetting", "imdi_bosetting")
               if r["year"] == 2026 and r["level"] == "kommune" and r["metric"] == "anmodet"}
    url = catalogue["base"] + "/-/atlas/chart?" + urlencode(
        {"table": "imdi_bosetting", "kind": "ranking", "metric": "anmodet"})
    dom = browser.dom(url, screenshot="chart_ranking.png")
    assert "Bosettingstall: kommuner in 2026" in text(dom)  # the latest period by default
    bars = re.findall(r'class="atlas-bar"[^>]*><title>([^<]+): ([\d ]+) </title>', dom)
    values = [int(v.replace(" ", "")) for _, v in bars]
    assert len(bars) == sum(v is not None for v in anmodet.values())
    assert values == sorted(values, reverse=True)
    assert values[0] == max(v for v in anmodet.values() if v is not None)


def test_map_colours_the_kommuner_with_a_number(catalogue, browser):
    rows = [r for r in golden_rows("imdi_bosetting", "imdi_bosetting")
            if r["year"] == 2025 and r["level"] == "kommune" and r["metric"] == "bosatte"]
    with_value = {r["place_current"] for r in rows if r["value"] is not None}
    assert len(with_value) > 40
    url = catalogue["base"] + "/-/atlas/map?" + urlencode(
        {"table": "imdi_bosetting", "period": "2025", "metric": "bosatte"})
    page = browser.page(url, screenshot="map_imdi_bosatte_2025.png")
    dom = page.dom
    assert int(re.search(r'data-coloured="(\d+)"', dom).group(1)) == len(with_value)
    filled = re.findall(r'<path class="kommune" data-kommune="(\d{4})" d="[^"]+" '
                        r'fill="(#[0-9a-f]{6})"', dom)
    assert {code for code, _ in filled} == with_value
    assert len({fill for _, fill in filled}) >= 3  # a scale, not one colour
    assert dom.count('class="kommune novalue"') == 357 - len(with_value)
    assert "© Kartverket, CC BY 4.0" in text(dom)
    assert (catalogue["folder"] / "map_imdi_bosatte_2025.png").stat().st_size > 50_000
    outside = [u for u in page.requests if not u.startswith(catalogue["base"])]
    assert outside == [], outside


def test_served_read_only(catalogue):
    databases = json.load(urllib.request.urlopen(catalogue["base"] + "/-/databases.json"))
    assert [(d["name"], d["is_mutable"]) for d in databases] == [("atlas", False)]
    sql = urlencode({"sql": "DELETE FROM sources"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{catalogue['base']}/atlas.json?{sql}", timeout=5)
    assert err.value.code == 400
    assert rows_in(catalogue["db"], "sources") == len(all_manifests())


def rows_in(db: Path, table: str) -> int:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
