"""The kommune report in headless Chromium, served by `python -m atlas_crawl serve` from real
captures (the golden recordings): a real kommune with real numbers, a name with a typo, an old
code, English, the front page's box, the map's link, and the print layout (one topic per page).

Needs Debian's chromium (scripts/install-chromium.sh)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import pytest_twisted
from conftest import golden_rows, page_text, publish_golden_cases

from atlas_crawl.publish.site.report_words import number
from atlas_crawl.run.cli import serve_command

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CASES = ["ssb_klass", "ssb_07459", "udir_nasjonale_prover", "imdi_bosetting", "valgresultat"]

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not installed (scripts/install-chromium.sh)", allow_module_level=True)


@pytest_twisted.async_fixture(scope="module")
async def published(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kommune_browser")
    return folder, await publish_golden_cases(folder, CASES)


@pytest.fixture(scope="module")
def served(published):
    folder, db = published
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (folder / "datasette.log").open("w")
    server = subprocess.Popen(serve_command(str(db), str(folder / "metadata.yml"), port),
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{base}/-/versions.json", timeout=1)
            break
        except (urllib.error.URLError, ConnectionError):
            assert server.poll() is None, (folder / "datasette.log").read_text()
            time.sleep(0.2)
    yield base, folder
    server.terminate()
    server.wait(timeout=10)
    log.close()


def chromium(folder: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    profile = folder / f"profile-{time.monotonic_ns()}"
    try:
        done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                               "--no-first-run", "--disable-background-networking",
                               f"--user-data-dir={profile}", "--window-size=1280,2000",
                               *extra, url], capture_output=True, text=True, timeout=120,
                              check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def dom(folder: Path, url: str, *extra: str) -> str:
    """The page's DOM once loaded; `extra` asks the same browser run for a screenshot or a PDF."""
    return chromium(folder, url, "--dump-dom", *extra).stdout


def test_a_real_kommune_with_real_numbers(served):
    base, folder = served
    shot = folder / "kommune_bergen.png"
    page = dom(folder, base + "/kommune/bergen", f"--screenshot={shot}")
    seen = page_text(page)
    bergen = next(r for r in golden_rows("ssb_07459", "ssb_07459")
                  if r["region_current"] == "4601")
    assert "Bergen 4601" in seen and "Nøkkeltall for Bergen i Vestland" in seen
    shown = number(bergen["value"]).replace("\u00a0", " ")
    assert f"Personer : {shown} personer (2022)" in seen
    assert re.search(r"\d+\. høyest av \d+ kommuner i Vestland", seen)
    assert re.search(r"\d+\. høyest av \d+ kommuner i Vestland", seen)
    oslo = page_text(dom(folder, base + "/kommune/0301"))
    assert "omtrent som landet" in oslo  # turnout, valgresultat.yml: better: higher
    assert shot.stat().st_size > 30_000


def test_english_typo_and_old_code(served):
    base, folder = served
    english = page_text(dom(folder, base + "/kommune/4601?lang=en"))
    assert "Key figures for Bergen in Vestland" in english and "inhabitants" in english
    typo = page_text(dom(folder, base + "/kommune/Bergn"))
    assert "Fant ingen kommune som heter «Bergn». Mente du Bergen (4601, Vestland)" in typo
    old = page_text(dom(folder, base + "/kommune/0101"))
    assert "0101 var kommunenummeret til Halden fram til 2020. I dag har Halden nummeret " \
           "3101." in old


def test_front_page_box_and_map_lead_to_the_report(served):
    base, folder = served
    front = dom(folder, base + "/")
    assert '<form class="atlas-find" action="/kommune" method="get">' in front
    # what the box sends
    landed = dom(folder, base + "/kommune?q=H%C3%A1rstt%C3%A1k")
    assert page_text(landed).startswith("Harstad - Hárstták: Kommunerapport")
    page = dom(folder, base + "/-/atlas/map?table=imdi_bosetting&period=2025&metric=bosatte")
    assert '<a href="/kommune/4222"><path class="kommune' in page


def test_prints_one_topic_per_page(served):
    base, folder = served
    pdf = folder / "bergen.pdf"
    page = dom(folder, base + "/kommune/4601", f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    sections = len(re.findall(r'<section class="atlas-topic"', page))
    assert sections >= 2
    # every topic starts a page; none needs more than one
    assert pages == sections, (pages, sections)
