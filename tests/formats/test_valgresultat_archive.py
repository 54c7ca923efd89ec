"""The Valgresultat archive (golden/valgresultat_st<year>/): the real final answers of every area
of five stortingsvalg, read by the same parser, and replayed by `update --replay` after the
spider's own recording."""

from __future__ import annotations

import gzip
import json

import pytest

from atlas_crawl.fetch.replay import Cassette
from atlas_crawl.formats import valgresultat as vr
from atlas_crawl.run.golden import GOLDEN_DIR
from atlas_crawl.run.plan import extra_replay_cases

YEARS = ("2009", "2013", "2017", "2021", "2025")
# answers per election: the country, 19 valgdistrikter and that year's kommuner
ANSWERS = {"2009": 1 + 19 + 430, "2013": 1 + 19 + 428, "2017": 1 + 19 + 426,
           "2021": 1 + 19 + 356, "2025": 1 + 19 + 357}


def answer(year: str, url_tail: str) -> vr.Answer:
    cassette = Cassette(GOLDEN_DIR / f"valgresultat_st{year}")
    rec = cassette.find("GET", f"{vr.API_ROOT}/{year}/st{url_tail}", None)
    assert rec is not None, url_tail
    return vr.parse_answer(cassette.body_of(rec), where=rec.url)


@pytest.mark.parametrize("year", YEARS)
def test_every_area_of_the_election_is_recorded_and_final(year):
    cassette = Cassette(GOLDEN_DIR / f"valgresultat_st{year}")
    assert len(cassette.recordings) == ANSWERS[year]
    land = answer(year, "")
    linked = {f"{vr.API_ROOT}{href}" for href in land.related}
    for href in list(land.related):
        linked |= {f"{vr.API_ROOT}{h}" for h in answer(year, href.split("/st", 1)[1]).related}
    # The live walk (country -> fylker -> kommuner) asks for exactly what is recorded.
    assert linked | {vr.area_url(year, "st")} == {r.url for r in cassette.recordings.values()}


def test_2009_answer_says_its_progress_in_opptalt_and_is_final():
    land = answer("2009", "")
    assert land.area.count_status == vr.FINAL
    assert (land.area.stemmeberettigede, land.area.stemmer) == (3_530_785, 2_682_903)
    assert land.area.rapport_generert == "2019-06-06T11:56:08"
    ap = land.parties[0]
    assert (ap.partikode, ap.stemmer, ap.prosent) == ("A", 949_049, 35.37396)
    # 2009's answers carry no split of the share by kind of vote
    assert ap.prosent_fhs is None and ap.prosent_vts is None


def test_a_kommune_new_since_the_last_election_has_no_change_to_give():
    # 1903 Harstad (Harstad and Bjarkøy merged in 2013): the API gives no endring
    harstad = answer("2013", "/19/1903")
    assert harstad.area.name == "Harstad"
    assert {p.endring_prosentpoeng for p in harstad.parties} == {None}
    assert harstad.parties[0].stemmer == 4_284
    # an old kommune of the same answer has one
    tromso = answer("2013", "/19/1902")
    assert tromso.parties[0].endring_prosentpoeng is not None


def test_old_kommune_codes_of_their_year():
    assert answer("2009", "/16/1613").area.name == "Snillfjord"
    assert answer("2021", "/11/1151").area.stemmeberettigede == 147  # Utsira


def test_bodies_are_stored_gzipped_and_served_as_json():
    folder = GOLDEN_DIR / "valgresultat_st2017"
    rec = next(iter(Cassette(folder).recordings.values()))
    assert rec.file.endswith(".json.gz")
    raw = (folder / rec.file).read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    assert Cassette(folder).body_of(rec) == gzip.decompress(raw)
    assert json.loads(gzip.decompress(raw))["id"]["valgaar"] == "2017"


def test_update_replay_crawls_every_election_after_the_spiders_own_recording():
    extra = extra_replay_cases(GOLDEN_DIR, "valgresultat")
    assert [f.name for f in extra] == [f"valgresultat_st{y}" for y in YEARS]
    # cases that read one file, or replay a part of an election, are not crawled again
    assert not {"valgresultat_2021", "valgresultat_paagaar", "valgresultat_hedmark"} & {
        f.name for f in extra}
