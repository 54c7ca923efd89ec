"""What the front page shows: the sources grouped by topic, one line each with links to their
tables, the canned queries, and each provider's status symbols in plain words. Read from the
`sources` table the publish step wrote, so the page always matches the database it serves."""

from __future__ import annotations

from dataclasses import dataclass, field

from datasette.utils.asgi import Response

from atlas_crawl.fetch.origin import REAL_ORIGINS, describe
from atlas_crawl.publish.words import PROVIDERS, STATUS_SYMBOLS, TOPICS

SOURCE_COLUMNS = ("source_id", "title", "provider", "topic", "frequency", "theme", "tables",
                  "rows", "first_period", "last_period", "freshness", "last_successful_run_mode",
                  "presentation_policy", "data_origin", "capture_date", "real_rows")
NO_REAL_DATA = "no real data in this catalogue yet: run `update` with network access"


@dataclass
class SourceLine:
    source_id: str
    title: str
    provider: str
    frequency: str | None
    tables: list[str]
    rows: int | None
    periods: str | None
    freshness: str | None
    sensitive: bool
    origin: str | None = None  # "live", "real capture of <date>", "sample: invented values"
    sample: bool = False  # its rows are invented values (a constructed fixture)
    no_real_data: bool = False  # not one row of live or captured data


@dataclass
class Topic:
    key: str
    heading: str
    sources: list[SourceLine] = field(default_factory=list)


def topics(rows: list[dict]) -> list[Topic]:
    """Sources grouped by topic in TOPICS order (unknown topics last), crawled ones first."""
    groups: dict[str, Topic] = {k: Topic(k, h) for k, h in TOPICS.items()}
    for r in rows:
        key = r.get("topic") or "other"
        group = groups.setdefault(key, Topic(key, key.replace("-", " ").capitalize()))
        first, last = r.get("first_period"), r.get("last_period")
        periods = (f"{first}–{last}" if first != last else str(first)) if first else None
        group.sources.append(SourceLine(
            r["source_id"], r["title"], PROVIDERS.get(r["provider"], r["provider"]),
            r.get("frequency"), [t for t in (r.get("tables") or "").split(", ") if t],
            r.get("rows"), periods, r.get("freshness"),
            r.get("presentation_policy") == "sensitive",
            describe(r["data_origin"], r.get("capture_date")) if r.get("data_origin") else None,
            bool(r.get("data_origin")) and r["data_origin"] not in REAL_ORIGINS,
            not r.get("real_rows")))
    for group in groups.values():
        group.sources.sort(key=lambda s: (not s.tables, s.title.lower()))
    return [g for g in groups.values() if g.sources]


def legends(providers: set[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(provider name, [(symbol, meaning)]) for each provider in the catalogue that has symbols."""
    return [(PROVIDERS.get(p, p), list(STATUS_SYMBOLS[p].items()))
            for p in sorted(providers) if p in STATUS_SYMBOLS]


async def front_page(datasette) -> dict | None:
    """Template variables for index.html, or None when the database has no `sources` table."""
    if not datasette.databases:
        return None
    db = datasette.get_database()
    if not await db.table_exists("sources"):
        return None
    have = {c.name for c in await db.table_column_details("sources")}
    # a `sources` table published before the origin columns: NULL for them
    columns = [c if c in have else f"NULL AS {c}" for c in SOURCE_COLUMNS]
    result = await db.execute(f"SELECT {', '.join(columns)} FROM sources")
    rows = [dict(zip(SOURCE_COLUMNS, r)) for r in result.rows]
    queries = await datasette.get_canned_queries(db.name, None)
    return {
        "database": db.name,
        "topics": topics(rows),
        "legends": legends({r["provider"] for r in rows}),
        "queries": [{"name": n, "title": q.get("title", n)} for n, q in queries.items()
                    if n != "search"],
        "crawled": sum(1 for r in rows if r["tables"]),
        "real": sum(1 for r in rows if r["real_rows"]),
        "no_real_data": NO_REAL_DATA,
        "total": len(rows),
    }


async def database_summary(datasette, name: str) -> dict:
    """Tables, views and hidden tables of a database, from sqlite_master and the metadata (the
    default index page counts every table's rows first, which is slow on large databases)."""
    db = datasette.get_database(name)
    rows = (await db.execute("SELECT name, type FROM sqlite_master "
                             "WHERE type IN ('table', 'view')")).rows
    hidden_meta = {t for t, meta in (datasette.metadata("tables", database=name) or {}).items()
                   if meta.get("hidden")}
    tables = [n for n, kind in rows if kind == "table"]
    hidden = [t for t in tables if t in hidden_meta or t.startswith("sqlite_") or "_fts" in t]
    return {"name": name, "tables_count": len(tables) - len(hidden),
            "views_count": sum(1 for _, kind in rows if kind == "view"),
            "hidden_tables_count": len(hidden)}


async def index_page(datasette, request) -> Response:
    """The front page, served directly (see database_summary)."""
    context = {
        "atlas": await front_page(datasette),
        "metadata": datasette.metadata(),
        "databases": [await database_summary(datasette, name) for name in datasette.databases
                      if name != "_internal"],
    }
    return Response.html(await datasette.render_template("index.html", context, request=request))
