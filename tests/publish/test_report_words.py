"""IMDi's header keys in words (atlas_crawl.formats.imdi_words), on the keys of the real exports
in the golden cases, and on the kommune report for Bergen read through Datasette in-process.
Every number asserted is read from the golden files."""

from __future__ import annotations

import json

import pytest
import pytest_twisted
from conftest import golden_rows
from conftest import page_text as text
from test_kommune_report import datasette_for, get, shown

from atlas_crawl.formats.imdi_words import is_total, key_words, totals
from atlas_crawl.publish import publish
from atlas_crawl.run.golden import GOLDEN_DIR, GoldenCase, crawl_case, runs

CASES = ["ssb_07459", "imdi_befolkning_alder", "imdi_befolkning_verdensregion",
         "imdi_intro_avslutning_direkte"]


def golden_keys() -> set[str]:
    """Every variable and breakdown key of the IMDi golden cases."""
    keys = set()
    for path in sorted(GOLDEN_DIR.glob("imdi_*/expected/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            keys |= {row[c] for c in ("variabel", "nedbrytning") if row.get(c)}
    return keys


def test_real_keys_read_as_words():
    keys = golden_keys()
    cases = {
        "innvkat_3.innvandrere": ("innvandrerkategori: innvandrere",
                                  "immigrant category: immigrants"),
        "innvkat_3.befolkningen_ellers": ("innvandrerkategori: befolkningen ellers",
                                          "immigrant category: everyone else"),
        "innvkat_5.alle": ("innvandrerkategori: alle", "immigrant category: all"),
        "alder_grupper.0_5, kjonn.0": ("alder 0–5 år, kjønn (kode 0)",
                                       "age 0–5 years, sex (code 0)"),
        "alder_grupper.67+, kjonn.alle": ("alder 67 år og over, kjønn: alle",
                                          "age 67 years or more, sex: all"),
        "vreg_3.1": ("verdensregion: EU/EØS, USA, Canada, Australia og New Zealand",
                     "world region: EU/EEA, USA, Canada, Australia and New Zealand"),
        "vreg_3.2": ("verdensregion: resten av verden", "world region: rest of the world"),
        "innvgrunn_5.flukt": ("innvandringsgrunn: flukt", "reason for immigration: refuge"),
    }
    for key, (nb, en) in cases.items():
        assert key in keys or key.split(", ")[0] in keys or any(key in k for k in keys), key
        assert key_words(key) == nb
        assert key_words(key, "en") == en
    assert key_words("botid_5.0_4") == "botid 0–4 år"
    assert key_words("vreg_9.sor_og_mellom_amerika") == "verdensregion: Sør- og Mellom-Amerika"
    assert key_words("innvkat_4.bef_u_innv_og_norskf") == (
        "innvandrerkategori: befolkningen uten innvandrere og norskfødte med innvandrerforeldre")
    assert key_words("flytting.nettoinnflytting", "en") == "moves: net moving in"
    assert key_words("landbakgrunn.001") == "landbakgrunn: alle land"
    assert key_words("landbakgrunn.101") == "landbakgrunn (kode 101)"  # not guessed
    assert key_words("gjennomsnitt") == "gjennomsnitt"  # not a family.value token: as written
    # no family's code name is left in the words of a real key (only a value's code, in brackets)
    for key in keys:
        words = key_words(key)
        for family in ("innvkat_", "alder_grupper", "botid_", "kjonn.", "vreg_", "innvgrunn_"):
            assert family not in words, (key, words)
    assert totals("alder_grupper.0_5, kjonn.alle") == (1, 2)
    assert is_total("innvkat_3.alle") and is_total("kjonn.alle") and is_total("")
    assert not is_total("alder_grupper.0_5, kjonn.alle")


@pytest_twisted.async_fixture(scope="module")
async def words_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report_words")
    db = folder / "atlas.db"
    for name in CASES:
        await crawl_case(GoldenCase.load(GOLDEN_DIR / name), db)
    assert [r["status"] for r in runs(db)] == ["ok"] * len(CASES), runs(db)
    publish(db, folder / "metadata.yml")
    return datasette_for(db, folder / "metadata.yml")


@pytest.fixture(scope="module")
def site(words_site):
    return words_site


def bergen(case: str, **match) -> dict:
    return next(r for r in golden_rows(case, case) if r["region_current"] == "4601"
                and r["inndeling"] == "kommune" and all(r[k] == v for k, v in match.items()))


@pytest_twisted.ensureDeferred
async def test_bergen_reads_imdi_in_words_population_first(site):
    seen = text((await get(site, "/kommune/bergen")).text)
    assert "every kommune" not in seen and "inndeling" not in seen
    for code in ("innvkat_", "alder_grupper", "kjonn.", "vreg_", "avslutning_arsak"):
        assert code not in seen, code
    # the table's totals only where it has them: every breakdown "alle"
    world = bergen("imdi_befolkning_verdensregion", variabel="vreg_2.1",
                   nedbrytning="kjonn.alle")
    assert (f"verdensregion: EU/EØS, USA, Canada, Australia og New Zealand · kjønn: alle : "
            f"{shown(world['value'])} personer ({world['periode']})") in seen
    assert "kjønn (kode 0)" not in seen and "kjønn (kode 1)" not in seen
    # no total over ages: the most totals first (kjønn: alle), the youngest age group first
    young = bergen("imdi_befolkning_alder", variabel="innvkat_3.alle",
                   nedbrytning="alder_grupper.0_5, kjonn.alle")
    assert (f"innvandrerkategori: alle · alder 0–5 år, kjønn: alle : {shown(young['value'])} "
            f"personer ({young['periode']})") in seen
    # two groupings' totals with the same words are said once
    assert seen.count("grunn til avslutning: alle · kjønn: alle :") == 1
    # the population table first in its topic, before IMDi's breakdowns
    people = next(r for r in golden_rows("ssb_07459", "ssb_07459")
                  if r["region_current"] == "4601")
    first = seen.index(f"Personer : {shown(people['value'])} personer")
    assert first < seen.index("Innvandrere og befolkningen ellers etter alder og kjønn")


@pytest_twisted.ensureDeferred
async def test_bergen_in_english(site):
    seen = text((await get(site, "/kommune/bergen?lang=en")).text)
    young = bergen("imdi_befolkning_alder", variabel="innvkat_3.alle",
                   nedbrytning="alder_grupper.0_5, kjonn.alle")
    assert (f"immigrant category: all · age 0–5 years, sex: all : "
            f"{shown(young['value'], 'en')}") in seen
    assert "world region: rest of the world · sex: all" in seen
    assert "innvandrerkategori" not in seen


@pytest_twisted.ensureDeferred
async def test_table_pages_show_the_words_with_the_code(site):
    young = bergen("imdi_befolkning_alder", variabel="innvkat_3.alle",
                   nedbrytning="alder_grupper.0_5, kjonn.0")
    dom = (await get(site, "/atlas/imdi_befolkning_alder?region_current=4601&inndeling=kommune"
                           "&variabel=innvkat_3.alle&nedbrytning=alder_grupper.0_5%2C+kjonn.0"
                     )).text
    assert ('innvandrerkategori: alle <small class="atlas-code">innvkat_3.alle</small>'
            in dom)
    assert ('alder 0–5 år, kjønn (kode 0) <small class="atlas-code">alder_grupper.0_5, kjonn.0'
            '</small>') in dom
    assert f">{int(young['value'])}<" in dom
    # the JSON keeps the codes
    data = (await get(site, "/atlas/imdi_befolkning_alder.json?_shape=array&region_current=4601"
                            "&variabel=innvkat_3.alle&_size=1")).json()
    assert data[0]["variabel"] == "innvkat_3.alle"
