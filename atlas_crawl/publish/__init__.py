"""The Datasette catalogue, generated from the manifests and the database.

`publish(db, metadata_path)` prepares a crawled database for serving and writes metadata.yml:

1. `dim_place` and `dim_period` (names next to codes, grains next to periods);
2. foreign keys from place and period columns to them, and the indexes the pages read (schema
   only: the crawled rows are copied unchanged, and a table already in shape is left alone);
3. the views the sources declare (`source_views.py`), an annual view of every monthly table and
   a series on today's borders (`<table>_today`, `today.py`) of every table with kommune or
   fylke rows;
4. the `sources` table with full-text search;
5. metadata.yml: titles, descriptions, licences, sources, columns, facets, sorts, canned queries;
6. the statistics of every index (`ANALYZE`), which the query planner reads.

The database is then checkpointed out of WAL mode so `datasette serve -i` (immutable) sees it all.
Publishing twice gives the same database and the same metadata.
"""

from __future__ import annotations

import html
import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlite_utils

from atlas_crawl.manifests import Manifest, all_manifests
from atlas_crawl.publish import compare, dims, fast, metadata, queries, search, sources, views
from atlas_crawl.publish import today as today_series
from atlas_crawl.publish.profile import TableProfile, profile_table, quote, table_names, view_names
from atlas_crawl.publish.report import REPORT_KEY, report_config
from atlas_crawl.publish.site import charts
from atlas_crawl.store.ledger import fill_legacy_origins
from atlas_crawl.store.schema import ensure_run_origin_columns
from atlas_crawl.store.views import make_source_views
from atlas_crawl.watch.changes import WATCH_MANIFEST

log = logging.getLogger(__name__)

#: Tables the catalogue describes itself rather than profiling as data.
NOT_DATA = {"_runs", "_fetches", "quarantine", "raw_files", sources.SOURCES, dims.DIM_PLACE,
            dims.DIM_PERIOD, "source_status",
            search.SEARCH_TABLE, fast.FACET_COUNTS}


@dataclass
class PublishReport:
    database: str
    metadata_path: Path
    tables: list[str] = field(default_factory=list)
    foreign_keys_changed: list[str] = field(default_factory=list)
    indexes_created: list[str] = field(default_factory=list)
    annual_views: list[str] = field(default_factory=list)
    source_views: list[str] = field(default_factory=list)
    today_views: list[str] = field(default_factory=list)
    sources: int = 0
    periods: int = 0
    places: dict[str, int] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    search_rows: int = 0
    facet_counts: int = 0
    inspect_path: Path | None = None


def is_data_table(name: str) -> bool:
    return not (name in NOT_DATA
                or name.startswith(("sqlite_", "_", f"{sources.SOURCES}_fts",
                                    f"{search.SEARCH_TABLE}_fts")))


def manifest_index(manifests: dict[str, Manifest]) -> dict[str, Manifest]:
    out = {}
    for m in manifests.values():
        for table in m.table_names:
            out.setdefault(table, m)
    return out


def example_place(conn: sqlite3.Connection, prof: TableProfile) -> str | None:
    """A place to chart: Oslo if the table has it, else the kommune with the most rows."""
    place = prof.place
    if place is None:
        return None
    code = quote(place.seek)
    if conn.execute(f"SELECT 1 FROM {quote(prof.table)} WHERE {code} = '0301' LIMIT 1").fetchone():
        return "0301"
    row = conn.execute(f"SELECT {code} FROM {quote(prof.table)} WHERE {code} IS NOT NULL "
                       f"GROUP BY {code} ORDER BY count(*) DESC LIMIT 1").fetchone()
    return str(row[0]) if row else None


def view_manifest(view: str, manifests: dict[str, Manifest]) -> Manifest | None:
    """The source a view belongs to: the longest source id its name starts with."""
    owners = [m for sid, m in manifests.items() if view == sid or view.startswith(sid + "_")]
    return max(owners, key=lambda m: len(m.source_id)) if owners else None


def chart_filters(conn: sqlite3.Connection, prof: TableProfile) -> dict[str, str]:
    """Narrow a chart to the most common value of the first indicator, when it has several."""
    if not prof.indicators:
        return {}
    column = quote(prof.indicators[0])
    top = conn.execute(f"SELECT {column} FROM {quote(prof.table)} WHERE {column} IS NOT NULL "
                       f"GROUP BY {column} ORDER BY count(*) DESC, {column} LIMIT 2").fetchall()
    return {prof.indicators[0]: str(top[0][0])} if len(top) == 2 else {}


def sample_tables(profiles: dict[str, TableProfile], origins: dict[str, dict]) -> set[str]:
    """The tables and views whose source's data is not live or a real capture (constructed
    fixtures, or of unknown origin): every page showing them says they are samples."""
    return {name for name, prof in profiles.items()
            if prof.manifest and metadata.is_sample(origins.get(prof.manifest.source_id))}


def mark_sample_queries(canned: dict[str, dict], samples: set[str]) -> None:
    """A canned query over a sample table carries the sample banner. The comparisons and the
    pictures leave rows of constructed fixtures out unless `samples` is filled in (compare.py,
    queries.py); the banner says so and where they are."""
    for query in canned.values():
        read = sorted(t for t in samples if quote(t) in query.get("sql", ""))
        if not read:
            continue
        asked = ("unless you fill in samples (any text)" if "samples" in query.get("params", [])
                 else "of this answer; their table pages show them, marked as samples")
        query["description_html"] = (
            metadata.sample_banner_html(
                f" in {', '.join(read)}: rows of constructed fixtures are left out {asked}.")
            + f"<p>{html.escape(query.get('description', ''))}</p>")


