"""The kommune report in headless Chromium, served by `python -m atlas_crawl serve` from real
captures (the golden recordings): a real kommune with real numbers, a name with a typo, an old
code, English, the front page's box, the map's link, and the print layout (one topic per page).

Needs Debian's chromium (scripts/install-chromium.sh)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import pytest_twisted
from conftest import golden_rows, page_text, publish_golden_cases

from atlas_crawl.publish.site.report_words import number

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CASES = ["ssb_klass", "ssb_07459", "udir_nasjonale_prover", "imdi_bosetting", "valgresultat"]

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not installed (scripts/install-chromium.sh)", allow_module_level=True)


@pytest_twisted.async_fixture(scope="module")
async def published(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kommune_browser")
    return folder, await publish_golden_cases(folder, CASES)


def test_a_real_kommune_with_real_numbers(served, browser):
    page = browser.dom(served + "/kommune/bergen", screenshot="kommune_bergen.png")
    seen = page_text(page)
    rows = golden_rows("ssb_07459", "ssb_07459")
    bergen = next(r for r in rows if r["region_current"] == "4601")
    assert "Bergen 4601" in seen and "Nøkkeltall for Bergen i Vestland" in seen
    shown = number(bergen["value"]).replace("\u00a0", " ")
    assert f"Personer : {shown} personer (2022)" in seen
    # its rank among Vestland's kommuner (46xx) in the same year, from the golden rows
    vestland = [r["value"] for r in rows if r["region_level"] == "kommune"
                and (r["region_current"] or "").startswith("46") and r["tid"] == bergen["tid"]
                and r["contentscode"] == bergen["contentscode"]]
    higher = sum(value > bergen["value"] for value in vestland)
    assert f"{higher + 1}. høyest av {len(vestland)} kommuner i Vestland" in seen
    oslo = page_text(browser.dom(served + "/kommune/0301"))
    assert "omtrent som landet" in oslo  # turnout, valgresultat.yml: better: higher
    assert (browser.folder / "kommune_bergen.png").stat().st_size > 30_000


def test_english_typo_and_old_code(served, browser):
    english = page_text(browser.dom(served + "/kommune/4601?lang=en"))
    assert "Key figures for Bergen in Vestland" in english and "inhabitants" in english
    typo = page_text(browser.dom(served + "/kommune/Bergn"))
    assert "Fant ingen kommune som heter «Bergn». Mente du Bergen (4601, Vestland)" in typo
    old = page_text(browser.dom(served + "/kommune/0101"))
    assert "0101 var kommunenummeret til Halden fram til 2020. I dag har Halden nummeret " \
           "3101." in old


def test_front_page_box_and_map_lead_to_the_report(served, browser):
    front = browser.dom(served + "/")
    assert '<form class="atlas-find" action="/kommune" method="get">' in front
    # what the box sends
    landed = browser.dom(served + "/kommune?q=H%C3%A1rstt%C3%A1k")
    assert page_text(landed).startswith("Harstad - Hárstták: Kommunerapport")
    page = browser.dom(served + "/-/atlas/map?table=imdi_bosetting&period=2025&metric=bosatte")
    assert '<a href="/kommune/4222"><path class="kommune' in page


def test_prints_one_topic_per_page(served, browser):
    page = browser.dom(served + "/kommune/4601", pdf="bergen.pdf")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", (browser.folder / "bergen.pdf").read_bytes()))
    sections = len(re.findall(r'<section class="atlas-topic"', page))
    assert sections >= 2
    # every topic starts a page; none needs more than one
    assert pages == sections, (pages, sections)
