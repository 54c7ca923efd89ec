"""One search over the whole catalogue: sources (with their keywords in Norwegian and English),
tables and views, their columns, and the canned queries.

`catalogue_search` holds one row per thing found (kind, name, title, text, link) and is indexed by
an FTS5 table with the trigram tokenizer, so any part of a word matches (`fattigdom` finds
barnefattigdom, `ledig` finds helt ledige). The canned query `search` also tries the word without a
common Norwegian or English ending (`flyktninger` -> flyktning, `unemployment` -> unemploy), so
inflected forms find each other.
"""

from __future__ import annotations

import html
import re

import sqlite_utils

from atlas_crawl.manifests import Manifest
from atlas_crawl.publish.words import periodicity_words, theme_words
from atlas_crawl.store.lock import transaction

SEARCH_TABLE = "catalogue_search"
KIND_ORDER = ("source", "report", "query", "table", "view", "columns")
#: Questions read few sources: their words find them (a query reading more is a profile of all)
MAX_QUERY_SOURCES = 3
REPORT_ROW = {
    "kind": "report", "name": "kommune",
    "title": "Kommunerapport: hvordan går det i kommunen? (Kommune report: how is my kommune "
             "doing?)",
    "text": ("Én side per kommune med nøkkeltall i ord: fylket, kommuner av samme størrelse og "
             "landet, plass i fylket, utvikling over tid, bedre eller dårligere enn landet. "
             "kommune · kommunerapport · nøkkeltall · kommunefakta · folkehelseprofil · "
             "sammenligning · One page per kommune with key figures in words, compared with "
             "its fylke, similar kommuner and Norway · kommune report · key figures"),
    "link": "/kommune",
}
#: Endings tried off a search word, longest first; a stem keeps at least MIN_STEM characters.
ENDINGS = ("ingene", "ene", "ment", "ments", "het", "heten", "ing", "ers", "er", "en", "et",
           "ed", "es", "s", "e")
MIN_STEM = 5


def _plain(text: str | None) -> str:
    """HTML description as plain text."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text or ""))).strip()


def _words(m: Manifest | None) -> str:
    if m is None:
        return ""
    return " · ".join([*m.keywords.get("nb", ()), *m.keywords.get("en", ())])


def _sources_read(sql: str, manifests: dict[str, Manifest]) -> list[Manifest]:
    """The sources whose tables a query's SQL names (so "fattigdom" finds the child-poverty
    question through Bufdir's keywords)."""
    return [m for m in manifests.values()
            if any(re.search(rf"(?<![\w]){re.escape(t)}(?![\w])", sql) for t in m.table_names)]


def search_rows(database: str, metadata: dict, manifests: dict[str, Manifest],
                owners: dict[str, Manifest | None], views: set[str]) -> list[dict]:
    """Rows for `catalogue_search` from the finished metadata document; `owners` names the
    source of each table or view (its keywords find the table too)."""
    db_meta = metadata["databases"][database]
    rows = []
    for m in sorted(manifests.values(), key=lambda m: m.source_id):
        rows.append({
            "kind": "source", "name": m.source_id, "title": m.upstream_title,
            "text": " · ".join(filter(None, [m.description, _words(m), m.publisher,
                                             theme_words(m.eu_theme),
                                             periodicity_words(m.periodicity)])),
            "link": f"/{database}/sources/{m.source_id}",
        })
    rows.append(dict(REPORT_ROW))
    for name, query in db_meta.get("queries", {}).items():
        if name == "search":
            continue
        read = _sources_read(query.get("sql") or "", manifests)
        words = [_words(m) for m in read] if len(read) <= MAX_QUERY_SOURCES else []
        rows.append({"kind": "query", "name": name, "title": query.get("title", name),
                     "text": " · ".join(filter(None, [
                         _plain(query.get("description_html") or query.get("description")),
                         *words])),
                     "link": f"/{database}/{name}"})
    for name, meta in db_meta.get("tables", {}).items():
        m = owners.get(name)
        rows.append({"kind": "view" if name in views else "table", "name": name, "title": meta.get("title", name),
                     "text": " · ".join(filter(None, [_plain(meta.get("description_html")),
                                                      _words(m)])),
                     "link": f"/{database}/{name}"})
        for column, text in (meta.get("columns") or {}).items():
            rows.append({"kind": "column", "name": f"{name}.{column}",
                         "title": f"{column} — {meta.get('title', name)}", "text": text,
                         "link": f"/{database}/{name}"})
    return rows


