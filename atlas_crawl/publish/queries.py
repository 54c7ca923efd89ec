"""Canned queries from queries.yml, written against the tables that exist at publish time.

Every part answers in the same columns, so a picture reads as one list:
source, source_title, kommune, kommune_current, place_name, place_level, period, year, indicator,
value, unit, status, note. A listed table that is missing becomes one row whose `note` says so.
"""

from __future__ import annotations

from pathlib import Path

from atlas_crawl.manifests import read_yaml
from atlas_crawl.publish.dims import DIM_PERIOD, DIM_PLACE
from atlas_crawl.publish.profile import TableProfile, quote

QUERIES_FILE = Path(__file__).with_name("queries.yml")
# Runs of constructed fixtures or of unknown origin (`_runs.data_origin`): their rows are left
# out of every canned answer unless :samples asks for them (the table pages show them, marked
# as samples).
SAMPLE_RUNS = ("SELECT rowid FROM _runs "
               "WHERE coalesce(data_origin, 'unknown') NOT IN ('live', 'capture')")
COLUMNS = ("source", "source_title", "kommune", "kommune_current", "place_name", "place_level",
           "period", "year", "indicator", "value", "unit", "status", "note")


def load_specs(path: Path = QUERIES_FILE) -> dict[str, dict]:
    specs = read_yaml(path.read_text(encoding="utf-8")) or {}
    for name, spec in specs.items():
        if not isinstance(spec, dict) or not spec.get("title") or not spec.get("sources"):
            raise ValueError(f"{path}: query {name!r} needs a title and sources")
        for i, part in enumerate(spec["sources"]):
            if not isinstance(part, dict) or not part.get("table"):
                raise ValueError(f"{path}: query {name!r}: sources[{i}] needs a 'table'")
    return specs


def literal(text: str | None) -> str:
    return "NULL" if text is None else "'" + str(text).replace("'", "''") + "'"


def _col(column: str | None) -> str:
    return f"t.{quote(column)}" if column else "NULL"


def indicator_expr(prof: TableProfile) -> str:
    if not prof.indicators:
        return "NULL"
    parts = []
    for c in prof.indicators:
        table, key, label = prof.lookups.get(c, (None, None, None))
        if label:  # a code described in another table of the source: show its label
            parts.append(f"coalesce((SELECT {quote(label)} FROM {quote(table)} "
                         f"WHERE {quote(key)} = t.{quote(c)}), t.{quote(c)}, '')")
        else:
            parts.append(f"coalesce(t.{quote(c)}, '')")
    return " || ' · ' || ".join(parts)


