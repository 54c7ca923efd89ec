"""Datasette metadata from the manifests and the published database, never written by hand.

Per table: title, description (with periodicity, methodology version, attribution, a chart link
and, for `presentation_policy: sensitive`, a warning), licence + URL, source + URL, column
descriptions from the manifest's `dimensions`, facets, sort order and label column. Units are data
(the `unit` column), so the metadata says which column holds them rather than using Datasette's
removed `units` key.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote as urlquote
from urllib.parse import urlencode

import yaml

from atlas_crawl.fetch.origin import REAL_ORIGINS, describe
from atlas_crawl.geo.columns import MEANINGS as PLACE_COLUMN_MEANINGS
from atlas_crawl.items import DIMENSION_SEPARATOR as SEPARATOR
from atlas_crawl.items import fact_table_of
from atlas_crawl.manifests import Manifest
from atlas_crawl.publish.profile import TableProfile
from atlas_crawl.publish.site.charts import chart_links_html, table_config
from atlas_crawl.publish.views import ANNUAL_SUFFIX
from atlas_crawl.publish.words import STATUS_SYMBOLS, periodicity_words, theme_words

TITLE = "atlas_crawl: Norway's public statistics"
DESCRIPTION = ("Public statistics per kommune, fylke and bydel from SSB, FHI, NAV, IMDi, Udir, "
               "Bufdir, Brønnøysundregistrene, Husbanken, Lottstift, DSB, Valgdirektoratet and "
               "Helsedirektoratet, harvested with Scrapy. "
               "Every table names its source, licence and meaning; every row names the run and "
               "the response it came from (_run → _runs, _fetch → _fetches: URL, sha256, time).")
SAMPLE_BANNER = "sample: invented values, not statistics"
NO_REAL_DATA = "no real data in this catalogue yet: run `update` with network access"
SAMPLE_STYLE = ("border:3px solid #b00;background:#fff3f3;padding:8px 12px;font-size:1.1em;"
                "margin:0.5em 0")


def is_sample(origin: dict | None) -> bool:
    """A source whose last successful run was not live data or a real capture."""
    return origin is not None and origin.get("data_origin") not in REAL_ORIGINS


def sample_banner_html(what: str = "") -> str:
    """The banner every page showing invented values carries."""
    return (f'<p class="atlas-sample" role="alert" style="{SAMPLE_STYLE}"><strong>'
            f"{_esc(SAMPLE_BANNER)}</strong>{_esc(what)}</p>")


def origin_html(origin: dict | None) -> str:
    """Where a table's numbers came from, for its page: a line for live or captured data; the
    sample banner (and, with no real rows, the note saying so) for anything else."""
    if origin is None or origin.get("data_origin") is None:
        return ""
    if not is_sample(origin):
        return (f'<p class="atlas-origin">Origin of the numbers: <strong>'
                f"{_esc(describe(origin['data_origin'], origin.get('capture_date')))}"
                "</strong></p>")
    parts = [sample_banner_html(
        ". These rows come from a test fixture written from the publisher's documentation "
        "(a constructed golden case), not from the publisher. Do not quote them.")]
    if not origin.get("real_rows"):
        parts.append(f'<p class="atlas-no-real-data"><strong>{_esc(NO_REAL_DATA)}</strong>.</p>')
    return "\n".join(parts)


SENSITIVE_NOTE = ("Sensitive indicator: its manifest marks it presentation_policy: sensitive. "
                  "Small numbers about vulnerable groups: present them with their context and "
                  "suppression, and do not single out kommuner or people.")

SUFFIX_MEANING = {
    "_label": "label",
    **PLACE_COLUMN_MEANINGS,
    "_name": "name",
    "_code": "code",
}
STANDARD_COLUMNS = {
    "value": "The number as published; NULL when the cell is suppressed or missing (see status)",
    "status": "The source's own symbol for a suppressed or missing cell (e.g. '..', ':', '*'); "
              "NULL when value is set. Nothing is imputed",
    "unit": "Unit of value, as the source states it",
    "decimals": "Decimals the source publishes the value with",
    "updated": "When the source last updated the statistic",
    "_run": "The crawl run that last inserted or changed this row (see _runs)",
    "_fetch": "The response the row came from (see _fetches for URL, sha256 and time)",
    "code": "The source's code",
}
INTERNAL_TABLES = {
    "_runs": ("Crawl runs", ("One row per crawl: spider, arguments, start, end, status, rows "
              "received / inserted or changed / quarantined, and the error of a failed run."),
              {"sort_desc": "started", "facets": ["spider", "status"], "label_column": "run_id"}),
    "_fetches": ("Fetched responses", ("Every response a run stored rows from: URL, sha256, "
                 "fetched-at and row count, per table. A row's _fetch is its id here."),
                 {"sort_desc": "fetched_at", "facets": ["source_id", "table_name"],
                  "label_column": "url"}),
    "_facet_counts": ("Precomputed facet counts", ("Counts of the default facets of the large "
                      "tables, for the whole table and under each facet value, made by publish "
                      "so their pages need not count millions of rows."), {"hidden": True}),
    "quarantine": ("Quarantined rows", ("Rows that could not be placed or read, with the raw "
                   "value and the reason; nothing is dropped silently."),
                   {"facets": ["source_id", "reason"]}),
    "raw_files": ("Downloaded files", ("Every file a crawl downloaded, kept as provenance: URL, "
                  "sha256, size, Last-Modified, ETag, content type, fetched-at and where the bytes "
                  "are kept."), {"facets": ["source_id", "content_type"], "sort_desc": "fetched_at"}),
    "source_status": ("Closed tables", ("Per SSB table crawled live: whether SSB has "
                      "discontinued it (PxWebApi v2 metadata) and the table its notes name as the "
                      "replacement. The sources table shows the same."),
                      {"facets": ["discontinued"]}),
    "dim_place": ("Places", ("Land, fylker, kommuner and bydeler with today's name (and former "
                  "names), from the SSB Klass dimension tables when crawled, otherwise from the "
                  "geography snapshot bundled with atlas_crawl. Built at publish time."),
                  {"label_column": "name", "facets": ["level", "reference"]}),
    "dim_period": ("Periods", ("Every period code the tables use, with its grain (P1Y year, "
                   "P3M quarter, P1M month, P3Y three-year period, ...), the year it ends in, "
                   "and its first and last day. Built at publish time."),
                   {"label_column": "label", "facets": ["period_grain", "year"],
                    "sort_desc": "end_date"}),
}
#: Tables and views the change watch (atlas_crawl/watch/changes.py) writes; no manifest file.
WATCH_TABLES = {
    "recrawl_needed": ("What needs a re-crawl", ("Each source whose watched URLs (its manifest's "
                       "watch patterns) were added, changed or removed upstream after the start "
                       "of its last successful run, or that never ran successfully."),
                       {"facets": ["reason"]}),
    "watched_changes": ("Changes to watched URLs", ("Every change the monitor saw, once per source "
                        "whose watch patterns match the URL."),
                        {"facets": ["source_id", "provider", "event"],
                         "sort_desc": "detected_at"}),
    "site_changes": ("Upstream changes", ("One row per URL added, changed or removed on a "
                     "provider's site, per monitor run, with the evidence (sitemap lastmod, "
                     "ETag / Last-Modified, content sha256)."),
                     {"facets": ["provider", "event", "evidence"], "sort_desc": "detected_at"}),
    "sitemap_urls": ("Sitemap URLs", ("Every URL the providers' sitemaps list, with lastmod, "
                     "first seen, last seen and gone since."), {"facets": ["provider"]}),
    "watched_files": ("Watched files", ("Files matched by watch patterns, checked with "
                      "conditional requests and by content hash."), {"facets": ["provider"]}),
    "watch_documents": ("Monitor documents", ("robots.txt and sitemap documents the monitor "
                          "read, with their status."), {"facets": ["provider", "kind", "status"]}),
}
INTERNAL_TABLES["catalogue_search"] = (
    "Catalogue search index", ("Sources, tables, columns and canned queries with their titles, "
                               "descriptions and keywords, for the canned query search."), {})
#: Bookkeeping and reference tables: hidden from the table list (still reachable by URL and under
#: "hidden tables"), so the list leads with the data.
HIDDEN_TABLES = {*INTERNAL_TABLES, *WATCH_TABLES, "geo_changes", "brreg_feed_cursor"}


def is_hidden(table: str) -> bool:
    return table in HIDDEN_TABLES or table.startswith("dim_")


def status_legend_html(provider: str) -> str:
    """What the provider's status symbols mean, as a definition list."""
    symbols = STATUS_SYMBOLS.get(provider)
    if not symbols:
        return ""
    items = "".join(f"<dt><code>{_esc(sym)}</code></dt><dd>{_esc(meaning)}</dd>"
                    for sym, meaning in symbols.items())
    return f'<dl class="atlas-legend">{items}</dl>'


