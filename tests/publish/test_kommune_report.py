"""The kommune report (`/kommune/<code or name>`) on real captures: the golden recordings are
crawled into a database, published, and the page is read through Datasette in-process, the way
`serve` runs it. Every number asserted is read from the golden files, not written here."""

from __future__ import annotations

import dataclasses
import html
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
import pytest_twisted
import yaml
from conftest import datasette_get as get
from conftest import golden_rows, page_text, publish_golden_cases

from atlas_crawl.manifests import ManifestError, all_manifests, parse_manifest
from atlas_crawl.publish import publish
from atlas_crawl.publish.site import (
    PLUGINS_DIR,
    STATIC_DIR,
    STATIC_MOUNT,
    TEMPLATES_DIR,
    finder,
    questions,
)
from atlas_crawl.publish.site.kommune import similar_kommuner, size_band, sparkline, verdict
from atlas_crawl.publish.site.report_words import number
from atlas_crawl.run.golden import GOLDEN_DIR

# Real captures, and one constructed case (ssb_12944: invented values) that must stay out
CASES = ["ssb_klass", "ssb_07459", "udir_nasjonale_prover", "imdi_bosetting", "valgresultat",
         "ssb_12944"]


def shown(value: float | None, lang: str = "nb") -> str:
    """A number as the page's text reads it (the no-break space of 286 930 as a space)."""
    return number(value, lang).replace("\u00a0", " ")


