"""The catalogue's search finds sources by the words people use, in Norwegian and English, with
parts of compounds and inflected forms: in the `sources` table's own search box (FTS5 trigram,
queried the way Datasette does) and in the canned query `search` over tables and columns too."""

from __future__ import annotations

import sqlite3

import pytest
import yaml
from datasette.utils import escape_fts

from atlas_crawl.publish import publish
from atlas_crawl.publish.search import stem_sql

# word typed -> a source it must find
WORDS = {
    "fattigdom": "bufdir_barnefattigdom",     # part of barnefattigdom
    "barnefattigdom": "bufdir_barnefattigdom",
    "child poverty": "bufdir_barnefattigdom",
    "bosetting": "imdi_bosetting",
    "flyktninger": "imdi_bosetting",
    "refugees": "imdi_bosetting",
    "arbeidsledighet": "nav_helt_ledige",
    "unemployment": "nav_helt_ledige",
    "ledige": "nav_helt_ledige",
    "uføretrygd": "nav_uforetrygd",
    "disability": "nav_uforetrygd",
    "mobbing": "udir_elevundersokelsen",
    "bullying": "udir_elevundersokelsen",
    "befolkning": "ssb_07459",
    "population": "ssb_07459",
}
# inflected forms that appear nowhere as written: only the canned query's stemming finds them
STEMMED = {"bosettingene": "imdi_bosetting", "barnevernet": "bufdir_barnevern",
           "unemployed": "nav_helt_ledige"}


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    folder = tmp_path_factory.mktemp("search")
    db = folder / "atlas.db"
    sqlite3.connect(db).close()  # nothing crawled: every manifest is still a source
    publish(db, folder / "metadata.yml")
    meta = yaml.safe_load((folder / "metadata.yml").read_text(encoding="utf-8"))
    conn = sqlite3.connect(db)
    yield conn, meta["databases"]["atlas"]["queries"]["search"]
    conn.close()


def sources_search(conn, words: str) -> list[str]:
    """What Datasette's search box on /atlas/sources runs for `_search=words`."""
    return [r[0] for r in conn.execute(
        "SELECT source_id FROM sources WHERE rowid IN (SELECT rowid FROM sources_fts "
        "WHERE sources_fts MATCH :search) ORDER BY source_id", {"search": escape_fts(words)})]


def canned_search(conn, query: dict, words: str) -> list[tuple[str, str]]:
    return [(kind, link) for kind, _title, link, _name, _text
            in conn.execute(query["sql"], {"q": words})]


@pytest.mark.parametrize(("words", "source"), WORDS.items())
def test_the_sources_search_box_finds_a_source_by_its_words(catalogue, words, source):
    conn, _ = catalogue
    assert source in sources_search(conn, words)


@pytest.mark.parametrize(("words", "source"), {**WORDS, **STEMMED}.items())
def test_the_catalogue_search_finds_the_source_first(catalogue, words, source):
    conn, query = catalogue
    hits = canned_search(conn, query, words)
    sources = [link for kind, link in hits if kind == "source"]
    assert f"/atlas/sources/{source}" in sources, hits[:10]
    assert hits[0][0] == "source"  # sources lead, columns come last


def test_a_word_finds_nothing_unrelated(catalogue):
    conn, query = catalogue
    # NAV's unemployment tables (the public HL060 and the delivered monthly workbooks) and
    # SSB's labour force survey, and IMDi's registered unemployed by immigrant category
    assert sorted(sources_search(conn, "unemployment")) == [
        "imdi_arbledige_innvkat_land", "nav_arbeidssokere_yrke", "nav_helt_ledige",
        "nav_ledighet_maned", "ssb_13760"]
    assert canned_search(conn, query, "zzqxj") == []
    assert canned_search(conn, query, "ab") == []  # too short for trigrams: nothing, not all


def test_the_search_query_hides_its_sql(catalogue):
    _, query = catalogue
    assert query["hide_sql"] is True and query["params"] == ["q"]


@pytest.mark.parametrize(("word", "stem"), [
    ("flyktninger", "flyktning"), ("unemployment", "unemploy"), ("barnevernet", "barnevern"),
    ("arbeidsledighet", "arbeidsledig"), ("skole", "skole"), ("mobbing", "mobbing")])
def test_stems(word, stem):
    assert sqlite3.connect(":memory:").execute(
        f"SELECT {stem_sql(':w')}", {"w": word}).fetchone()[0] == stem