SOURCES_META = {
    "title": "Sources",
    "description_html": (
        "<p>One row per source manifest: provider, EU theme, periodicity, geography, licence, "
        "presentation policy and methodology version, with its tables, rows, last successful run "
        "and freshness from the run ledger (fresh: crawled within one period of its "
        "periodicity; due: within two; overdue: later), computed when the catalogue was "
        "published; a table SSB has discontinued says so, with its replacement where SSB names "
        "one. Search titles and descriptions with the box above the table.</p>"),
    "facets": ["provider", "eu_theme", "freshness", "presentation_policy", "discontinued"],
    "sort": "source_id",
    "label_column": "title",
}


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def column_descriptions(prof: TableProfile) -> dict[str, str]:
    dims: dict[str, str] = {}
    if prof.manifest:
        for d in prof.manifest.dimensions:
            meaning = d.meaning + (f" ({d.value_format})" if d.value_format else "")
            dims[_norm(d.code)] = meaning
    out = {}
    for column in prof.columns:
        key = _norm(column)
        if key in dims:
            out[column] = dims[key]
            continue
        for suffix, meaning in SUFFIX_MEANING.items():
            base = column[: -len(suffix)] if column.endswith(suffix) else None
            if base and (_norm(base) in dims or any(p.raw == base for p in prof.places)):
                out[column] = f"{base}: {meaning}"
                break
        else:
            if column in STANDARD_COLUMNS:
                out[column] = STANDARD_COLUMNS[column]
    if prof.period and prof.period not in out:
        out[prof.period] = "Period"
    if prof.period and prof.period_grain:
        out[prof.period] += f" — grain {prof.period_grain}"
        if prof.period_is_text:
            out[prof.period] += " (see dim_period)"
    return out


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def chart_url(database: str, prof: TableProfile, example_place: str | None,
              filters: dict[str, str] | None = None) -> str | None:
    """A datasette-vega chart preset in the URL fragment: a series over time for one place, or
    (one period only) the places of the latest period side by side; `filters` narrow it to one
    indicator so unlike numbers are not stacked."""
    if not prof.period or not prof.value:
        return None
    params: dict[str, str] = dict(filters or {})
    color = prof.indicators[0] if prof.indicators else ""
    place = prof.place
    several_periods = prof.first_period != prof.last_period
    if several_periods and place and example_place:
        params[place.seek] = example_place
        params["_sort"] = prof.period
        g = {"mark": "line", "x_column": prof.period, "x_type": "ordinal",
             "y_column": prof.value, "y_type": "quantitative", "color_column": color}
    elif place:
        if prof.last_period is not None:
            params[prof.period] = str(prof.last_period)
        if place.level_column:
            params[place.level_column] = "kommune"
        params["_sort_desc"] = prof.value
        g = {"mark": "bar", "x_column": place.seek, "x_type": "ordinal",
             "y_column": prof.value, "y_type": "quantitative", "color_column": color}
    else:
        params["_sort"] = prof.period
        g = {"mark": "bar", "x_column": prof.period, "x_type": "ordinal",
             "y_column": prof.value, "y_type": "quantitative", "color_column": color}
    # Datasette's JSON gives a foreign-key column as {"value", "label"}: chart places by their
    # names and periods by their codes (which sort in time order)
    for axis in ("x_column", "color_column"):
        column = g[axis]
        if column in prof.labelled:
            g[axis] = f"{column}.value" if column == prof.period else f"{column}.label"
    fragment = "&".join(f"g.{k}={urlquote(v, safe='')}" for k, v in g.items() if v)
    return f"/{database}/{urlquote(prof.table)}?{urlencode(params)}#{fragment}"