def publish(db_path: str | Path, metadata_path: str | Path, *,
            manifests: dict[str, Manifest] | None = None,
            query_specs: dict[str, dict] | None = None,
            now: datetime | None = None) -> PublishReport:
    db_path = Path(db_path)
    if not db_path.exists():
        raise FileNotFoundError(f"{db_path}: no database to publish (crawl first)")
    manifests = all_manifests() if manifests is None else manifests
    database = db_path.stem
    report = PublishReport(database, Path(metadata_path))
    conn = sqlite3.connect(str(db_path), isolation_level=None)
    try:
        db = sqlite_utils.Database(conn)
        by_table = manifest_index(manifests)
        if db["_runs"].exists():  # a ledger from before the origin columns: fill them once
            ensure_run_origin_columns(conn)
            fill_legacy_origins(conn)

        report.places = dims.build_dim_place(conn)
        data_tables = [t for t in table_names(conn) if is_data_table(t)]
        profiles = {t: profile_table(conn, t, by_table.get(t)) for t in data_tables}
        report.tables = data_tables
        report.periods = dims.build_dim_period(conn, list(profiles.values()))

        for name, prof in profiles.items():
            prof.lookups = dims.source_lookups(prof, profiles)
            prof.lookups.update(dims.dimension_lookups(conn, prof))
        for name, prof in profiles.items():
            if name.startswith("dim_"):
                continue
            wanted = dims.wanted_foreign_keys(conn, prof)
            if dims.apply_foreign_keys(db, prof, wanted):
                report.foreign_keys_changed.append(name)
            report.indexes_created += dims.ensure_indexes(conn, prof)
        for name, prof in profiles.items():
            prof.labelled = {fk.column for fk in db[name].foreign_keys}

        # The views sources declare (joins to Brreg, the monitor's recrawl_needed, ...), made
        # again now that every table they read may exist.
        declared = {**manifests, WATCH_MANIFEST.source_id: WATCH_MANIFEST}
        report.source_views = make_source_views(conn, declared.values())
        report.annual_views = views.create_annual_views(
            conn, [p for n, p in profiles.items() if not n.startswith("dim_")])
        # series on today's borders: `<table>_today` for every table with kommune or fylke rows
        report.today_views = today_series.create_today_views(
            conn, [p for n, p in profiles.items() if not n.startswith("dim_")])
        annual = {views.annual_view_name(p.table): views.annual_profile(p)
                  for p in profiles.values() if views.annual_view_name(p.table)
                  in report.annual_views}

        rows = sources.source_rows(conn, manifests, profiles, now=now)
        report.sources = sources.write_sources(db, rows)

        canned = {"search": search.search_query(database),
                  **compare.compare_queries(conn, profiles),
                  **queries.canned_queries({**profiles, **annual}, query_specs)}
        report.queries = list(canned)
        examples = {n: example_place(conn, p) for n, p in profiles.items()
                    if not n.startswith("dim_")}
        filters = {n: chart_filters(conn, p) for n, p in profiles.items()
                   if not n.startswith("dim_")}
        report.facet_counts = fast.build_facet_counts(conn, profiles)
        present = set(table_names(conn)) | set(view_names(conn)) | {search.SEARCH_TABLE}
        other_views = {v: view_manifest(v, manifests) for v in view_names(conn)
                       if v not in annual}
        origins = {r["source_id"]: r for r in rows}
        samples = sample_tables({**profiles, **annual}, origins)
        mark_sample_queries(canned, samples)
        meta = metadata.build_metadata(database, profiles, present=present, queries=canned,
                                       example_places=examples, annual_views=annual,
                                       chart_filters=filters, other_views=other_views,
                                       origins=origins)
        chart_tables = charts.chart_config(
            conn, {**profiles, **annual},
            {**examples, **{v: examples.get(p.table[: -len(views.ANNUAL_SUFFIX)])
                            for v, p in annual.items()}},
            {v[: -len(today_series.TODAY_SUFFIX)]: v for v in report.today_views})
        for name, cfg in chart_tables["tables"].items():
            cfg["sample"] = name in samples
            cfg["has_run"] = "_run" in {**profiles, **annual}[name].columns
        meta["plugins"] = {charts.CONFIG_KEY: chart_tables,
                           REPORT_KEY: report_config(conn, profiles)}
        metadata.write_metadata(metadata_path, meta)
        owners = {**{t: by_table.get(t) for t in profiles}, **other_views,
                  **{v: p.manifest for v, p in annual.items()}}
        report.search_rows = search.write_search(db, search.search_rows(
            database, meta, manifests, owners, set(view_names(conn))))

        # Statistics of every index (sqlite_stat1): SQLite then knows, e.g., that a table has
        # few periods, and reads one place's rows through the (period, today's code) index
        # period by period (a skip-scan) instead of the whole index. Made afresh (the same rows
        # give the same statistics, in the same order), so publishing twice changes nothing.
        conn.execute("DROP TABLE IF EXISTS sqlite_stat1")
        for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
                "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name").fetchall():
            conn.execute(f"ANALYZE {quote(name)}")
        # Serving is immutable: everything must be in the main database file.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
        report.inspect_path = fast.write_inspect_file(conn, db_path)
    finally:
        conn.close()
    log.info("published %s: %d tables (%d with new foreign keys), %d annual views, %d sources, "
             "%d periods, %d canned queries -> %s", db_path, len(report.tables),
             len(report.foreign_keys_changed), len(report.annual_views), report.sources,
             report.periods, len(report.queries), metadata_path)
    return report
