"""Valgresultat: the parser on real answers, and provisional counts replaced by the final one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import pytest_twisted
from conftest import crawl_file

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import valgresultat as vr
from atlas_crawl.manifests import ManifestError, parse_manifest
from atlas_crawl.publish.periods import parse_period
from atlas_crawl.run.golden import crawl, crawl_settings, runs
from atlas_crawl.spiders.valgresultat import ValgresultatSpider

GOLDEN = PROJECT_DIR / "golden"
FINAL = GOLDEN / "valgresultat" / "responses" / "st2025_kommune_03-0301_2025-10-20T1217.json"
PARTIAL = (GOLDEN / "valgresultat_paagaar" / "responses"
           / "st2025_kommune_03-0301_oslo_partialcount_2025-09-08T2003.json")
OLD_FINAL = GOLDEN / "valgresultat_2021" / "responses" / "st2021_kommune_03-0301_2021-09-30T2324.json"
PRECOUNT = GOLDEN / "valgresultat_precount" / "st2025_kommune_03-0301_oslo_precount_2025-09-07T1146.json"


def test_final_count_of_oslo_2025():
    answer = vr.parse_answer(FINAL.read_bytes())
    a = answer.area
    assert (a.year, a.valgtype, a.level, a.nr, a.name) == (2025, "st", "kommune", "0301", "Oslo")
    assert a.count_status == vr.FINAL
    assert (a.stemmeberettigede, a.stemmer, a.stemmer_fhs, a.frammote_prosent) == (
        518708, 424036, 287604, 81.7)
    labour = next(p for p in answer.parties if p.partikode == "A")
    assert (labour.stemmer, labour.stemmer_fhs, labour.prosent) == (108268, 70553, 25.66091)
    assert len(answer.parties) == 23
    # a kommune links its bydeler; the crawl does not follow them
    assert answer.related[0] == "/2025/st/03/0301/0"


def test_count_in_progress_is_provisional():
    answer = vr.parse_answer(PARTIAL.read_bytes())
    assert answer.area.count_status == vr.PROVISIONAL
    assert answer.area.stemmer == 300939
    blank = next(p for p in answer.parties if p.partikode == "BLANKE")
    assert (blank.stemmer, blank.prosent, blank.partikategori) == (1287, None, 3)


def test_precount_answer_is_not_a_result():
    answer = vr.parse_answer(PRECOUNT.read_bytes())
    assert answer.area.count_status == vr.PRECOUNT and not answer.counted
    assert answer.area.stemmeberettigede == 517614
    assert all(p.stemmer == 0 and p.prosent is None for p in answer.parties)


def test_older_answers_say_their_progress_in_opptalt():
    answer = vr.parse_answer(OLD_FINAL.read_bytes())
    assert answer.area.count_status == vr.FINAL
    assert (answer.area.year, answer.area.stemmer, answer.area.frammote_prosent) == (
        2021, 381247, 78.5)
    doc = {"id": {"valgaar": "2021", "valgtype": "ST", "nivaa": "kommune", "nr": "0301"},
           "stemmer": {"total": 1200}, "opptalt": {"forelopig": 23.0, "endelig": 0}}
    assert vr.count_status(doc) == vr.PROVISIONAL


def test_an_answer_without_id_names_the_field():
    with pytest.raises(vr.ValgresultatError, match=r"x\.json: field 'id'"):
        vr.parse_answer(b'{"partier": []}', where="x.json")


def test_years_choose_elections_by_type():
    spider = ValgresultatSpider(years="2023,2025", valgtyper="st,k")
    assert spider.elections(2026) == [(2023, "k"), (2025, "st")]
    assert ValgresultatSpider(valgtyper="k").elections(2026) == [(2023, "k")]
    assert ValgresultatSpider(years="all", valgtyper="st").elections(2026) == [
        (2009, "st"), (2013, "st"), (2017, "st"), (2021, "st"), (2025, "st")]
    with pytest.raises(ValueError, match="valgtyper"):
        ValgresultatSpider(valgtyper="x")


def test_election_years_are_events():
    event = parse_period("2025", "event")
    assert (event.grain, event.year, event.label) == ("event", 2025, "2025 (event)")
    assert parse_period("2025", "P2Y").grain == "P1Y"
    base = {"source_id": "x", "upstream_id": "1", "upstream_url": "u", "upstream_title": "t",
            "description": "d", "publisher": "p", "license": "l", "license_url": "u",
            "periodicity": "P2Y", "eu_theme": "GOVE", "attribution": "a",
            "tags": {"provider": "valgdirektoratet", "topic": "elections", "geo": "kommune",
                     "cadence": "irregular"},
            "dimensions": [{"code": "c", "meaning": "m"}], "presentation_policy": "standard",
            "methodology_version": "1"}
    assert parse_manifest(Path("x.yml"), {**base, "period_grain": "event"}).period_hint == "event"
    assert parse_manifest(Path("x.yml"), base).period_hint == "P2Y"
    with pytest.raises(ManifestError, match="x.yml: field 'period_grain'"):
        parse_manifest(Path("x.yml"), {**base, "period_grain": "election"})


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest_twisted.ensureDeferred
async def test_provisional_count_is_replaced_by_the_final_one(tmp_path):
    db = tmp_path / "atlas.db"
    settings = crawl_settings(db, replay=False, ATLAS_RAW_DIR="")
    await crawl("valgresultat", settings, file=str(PARTIAL))
    assert _rows(db, "SELECT count_status, stemmer FROM valgresultat") == [("paagaar", 300939)]
    assert _rows(db, "SELECT stemmer FROM valgresultat_partier WHERE partikode='A'") == [(75008,)]

    await crawl("valgresultat", settings, file=str(FINAL))
    assert _rows(db, "SELECT count_status, stemmer, frammote_prosent FROM valgresultat") == [
        ("ferdig", 424036, 81.7)]
    assert _rows(db, "SELECT DISTINCT count_status FROM valgresultat_partier") == [("ferdig",)]
    assert _rows(db, "SELECT stemmer FROM valgresultat_partier WHERE partikode='A'") == [(108268,)]
    assert _rows(db, "SELECT count(*) FROM valgresultat_partier") == [(23,)]

    # an answer from before counting changes nothing
    await crawl("valgresultat", settings, file=str(PRECOUNT))
    assert runs(db)[-1]["status"] == "ok"
    assert _rows(db, "SELECT count_status, stemmer FROM valgresultat") == [("ferdig", 424036)]
    assert _rows(db, "SELECT count(*) FROM valgresultat_partier") == [(23,)]


@pytest_twisted.ensureDeferred
async def test_precount_answer_stores_nothing(tmp_path):
    db = tmp_path / "atlas.db"
    run = await crawl_file(db, "valgresultat", PRECOUNT)
    assert (run["status"], run["rows_received"]) == ("ok", 0)


@pytest_twisted.ensureDeferred
async def test_the_catalogue_sees_election_years_as_events(tmp_path):
    from atlas_crawl.manifests import get_manifest
    from atlas_crawl.publish.profile import profile_table

    db = tmp_path / "atlas.db"
    await crawl_file(db, "valgresultat", FINAL)
    conn = sqlite3.connect(db)
    try:
        prof = profile_table(conn, "valgresultat", get_manifest("valgresultat"))
    finally:
        conn.close()
    assert (prof.period, prof.period_grain, prof.value) == ("valgaar", "event",
                                                            "frammote_prosent")