def description_html(m: Manifest, prof: TableProfile, database: str,
                     example_place: str | None, annual_of: str | None = None,
                     chart_filters: dict[str, str] | None = None,
                     origin: dict | None = None) -> str:
    parts = [origin_html(origin)] if origin_html(origin) else []
    if m.presentation_policy == "sensitive":
        parts.append(f'<p class="sensitive" style="border-left:4px solid #b00;padding-left:8px">'
                     f"<strong>{_esc(SENSITIVE_NOTE)}</strong></p>")
    if annual_of:
        parts.append(f"<p>Annual view of the monthly table <a href=\"/{database}/{annual_of}\">"
                     f"{_esc(annual_of)}</a>: one row per year with the mean over the months "
                     "(NULL when a month is suppressed), the number of months and the year's "
                     "last month as published.</p>")
    parts.append(f"<p>{_esc(m.description)}</p>")
    facts = [f"Publisher: {_esc(m.publisher)}",
             f"Periodicity: {_esc(periodicity_words(m.periodicity))} ({_esc(m.periodicity)})"]
    if prof.period_grain:
        facts.append(f"Periods: {_esc(prof.first_period)} – {_esc(prof.last_period)} "
                     f"(grain {_esc(prof.period_grain)})")
    facts += [f"EU theme: {_esc(theme_words(m.eu_theme))} ({_esc(m.eu_theme)})",
              f"Presentation policy: {_esc(m.presentation_policy)}",
              f"Methodology version: {_esc(m.methodology_version)}",
              f"Attribution: {_esc(m.attribution)}",
              f'API / download: <a href="{_esc(m.upstream_url)}">{_esc(m.upstream_url)}</a>']
    if prof.unit:
        facts.append(f"Units: in the column <code>{_esc(prof.unit)}</code>")
    if licence_note := m.extra.get("licence_note"):
        facts.append(f"Licence note: {_esc(licence_note)}")
    parts.append("<ul>" + "".join(f"<li>{f}</li>" for f in facts) + "</ul>")
    if prof.status and (legend := status_legend_html(m.provider)):
        parts.append(f"<details><summary>What the symbols in <code>{_esc(prof.status)}</code> "
                     f"mean</summary>{legend}</details>")
    url = chart_url(database, prof, example_place, chart_filters)
    parts.append(chart_links_html(database, prof.table, table_config(prof, example_place)))
    if url:
        parts.append(f'<p><a class="atlas-vega" href="{_esc(url)}">Chart this page\'s rows</a> '
                     "(datasette-vega; choose other columns under “Show charting options”).</p>")
    return "\n".join(parts)