def write_search(db: sqlite_utils.Database, rows: list[dict]) -> int:
    if db[f"{SEARCH_TABLE}_fts"].exists():
        db[f"{SEARCH_TABLE}_fts"].drop()
    db.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
    db[SEARCH_TABLE].create({"id": int, "kind": str, "name": str, "title": str, "text": str,
                             "link": str}, pk="id")
    with transaction(db.conn):
        db[SEARCH_TABLE].insert_all({"id": i, **r} for i, r in enumerate(rows, 1))
    db[SEARCH_TABLE].enable_fts(["title", "text"], fts_version="FTS5", create_triggers=False,
                                tokenize="trigram", replace=True)
    return len(rows)


def stem_sql(term: str) -> str:
    """SQL for `term` without one common ending, when enough of the word is left."""
    cases = " ".join(
        f"WHEN length({term}) - {len(e)} >= {MIN_STEM} AND substr({term}, -{len(e)}) = '{e}' "
        f"THEN substr({term}, 1, length({term}) - {len(e)})"
        for e in sorted(ENDINGS, key=len, reverse=True))
    return f"CASE {cases} ELSE {term} END"


def search_query(database: str) -> dict:
    """The canned query `search` (`:q`, a word or phrase of three characters or more)."""
    kinds = " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(KIND_ORDER))
    sql = f"""-- generated by `python -m atlas_crawl publish` (atlas_crawl/publish/search.py)
WITH term AS (SELECT lower(trim(:q)) AS word),
stem AS (SELECT word, {stem_sql('word')} AS stem FROM term),
hits AS (
  SELECT s.*, (lower(s.title) LIKE '%' || stem.word || '%') AS in_title
  FROM {SEARCH_TABLE} s, stem
  WHERE length(stem.word) >= 3
    AND s.id IN (SELECT rowid FROM {SEARCH_TABLE}_fts
                 WHERE title LIKE '%' || stem.stem || '%' OR text LIKE '%' || stem.stem || '%')
),
found AS (
  SELECT kind, title, link, name,
         substr(text, 1, 240) || CASE WHEN length(text) > 240 THEN ' …' ELSE '' END AS about,
         in_title
  FROM hits WHERE kind != 'column'
  UNION ALL
  -- the columns that match, one line per table
  SELECT 'columns', 'Columns of ' || substr(min(title), instr(min(title), ' — ') + 3)
         || ' (' || substr(min(name), 1, instr(min(name), '.') - 1) || ')', link,
         substr(min(name), 1, instr(min(name), '.') - 1),
         count(*) || ' matching: ' || group_concat(substr(name, instr(name, '.') + 1), ', '),
         max(in_title)
  FROM hits WHERE kind = 'column' GROUP BY link
)
SELECT kind, title, link, name, about FROM found
ORDER BY CASE kind {kinds} END, in_title DESC, title
LIMIT 200"""
    return {
        "title": "Search the catalogue",
        "description_html": (
            "<p>Find sources, tables, columns, ready-made questions and the <a href=\"/kommune\">"
            "kommune report</a> by the words you use, in Norwegian or English "
            "(<em>fattigdom</em>, <em>flyktninger</em>, <em>arbeidsledighet</em>, "
            "<em>unemployment</em>). Parts of words match: <em>ledig</em> finds <em>helt "
            "ledige</em>. Matching columns are listed under their table.</p>"),
        "sql": sql,
        "params": ["q"],
        "hide_sql": True,
    }