def part_sql(prof: TableProfile, patterns: list[str] | None, *, annual_of: str | None = None,
             has_period_dim: bool = True) -> str | None:
    """One SELECT of the union, or None if the table cannot be asked about a kommune."""
    place = prof.place
    if place is None:
        return None
    title = prof.manifest.upstream_title if prof.manifest else prof.table
    join = ""
    if prof.period and prof.period_is_text and has_period_dim:
        join = f" LEFT JOIN {DIM_PERIOD} p ON p.period = t.{quote(prof.period)}"
        year = "p.year"
    elif prof.period and not prof.period_is_text:
        year = f"t.{quote(prof.period)}"
    elif prof.period:
        year = f"CAST(substr(t.{quote(prof.period)}, 1, 4) AS INTEGER)"
    else:
        year = "NULL"
    code, current, seek = _col(place.code), _col(place.current), _col(place.seek)
    # Each term can use the key or an index on its column (publish makes them), so on a table
    # of millions of rows SQLite reads one kommune's rows instead of scanning.
    match = [*(f"{c} = :kommune" for c in (seek, current) if c != "NULL"),
             (f"{seek} IN (SELECT code FROM {DIM_PLACE} WHERE lower(name) = lower(:kommune) "
              "AND level IN ('kommune', 'bydel'))")]
    if place.raw != place.code and not place.raw_holds_codes:
        # a name also names the fylke of the same name (Oslo): keep kommune rows, by the resolved
        # level or, while the name is unresolved, by the source's own `level` column
        levels = [_col(c) for c in (place.level_column, "level") if c and c in prof.columns]
        level = f"coalesce({', '.join([*levels, repr('kommune')])})"
        match.append(f"(lower(trim(t.{quote(place.raw)})) = lower(trim(:kommune)) "
                     f"AND {level} = 'kommune')")
    where = [f"({' OR '.join(match)})", f"(:year = '' OR {year} = CAST(:year AS INTEGER))"]
    if "_run" in prof.columns:  # no row of a constructed fixture (invented values) unless asked
        where.append(f"(:samples != '' OR t._run NOT IN ({SAMPLE_RUNS}))")
    indicator = indicator_expr(prof)
    if patterns and indicator != "NULL":
        where.append("(" + " OR ".join(f"lower({indicator}) LIKE {literal(p.lower())}"
                                       for p in patterns) + ")")
    if annual_of:
        note = ("'annual mean of ' || t.\"months\" || ' month(s); ' || t.\"last_month\" || ': ' "
                "|| coalesce(t.\"value_last_month\", t.\"status_last_month\", '')")
    else:
        note = "NULL"
    select = {
        "source": literal(annual_of or prof.table),
        "source_title": literal(title),
        "kommune": code,
        "kommune_current": current,
        "place_name": f"coalesce((SELECT name FROM {DIM_PLACE} WHERE code = {code}), "
                      f"t.{quote(place.raw)})",
        "place_level": _col(place.level_column),
        "period": _col(prof.period),
        "year": year,
        "indicator": indicator,
        "value": _col(prof.value),
        "unit": _col(prof.unit) if prof.unit or not prof.unit_lookup else (
            f"(SELECT unit FROM {quote(prof.unit_lookup[0])} WHERE "
            f"{quote(prof.unit_lookup[1])} = t.{quote(prof.unit_lookup[2])})"),
        "status": _col(prof.status),
        "note": note,
    }
    columns = ",\n       ".join(f"{expr} AS {name}" for name, expr in select.items())
    if not join:
        return (f"SELECT {columns}\nFROM {quote(prof.table)} t{join}\n"
                f"WHERE {' AND '.join(where)}")
    # Two disjoint SELECTs. With a year: its periods first (CROSS JOIN keeps dim_period the
    # outer loop), then the kommune's rows of each: by today's code one seek in the index on
    # the period and today's code; by the code valid then through its key or index, whose
    # entries hold the period, so only that period's rows are read ('+': not through the
    # period's index, which would read every kommune's rows of the period). Without a year:
    # every row of the kommune.
    matches, *rest = where[0], *where[2:]
    every_year = " AND ".join([matches, ":year = ''", *rest])
    period = f"t.{quote(prof.period)}"
    if current != "NULL":
        matches = matches.replace(f"{current} = :kommune",
                                  f"({current} = :kommune AND {period} = p.period)", 1)
    one_year = " AND ".join([f"+{period} = p.period", "p.year = CAST(:year AS INTEGER)",
                             matches, *rest])
    return (f"SELECT {columns}\nFROM {quote(prof.table)} t{join}\nWHERE {every_year}\n"
            f"UNION ALL\n"
            f"SELECT {columns}\nFROM {DIM_PERIOD} p CROSS JOIN {quote(prof.table)} t\n"
            f"WHERE {one_year}")


def missing_sql(table: str, why: str) -> str:
    values = {name: "NULL" for name in COLUMNS}
    values["source"] = literal(table)
    values["note"] = literal(why)
    columns = ", ".join(f"{expr} AS {name}" for name, expr in values.items())
    return f"SELECT {columns}\nWHERE :kommune IS NOT NULL AND :year IS NOT NULL"


def canned_queries(profiles: dict[str, TableProfile], specs: dict[str, dict] | None = None,
                   has_period_dim: bool = True) -> dict[str, dict]:
    """Datasette `queries:` entries; `profiles` holds tables and annual views by name."""
    specs = load_specs() if specs is None else specs
    out = {}
    for name, spec in specs.items():
        parts, present, missing = [], [], []
        for part in spec["sources"]:
            table = part["table"]
            annual = profiles.get(table + "_annual")
            prof = annual or profiles.get(table)
            if prof is None:
                missing.append(table)
                parts.append(missing_sql(table, f"Not in this database: {table} has not been "
                                                f"crawled yet (scrapy crawl {table})."))
                continue
            sql = part_sql(prof, part.get("indicators"), annual_of=table if annual else None,
                           has_period_dim=has_period_dim)
            if sql is None:
                missing.append(table)
                parts.append(missing_sql(table, f"{table} has no place column the catalogue "
                                                "can match a kommune against."))
            else:
                present.append(table)
                parts.append(sql)
        sql = ("-- generated by `python -m atlas_crawl publish` from atlas_crawl/publish/queries.yml\n"
               + "\nUNION ALL\n".join(parts)
               + "\nORDER BY source, indicator, year, period")
        description = spec.get("description", "").strip()
        if missing:
            description += (" Not available in this database: " + ", ".join(missing)
                            + " (each shows one row saying so).")
        out[name] = {
            "title": spec["title"],
            "description": description,
            "sql": sql,
            "params": ["kommune", "year", "samples"],
            "hide_sql": True,  # results first; "Show SQL" unfolds it
        }
    return out