@pytest_twisted.async_fixture(scope="module")
async def published(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kommune_report")
    return folder, await publish_golden_cases(folder, CASES)


def datasette_for(db: Path, metadata: Path, settings: dict | None = None):
    from datasette.app import Datasette

    meta = yaml.safe_load(metadata.read_text(encoding="utf-8"))
    return Datasette([], immutables=[str(db)], metadata=meta, plugins_dir=str(PLUGINS_DIR),
                     template_dir=str(TEMPLATES_DIR),
                     static_mounts=[(STATIC_MOUNT, str(STATIC_DIR))], settings=settings)


@pytest.fixture(scope="module")
def ds(published):
    folder, db = published
    return datasette_for(db, folder / "metadata.yml")



def figure(dom: str, table: str, indicator: str) -> str:
    """The words of one key figure: the list item of that table whose indicator matches."""
    for item in re.findall(r'<li class="atlas-figure" data-table="' + re.escape(table)
                           + r'">(.*?)</li>\s*(?=<li class="atlas-figure"|</ul>)', dom,
                           flags=re.DOTALL):
        if indicator in page_text(item):
            return item
    raise AssertionError(f"no figure {indicator!r} of {table} in {page_text(dom)[:3000]}")


@pytest_twisted.ensureDeferred
async def test_bergen_in_words_with_fylke_rank_norway_and_better(ds):
    response = await get(ds, "/kommune/4601")
    assert response.status_code == 200
    dom = response.text
    seen = page_text(dom)
    assert seen.startswith("Bergen: Kommunerapport")
    assert "Nøkkeltall for Bergen i Vestland" in seen
    # population from SSB 07459, ranked among the fylke's kommuner in the same table
    people = golden_rows("ssb_07459", "ssb_07459")
    bergen = next(r for r in people if r["region_current"] == "4601")
    vestland = sorted((r["value"] for r in people if r["region_level"] == "kommune"
                       and (r["region_current"] or "").startswith("46")), reverse=True)
    item = page_text(figure(dom, "ssb_07459", "Personer"))
    assert f"Personer : {shown(bergen['value'])} personer ({bergen['tid']})" in item
    assert f"{vestland.index(bergen['value']) + 1}. høyest av {len(vestland)} kommuner i " \
           "Vestland" in item
    assert "\u00a0" in number(bergen["value"])  # 286 930: Norwegian thousands
    # national tests: Bergen's scale points, Vestland's, and Bergen's rank among its kommuner
    tests = [r for r in golden_rows("udir_nasjonale_prover", "udir_nasjonale_prover")
             if r["measure"] == "Skalapoeng" and r["grade"] == 5 and r["subject"] == "NPLES"]
    mine = next(r for r in tests if r["region_code_current"] == "4601")
    fylke = next(r for r in tests if r["region_code_level"] == "fylke"
                 and r["region_code_current"] == "46")
    others = [r["value"] for r in tests if r["region_code_level"] == "kommune"
              and (r["region_code_current"] or "").startswith("46") and r["value"] is not None]
    rank = 1 + sum(1 for v in others if v > mine["value"])
    item = page_text(figure(dom, "udir_nasjonale_prover", "Skalapoeng"))
    assert f"Skalapoeng : {shown(mine['value'])} ({mine['school_year']}). Vestland: " \
           f"{shown(fylke['value'])}. {rank}. høyest av {len(others)} kommuner i Vestland." in item
    assert "Norge" not in item  # Udir's capture has no national row: nothing is made up
    assert '<svg class="atlas-spark"' not in figure(dom, "udir_nasjonale_prover", "Skalapoeng")
    assert "Befolkning" in seen and "Skole og utdanning" in seen  # topics, in Norwegian


@pytest_twisted.ensureDeferred
async def test_better_worse_or_about_as_norway_where_the_manifest_says(ds):
    turnout = {r["nr_level"]: r for r in golden_rows("valgresultat", "valgresultat")}
    oslo, norway = turnout["kommune"], turnout["land"]
    assert oslo["nr_current"] == "0301"
    dom = (await get(ds, "/kommune/oslo")).text
    item = page_text(figure(dom, "valgresultat", f"({oslo['valgaar']})"))
    assert f"{shown(oslo['frammote_prosent'])} ({oslo['valgaar']})" in item
    assert f"Norge: {shown(norway['frammote_prosent'])}." in item
    # valgresultat.yml: better: higher; 81.7 against 80.0 is within 3 %
    assert abs(oslo["frammote_prosent"] - norway["frammote_prosent"]) \
        <= 0.03 * norway["frammote_prosent"]
    assert "omtrent som landet" in item
    english = page_text(figure((await get(ds, "/kommune/oslo?lang=en")).text, "valgresultat",
                          f"({oslo['valgaar']})"))
    assert "about as Norway" in english


@pytest_twisted.ensureDeferred
async def test_english_with_lang_en(ds):
    seen = page_text((await get(ds, "/kommune/bergen?lang=en")).text)
    bergen = next(r for r in golden_rows("ssb_07459", "ssb_07459")
                  if r["region_current"] == "4601")
    assert seen.startswith("Bergen: Kommune report")
    assert f"{int(bergen['value']):,} inhabitants" in seen
    assert "highest of" in seen and "Vestland" in seen
    assert "Key figures for Bergen in Vestland" in seen
    assert "Nøkkeltall" not in seen


@pytest_twisted.ensureDeferred
async def test_a_typo_asks_did_you_mean(ds):
    response = await get(ds, "/kommune/Bergn")
    assert response.status_code == 404
    seen = page_text(response.text)
    assert "Fant ingen kommune som heter «Bergn». Mente du Bergen (4601, Vestland)" in seen
    assert 'href="/kommune/4601"' in response.text
    english = page_text((await get(ds, "/kommune/Bergn?lang=en")).text)
    assert "Did you mean Bergen (4601, Vestland)" in english


@pytest_twisted.ensureDeferred
async def test_an_old_code_says_so(ds):
    response = await get(ds, "/kommune/0101")
    assert response.status_code == 200
    seen = page_text(response.text)
    assert seen.startswith("Halden: Kommunerapport")
    assert "0101 var kommunenummeret til Halden fram til 2020. I dag har Halden nummeret 3101." \
        in seen
    old_name = page_text((await get(ds, "/kommune/N%C3%B8tter%C3%B8y")).text)
    assert "«Nøtterøy» er et tidligere navn (nummer 0722, til 2018). I dag: Færder (3911)." \
        in old_name


@pytest_twisted.ensureDeferred
async def test_names_in_every_official_form_and_without_diacritics(ds):
    for asked in ("H%C3%A1rstt%C3%A1k", "harstad", "Harstad%20-%20H%C3%A1rstt%C3%A1k"):
        assert page_text((await get(ds, f"/kommune/{asked}")).text).startswith(
            "Harstad - Hárstták: Kommunerapport"), asked
    assert page_text((await get(ds, "/kommune/tromso")).text).startswith("Tromsø: Kommunerapport")
    ambiguous = page_text((await get(ds, "/kommune/V%C3%A5ler")).text)
    assert "Flere kommuner heter «Våler». Velg en: Våler (Østfold) (3114, Østfold) Våler " \
           "(Innlandet) (3419, Innlandet)" in ambiguous
    listed = await get(ds, "/kommune")
    assert "<h2>Vestland</h2>" in listed.text and 'href="/kommune/4601">Bergen</a>' in listed.text
    # the front page's box
    front = (await get(ds, "/")).text
    assert '<form class="atlas-find" action="/kommune" method="get">' in front
    found = await get(ds, "/kommune?q=Bergen")
    assert found.status_code == 302 and found.headers["location"] == "/kommune/Bergen"


@pytest_twisted.ensureDeferred
async def test_suppression_in_words_never_a_bare_symbol(ds):
    hidden = next(r for r in golden_rows("udir_nasjonale_prover", "udir_nasjonale_prover")
                  if r["region_code_current"] == "1144" and r["measure"] == "Skalapoeng")
    assert hidden["status"] == "*" and hidden["value"] is None
    dom = (await get(ds, "/kommune/1144")).text
    item = page_text(figure(dom, "udir_nasjonale_prover", "Skalapoeng"))
    assert "Skalapoeng : skjult av personvernhensyn: for få elever (2025-26)" in item, item
    assert " * " not in f" {item} "
    english = page_text(figure((await get(ds, "/kommune/1144?lang=en")).text,
                          "udir_nasjonale_prover", "Skalapoeng"))
    assert "too few pupils: suppressed to protect privacy" in english


@pytest_twisted.ensureDeferred
async def test_every_figure_links_to_its_row_run_and_fetch(ds, published):
    _, db = published
    item = figure((await get(ds, "/kommune/4601")).text, "ssb_07459", "Personer")
    row = re.search(r'class="atlas-row" href="([^"]+)"', item).group(1)
    assert row == "/atlas/ssb_07459/K-4601,Personer1,2022"
    row_page = await get(ds, row)
    assert row_page.status_code == 200 and "286930" in row_page.text
    # the row page links the run and the fetch of the row
    run_id, fetch_id = sqlite3.connect(db).execute(
        "SELECT _run, _fetch FROM ssb_07459 WHERE region = 'K-4601'").fetchone()
    assert f'href="/atlas/_runs/{run_id}"' in row_page.text
    assert f'href="/atlas/_fetches/{fetch_id}"' in row_page.text
    assert f'href="/atlas/_runs/{run_id}"' in item and f'href="/atlas/_fetches/{fetch_id}"' in item
    url, fetched = sqlite3.connect(db).execute(
        "SELECT url, fetched_at FROM _fetches WHERE id = ?", (fetch_id,)).fetchone()
    assert f'href="{html.escape(url)}"' in item and f"hentet {fetched[:10]}" in page_text(item)
    assert (await get(ds, f"/atlas/_fetches/{fetch_id}")).status_code == 200


@pytest_twisted.ensureDeferred
async def test_sample_rows_are_left_out_and_named_unless_asked(ds):
    # golden/ssb_12944 is constructed (invented values): its run says so in `_runs`
    assert json.loads((GOLDEN_DIR / "ssb_12944" / "golden.json").read_text())["data_origin"] \
        == "constructed"
    dom = (await get(ds, "/kommune/4601")).text
    assert 'data-table="ssb_12944"' not in dom
    seen = page_text(dom)
    assert "Utelatt: 1 tabeller som for kommunen bare har eksempeltall" in seen
    assert "12944: Vedvarende lavinntekt" in seen
    captured = json.loads((GOLDEN_DIR / "ssb_07459" / "golden.json").read_text())["captured"]
    assert f"ekte uttrekk av kilden ({captured})" in page_text(figure(dom, "ssb_07459", "Personer"))
    shown_too = (await get(ds, "/kommune/4601?samples=1")).text
    assert "eksempel: oppdiktede tall" in page_text(figure(shown_too, "ssb_12944", "Under 18"))
    assert 'class="atlas-origin atlas-sample"' in shown_too


@pytest_twisted.ensureDeferred
async def test_a_measure_that_adds_up_gets_a_computed_fylke_and_norway(published, tmp_path):
    folder, db = published
    copy = tmp_path / "atlas.db"
    shutil.copy(db, copy)
    manifests = dict(all_manifests())
    m = manifests["ssb_07459"]
    manifests["ssb_07459"] = dataclasses.replace(m, extra={**m.extra, "additive": True})
    publish(copy, tmp_path / "metadata.yml", manifests=manifests)
    ds = datasette_for(copy, tmp_path / "metadata.yml")
    item = page_text(figure((await get(ds, "/kommune/4601")).text, "ssb_07459", "Personer"))
    people = [r for r in golden_rows("ssb_07459", "ssb_07459") if r["region_level"] == "kommune"]
    assert all(r["value"] is not None for r in people)  # nothing suppressed: a sum is honest
    vestland = sum(r["value"] for r in people if (r["region_current"] or "").startswith("46"))
    norway = sum(r["value"] for r in people)
    assert f"Vestland: {shown(vestland)} (beregnet fra kommunene)." in item
    assert f"Norge: {shown(norway)} (beregnet fra kommunene)." in item
    # without the manifest's word, nothing is summed
    plain = datasette_for(db, folder / "metadata.yml")
    item = page_text(figure((await get(plain, "/kommune/4601")).text, "ssb_07459", "Personer"))
    assert "beregnet" not in item and "Norge:" not in item


@pytest_twisted.ensureDeferred
async def test_questions_are_forms_that_say_why_there_is_no_answer(ds):
    asked = await get(ds, "/atlas/refugees_settled?kommune=Bykle&year=")
    seen = page_text(asked.text)
    assert "Kommune (navn eller nummer)" in seen and "Vis svaret" in asked.text
    assert "Custom SQL query" not in seen and "Run SQL" not in asked.text
    assert "<pre id=\"sql-query\">" not in asked.text  # the SQL is one link away
    assert 'list="atlas-kommuner"' in asked.text and '<option value="Bykle">' in asked.text
    settled = [r for r in golden_rows("imdi_bosetting", "imdi_bosetting")
               if r["place_current"] == "4222" and r["level"] == "kommune"]
    assert str(max(r["year"] for r in settled)) in seen
    assert 'href="/kommune/4222"' in asked.text
    # a misspelt kommune: did you mean; a kommune the table does not cover: which it covers
    typo = page_text((await get(ds, "/atlas/refugees_settled?kommune=Byklee&year=")).text)
    assert "Fant ingen kommune som heter «Byklee»" in typo and "Bykle (4222)" in typo
    covered = sorted({r["place_current"][:2] for r in golden_rows("imdi_bosetting",
                                                                   "imdi_bosetting")
                      if r["level"] == "kommune" and r["place_current"]})
    assert "40" not in covered  # the capture has no kommune of Telemark
    tinn = page_text((await get(ds, "/atlas/refugees_settled?kommune=Tinn&year=")).text)
    assert "Ingen svar · no answer for Tinn (0 results)." in tinn
    assert "tabellen dekker bare kommunene i Agder, Akershus, Buskerud, Oslo, Rogaland" in tinn


def answer_rows(dom: str) -> list[dict[str, str]]:
    """The rows of a question's answer table as a reader sees them, by column."""
    head = re.search(r"<thead>(.*?)</thead>", dom, re.DOTALL).group(1)
    columns = [page_text(c) for c in re.findall(r"<th\b.*?</th>", head, re.DOTALL)]
    body = re.search(r"<tbody>(.*?)</tbody>", dom, re.DOTALL).group(1)
    return [dict(zip(columns, (page_text(c) for c in re.findall(r"<td\b.*?</td>", row,
                                                                 re.DOTALL))))
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]


@pytest_twisted.ensureDeferred
async def test_a_long_answer_is_shown_a_page_at_a_time_and_whole_in_its_json(ds, published,
                                                                             monkeypatch):
    monkeypatch.setattr(questions, "PAGE_ROWS", 2)
    settled = sorted((r["metric"], str(r["value"])) for r in golden_rows(
        "imdi_bosetting", "imdi_bosetting") if r["name"] == "Arendal" and r["year"] == 2025
        and r["level"] == "kommune")
    assert len(settled) == 4
    path = "/atlas/resettlement_picture?kommune=Arendal&year=2025"
    whole = (await get(ds, path.replace("?", ".json?") + "&_shape=objects")).json()["rows"]
    assert [(r["indicator"], str(r["value"])) for r in whole] == settled
    first = await get(ds, path)
    assert [(r["indicator"], r["value"]) for r in answer_rows(first.text)] == settled[:2]
    seen = page_text(first.text)
    assert "Rad · rows 1–2 av · of 4" in seen and "forrige" not in seen
    assert "Alle radene · every row: Som · as json , CSV" in seen
    more = re.search(r'<a href="([^"]+)">neste · next ›</a>', first.text).group(1)
    second = await get(ds, "/atlas/resettlement_picture" + html.unescape(more))
    assert [(r["indicator"], r["value"]) for r in answer_rows(second.text)] == settled[2:]
    seen = page_text(second.text)
    assert "Rad · rows 3–4 av · of 4" in seen and "neste" not in seen and "forrige" in seen
    # an answer that fits on one page says nothing of pages
    monkeypatch.setattr(questions, "PAGE_ROWS", 4)
    assert "Rad · rows" not in page_text((await get(ds, path)).text)
    # one longer than Datasette returns says so, and does not call its exports whole
    folder, db = published
    short = datasette_for(db, folder / "metadata.yml", {"max_returned_rows": 3})
    cut = page_text((await get(short, path)).text)
    assert "Rad · rows 1–3 av · of 3 (svaret har flere rader enn de 3 et spørsmål viser" in cut
    assert "Alle radene" not in cut


@pytest_twisted.ensureDeferred
async def test_the_map_names_indicators_and_opens_reports(ds):
    page = (await get(ds, "/-/atlas/map?table=ssb_07459")).text
    label = next(r["label"] for r in golden_rows("ssb_07459", "ssb_07459__contentscode")
                 if r["code"] == "Personer1")
    assert f'<option value="Personer1" selected>{html.escape(label)}</option>' in page
    assert '<a href="/kommune/4601"><path class="kommune" data-kommune="4601"' in page


@pytest_twisted.ensureDeferred
async def test_search_finds_questions_by_norwegian_words_and_groups_columns(ds):
    async def search(q: str) -> list[dict]:
        return (await get(ds, f"/atlas/search.json?q={q}&_shape=objects")).json()["rows"]

    for word, question in (("flyktninger", "/atlas/refugees_settled"),
                           ("arbeidsledighet", "/atlas/unemployment_trend"),
                           ("fattigdom", "/atlas/child_poverty_in_fylke")):
        assert question in [r["link"] for r in await search(word) if r["kind"] == "query"], word
    assert [r["link"] for r in await search("kommunerapport")] == ["/kommune"]
    hits = await search("region")
    assert not [r for r in hits if r["kind"] == "column"]
    grouped = [r["link"] for r in hits if r["kind"] == "columns"]
    assert "/atlas/ssb_07459" in grouped and len(grouped) == len(set(grouped))
    line = next(r for r in hits if r["kind"] == "columns" and r["link"] == "/atlas/ssb_07459")
    assert re.match(r"\d+ matching: region", line["about"])


# -- the parts on their own --------------------------------------------------------------------

def test_find_a_kommune():
    assert finder.fold("Hárstták") == "harsttak" and finder.fold("Bærum") == "baerum"
    assert finder.find("baerum").kommune.code == "3201"
    halden = finder.find("101")
    assert (halden.kind, halden.kommune.code, halden.old_code, halden.until) == (
        "old", "3101", "0101", "2020-01-01")
    split = finder.find("Tysfjord")
    assert split.kind == "split" and [k.code for k in split.choices] == ["1806", "1875"]
    assert finder.find("Sande").kommune.code == "1514"  # today's Sande, not Vestfold's of old
    assert [k.code for k in finder.find("Fredrikstd").choices] == ["3107"]
    assert finder.find("9999").kind == "none"


def test_better_worse_or_about_as_norway():
    assert verdict("lower", 10.1, 24.6) == "better"
    assert verdict("higher", 10.1, 24.6) == "worse"
    assert verdict("lower", 10.0, 10.2) == "same"
    assert verdict(None, 10.0, 20.0) is None and verdict("lower", None, 1.0) is None


def test_size_bands_and_similar_kommuner():
    assert size_band(523) == (0, 2000) and size_band(286_930) == (100_000, None)
    population = {"kommuner": {"4601": 286_930, "0301": 699_827, "5001": 210_496,
                               "1144": 523, "1151": 188}}
    assert similar_kommuner(population, "4601") == ["5001", "0301"]
    assert similar_kommuner(population, "9999") == []


def test_sparkline_breaks_at_a_missing_value():
    svg = sparkline([("2020", 1.0), ("2021", 2.0), ("2022", None), ("2023", 3.0),
                     ("2024", 2.5)], "x")
    assert svg.count("<polyline") == 2 and "<title>x</title>" in svg
    assert sparkline([("2020", 1.0)], "x") == ""


def test_manifest_better_is_checked():
    base = yaml.safe_load((Path(__file__).resolve().parents[2] / "atlas_crawl" / "manifests"
                           / "ssb_12944.yml").read_text(encoding="utf-8"))
    path = Path("ssb_12944.yml")
    assert parse_manifest(path, {**base, "better": "lower"}).better == (("*", "lower"),)
    assert parse_manifest(path, {**base, "better": {"prosent": "higher"}}).better == (
        ("prosent", "higher"),)
    with pytest.raises(ManifestError, match=r"ssb_12944.yml: field 'better.prosent': 'up'"):
        parse_manifest(path, {**base, "better": {"prosent": "up"}})
    with pytest.raises(ManifestError, match=r"field 'better'"):
        parse_manifest(path, {**base, "better": ["lower"]})