def table_metadata(m: Manifest | None, prof: TableProfile, database: str,
                   example_place: str | None = None, annual_of: str | None = None,
                   chart_filters: dict[str, str] | None = None,
                   origin: dict | None = None) -> dict:
    if m is None and prof.table in WATCH_TABLES:
        meta = known_metadata(prof.table)
    elif m is None and fact_table_of(prof.table):
        fact, column = fact_table_of(prof.table), prof.table.rsplit(SEPARATOR, 1)[1]
        meta = {
            "title": f"{fact}: codes of {column}",
            "description_html": (
                f"<p>The label of every code of <code>{_esc(fact)}.{_esc(column)}</code> (for "
                "the statistic also its unit, decimals and when the source updated it), stored "
                f"once per code; <code>{_esc(fact)}</code> links here by foreign key and shows "
                "the label next to the code.</p>"),
        }
    elif m is None:
        meta = {
            "title": prof.table,
            "description_html": (
                "<p>Stored by a crawl without a curated manifest (for example "
                "<code>scrapy crawl ssb_table -a table=NNNNN</code>); see <code>_runs</code> and "
                "<code>_fetches</code> for where it came from.</p>"),
        }
    else:
        title = m.upstream_title
        if annual_of:
            title += " — annual"
        elif prof.table != m.source_id:
            title += f" ({prof.table})"
        meta = {
            "title": title,
            "description_html": description_html(m, prof, database, example_place, annual_of,
                                                 chart_filters, origin),
            "license": m.license,
            "license_url": m.license_url,
            "source": m.publisher,
            "source_url": m.upstream_landing_page or m.upstream_url,
            "about": f"Manifest {m.path.name}",
            "about_url": m.upstream_url,
        }
    columns = column_descriptions(prof)
    if columns:
        meta["columns"] = columns
    if prof.facets and "facets" not in meta:
        meta["facets"] = list(prof.facets)
    opts = prof.options
    if "sort" in meta or "sort_desc" in meta:
        pass
    elif opts.get("sort_desc") in prof.columns:
        meta["sort_desc"] = opts["sort_desc"]
    elif opts.get("sort") in prof.columns:
        meta["sort"] = opts["sort"]
    elif prof.period:
        meta["sort_desc"] = prof.period
    label = opts.get("label_column")
    if label in prof.columns:
        meta["label_column"] = label
    elif len(prof.pk) == 1 or prof.table.startswith("dim_"):
        label = next((c for c in ("name", "navn", "title", "label") if c in prof.columns), None)
        if label:
            meta["label_column"] = label
    return meta


def view_metadata(name: str, m: Manifest | None) -> dict:
    """A view a spider made over its source's tables (e.g. a join or a rollup)."""
    if m is None:
        return known_metadata(name) if name in WATCH_TABLES else {"title": name}
    return {
        "title": f"{m.upstream_title} — {name[len(m.source_id):].strip('_') or 'view'}",
        "description_html": (f"<p>A view over <code>{_esc(m.source_id)}</code>, made by its "
                             f"crawl. {_esc(m.description)}</p>"),
        "license": m.license,
        "license_url": m.license_url,
        "source": m.publisher,
        "source_url": m.upstream_landing_page or m.upstream_url,
    }


def known_metadata(table: str) -> dict:
    title, text, extra = {**INTERNAL_TABLES, **WATCH_TABLES}[table]
    return {"title": title, "description_html": f"<p>{_esc(text)}</p>", **extra}


def build_metadata(database: str, profiles: dict[str, TableProfile], *, present: set[str],
                   queries: dict[str, dict], example_places: dict[str, str | None] | None = None,
                   annual_views: dict[str, TableProfile] | None = None,
                   chart_filters: dict[str, dict[str, str]] | None = None,
                   other_views: dict[str, Manifest | None] | None = None,
                   origins: dict[str, dict] | None = None) -> dict:
    """The whole metadata document; `present` is every table and view in the database;
    `origins` the `sources` rows by source id (data_origin, capture_date, real_rows)."""
    example_places = example_places or {}
    origins = origins or {}

    def origin_of(prof: TableProfile) -> dict | None:
        return origins.get(prof.manifest.source_id) if prof.manifest else None

    chart_filters = chart_filters or {}
    tables: dict[str, dict] = {}
    for name in sorted(present):
        if name in INTERNAL_TABLES:
            tables[name] = known_metadata(name)
        elif name == "sources":
            tables[name] = dict(SOURCES_META)
    for name, prof in sorted(profiles.items()):
        tables[name] = table_metadata(prof.manifest, prof, database, example_places.get(name),
                                      chart_filters=chart_filters.get(name),
                                      origin=origin_of(prof))
    for name, prof in sorted((annual_views or {}).items()):
        base = name[: -len(ANNUAL_SUFFIX)]
        tables[name] = table_metadata(prof.manifest, prof, database, example_places.get(base),
                                      annual_of=base, chart_filters=chart_filters.get(base),
                                      origin=origin_of(prof))
    for name, m in sorted((other_views or {}).items()):
        tables[name] = view_metadata(name, m)
        if m is not None and is_sample(origins.get(m.source_id)):
            tables[name]["description_html"] = (origin_html(origins[m.source_id]) + "\n"
                                                + tables[name].get("description_html", ""))
    for name, meta in tables.items():
        if is_hidden(name):
            meta["hidden"] = True
    licences = sorted({p.manifest.license for p in profiles.values() if p.manifest})
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "license": "Each table's own: " + ", ".join(licences) if licences else "see each table",
        "source": "Norwegian public agencies (see the sources table)",
        "source_url": f"/{database}/sources",
        "databases": {database: {
            "description": "One table per source (named after its manifest), the dimension "
                           "tables dim_place and dim_period, the sources catalogue, and the run "
                           "ledger (_runs, _fetches, quarantine).",
            "tables": tables,
            "queries": queries,
        }},
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (SQL, HTML) as readable literal blocks."""


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_metadata(metadata: dict) -> str:
    return ("# Generated by `python -m atlas_crawl publish` from atlas_crawl/manifests/ and the "
            "database; do not edit.\n"
            + yaml.dump(metadata, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                        width=100))


def write_metadata(path: str | Path, metadata: dict) -> Path:
    path = Path(path)
    path.write_text(dump_metadata(metadata), encoding="utf-8")
    return path
