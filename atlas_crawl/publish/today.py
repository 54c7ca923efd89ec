"""Series on today's borders: a view `<table>_today` for every table with kommune or fylke rows.

Each row of the view is today's kommune or fylke (`level`, `code`, `name`), the period and the
measure's dimensions as the table has them, the `value` on today's borders, and how it was made:

- `as published`: one place of that year covers today's place (unchanged, renamed, renumbered);
- `as published on today's borders`: the source itself published the year on today's code
  (SSB's tables with the newest kommune list); preferred over anything computed here;
- `sum of former kommuner`: an additive measure summed over the kommuner that merged, every part
  published with a value (`parts` lists them: `1001+1017+1018`);
- `recomputed from parts`: a rate (`ratio_of` in the manifest) from its summed numerator and
  denominator;
- `computed`: a fylke from today's kommuner (Østfold, Akershus, Buskerud across the Viken years);
- `not comparable`, with `reason`: a split (`split in 2024: Ålesund → Ålesund and Haram`), a part
  suppressed or not published, a measure that does not add up, or a year before the change
  history is complete.

A value is never invented: there is no value unless every part has one. The parts each year is
made of come from `atlas_crawl.geo.harmonise` and are written to `_today_parts` at publish; the
table is joined to them and the series is written to `_today_<table>` (a view computing it per
question took minutes on a population table; `benchmarks/today_series.py` measures the
materialisation against a plain GROUP BY), which the view `<table>_today` shows. Where a table
has a fylke row covering today's fylke, it is used; otherwise the fylke is computed from today's
kommuner. :func:`series_today` is what the kommune report calls.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date

from atlas_crawl.geo import harmonise
from atlas_crawl.publish.profile import BOOKKEEPING, TableProfile, quote
from atlas_crawl.publish.queries import SAMPLE_RUNS

TODAY_SUFFIX = "_today"
PARTS_TABLE = "_today_parts"
FIRST_YEAR = 1970
SKIP = {"updated", "fetched_at", "decimals", "unit", "enhet", "level", "nivaa", "aggregate"}

# columns of every view; a table's own column of the same name is not carried over
RESERVED = {"level", "code", "name", "value", "how", "parts", "reason", "year", "measure",
            "period"}

AS_PUBLISHED = "as published"
ON_TODAYS_BORDERS = "as published on today's borders"
SUM = "sum of former kommuner"
RECOMPUTED = "recomputed from parts"
COMPUTED = "computed"
NOT_COMPARABLE = "not comparable"


def today_view_name(table: str) -> str:
    return table + TODAY_SUFFIX


# -- the parts table ------------------------------------------------------------------------------

def parts_rows(years: range) -> list[tuple]:
    """(level, year, today_code, today_name, variant, method, n_parts, parts, part_code, reason):
    `history` rows from the change history, `source` rows for a today's code the source may use
    for a year before it existed, `computed` rows for fylker made from today's kommuner."""
    rows = []
    kommuner_of = {f.code: harmonise.kommuner_of_fylke(f.code) for f in harmonise.today_fylker()}
    for year in years:
        for c in harmonise.kommune_compositions(year):
            for part in c.parts:
                rows.append(("kommune", year, c.today, c.today_name, "history", c.method,
                             len(c.parts), c.parts_text, part, c.reason))
            if harmonise.source_on_today_codes(c.today, year):
                rows.append(("kommune", year, c.today, c.today_name, "source", ON_TODAYS_BORDERS,
                             1, c.today, c.today, None))
        for c in harmonise.fylke_compositions(year):
            if c.method == harmonise.AS_PUBLISHED:
                rows.extend(("fylke", year, c.today, c.today_name, "history", c.method, 1,
                             c.parts_text, part, None) for part in c.parts)
            # every fylke can also be computed from today's kommuner: used where the source
            # publishes no fylke row that covers it
            kommuner = kommuner_of[c.today]
            rows.extend(("fylke", year, c.today, c.today_name, "computed", harmonise.COMPUTED,
                         len(kommuner), "+".join(kommuner), part, None) for part in kommuner)
            if harmonise.source_on_today_codes(c.today, year, "fylke"):
                rows.append(("fylke", year, c.today, c.today_name, "source", ON_TODAYS_BORDERS,
                             1, c.today, c.today, None))
    return rows


def build_parts_table(conn: sqlite3.Connection, years: range | None = None) -> int:
    """(Re)write `_today_parts`; returns its row count."""
    years = years or range(FIRST_YEAR, date.today().year + 2)
    rows = parts_rows(years)
    in_transaction = conn.in_transaction
    if not in_transaction:  # publish's connection commits every statement: one for all rows
        conn.execute("BEGIN")
    conn.execute(f"DROP TABLE IF EXISTS {PARTS_TABLE}")
    conn.execute(f"""CREATE TABLE {PARTS_TABLE} (level TEXT NOT NULL, year INTEGER NOT NULL,
        today_code TEXT NOT NULL, today_name TEXT NOT NULL, variant TEXT NOT NULL,
        method TEXT NOT NULL, n_parts INTEGER NOT NULL, parts TEXT NOT NULL,
        part_code TEXT NOT NULL, reason TEXT)""")
    conn.executemany(f"INSERT INTO {PARTS_TABLE} VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    conn.execute(f"CREATE INDEX {PARTS_TABLE}_by_part ON {PARTS_TABLE} "
                 "(level, part_code, year, variant)")
    conn.execute(f"CREATE INDEX {PARTS_TABLE}_by_today ON {PARTS_TABLE} "
                 "(level, today_code, year, variant)")
    if not in_transaction:
        conn.execute("COMMIT")
    return len(rows)


# -- what a table's view is made of ----------------------------------------------------------------

@dataclass
class TodaySpec:
    table: str
    code: str  # the place's canonical code column
    level: str  # the place's level column
    period: str
    on: str  # the column whose year placed the code (the manifest's `on`, else the period)
    value: str
    status: str | None
    dims: list[str]
    measure_column: str | None  # long tables
    wide: list[str] = field(default_factory=list)  # wide tables: one column per measure
    additive: list[str] = field(default_factory=list)
    not_additive: list[str] = field(default_factory=list)
    ratios: dict[str, tuple[str, str, float]] = field(default_factory=dict)
    # rows of constructed runs (or of unknown origin) never reach the series
    skip_runs: str | None = None


def today_spec(conn: sqlite3.Connection, prof: TableProfile) -> TodaySpec | None:
    """What the view of this table needs, or None when the table has no kommune or fylke rows
    (or no period or value to make a series of)."""
    place = next((p for p in prof.places if p.level_column and p.code.endswith("_canonical")),
                 None)
    if place is None or not prof.period or not prof.value or prof.manifest is None:
        return None
    if conn.execute(f"SELECT 1 FROM {quote(prof.table)} WHERE {quote(place.level_column)} "
                    "IN ('kommune', 'fylke') LIMIT 1").fetchone() is None:
        return None
    manifest = prof.manifest
    declared = next((p for p in manifest.places if p.column == place.raw), None)
    on = declared.on if declared and declared.on in prof.columns else prof.period
    additivity = manifest.additivity
    measure_column = manifest.measure_column if manifest.measure_column in prof.columns else None
    wide = [] if measure_column else [m for m in additivity if m in prof.columns]
    taken = prof.place_columns() | {prof.period, on, prof.value, prof.status, prof.unit,
                                    measure_column, *wide, *BOOKKEEPING, *SKIP}
    keys = prof.pk or [c for c in prof.columns if not c.startswith("_")]
    dims = [c for c in keys if c not in taken and not c.startswith("_") and c not in RESERVED
            and not c.endswith(("_label", "_name", "_navn"))
            and not any(_same_as_place(conn, prof.table, c, p.raw) for p in prof.places)]
    measures = wide if wide else list(additivity)
    runs = [r[1] for r in conn.execute("PRAGMA table_info(_runs)")]
    skip_runs = SAMPLE_RUNS if "_run" in prof.columns and "data_origin" in runs else None
    return TodaySpec(
        table=prof.table, code=place.code, level=place.level_column, period=prof.period, on=on,
        value=prof.value, status=prof.status, dims=dims, measure_column=measure_column,
        wide=wide if not measure_column else [],
        additive=[m for m in measures if additivity[m].additive is True],
        not_additive=[m for m in measures if additivity[m].additive is False],
        ratios={m: (a.ratio_of[0], a.ratio_of[1], a.per) for m, a in additivity.items()
                if a.ratio_of and m in measures},
        skip_runs=skip_runs)


def _same_as_place(conn: sqlite3.Connection, table: str, column: str, place: str) -> bool:
    """A column that follows the place (its name beside the code, a fylke heading) is not a
    dimension: it differs between the parts of a sum."""
    if column == place:
        return True
    n_col, n_pair = conn.execute(
        f"SELECT count(DISTINCT {quote(column)}), count(DISTINCT coalesce({quote(place)}, '') "
        f"|| char(31) || coalesce({quote(column)}, '')) FROM {quote(table)}").fetchone()
    n_place = conn.execute(f"SELECT count(DISTINCT {quote(place)}) FROM {quote(table)}"
                           ).fetchone()[0]
    return n_col > 1 and n_pair == n_place


# -- the view -------------------------------------------------------------------------------------

def _text_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "NULL"


def measure_name(spec: TodaySpec) -> str:
    """The view's measure column: the table's (`contentscode`) or `measure` for a wide table."""
    return spec.measure_column or "measure"


def materialised_name(table: str) -> str:
    return f"_today_{table}"


def today_statements(spec: TodaySpec, target: str) -> list[str]:
    """The statements that write a table's series on today's borders into ``target``, in
    steps over indexed temporary tables (one query with the same CTEs takes minutes on a
    population table: SQLite does not index a CTE for the rate's self-join)."""
    t = quote(spec.table)
    dims = [quote(d) for d in spec.dims]
    status = quote(spec.status) if spec.status else "NULL"
    year = f"CAST(substr(CAST({quote(spec.on)} AS TEXT), 1, 4) AS INTEGER)"
    base = (f"SELECT {quote(spec.code)} AS code, {quote(spec.level)} AS lvl, {year} AS year, "
            f"{quote(spec.period)} AS period, " + "".join(f"{d}, " for d in dims))
    where = f"WHERE {quote(spec.level)} IN ('kommune', 'fylke')"
    if spec.skip_runs:
        where += f" AND _run NOT IN ({spec.skip_runs})"
    if spec.wide:
        src = "\n  UNION ALL ".join(
            f"{base}'{m}' AS measure, {quote(m)} AS value, "
            f"CASE WHEN {quote(m)} IS NULL THEN {status} END AS status FROM {t} {where}"
            for m in spec.wide)
    else:
        measure = quote(spec.measure_column) if spec.measure_column else "NULL"
        src = (f"{base}{measure} AS measure, {quote(spec.value)} AS value, {status} AS status "
               f"FROM {t} {where}")

    def cols(alias: str) -> str:
        return "".join(f"{alias}{d}, " for d in dims)

    key = ", ".join([*dims, "measure"])
    additive = f"IN ({_text_list(spec.additive)})" if spec.additive else "AND 0"
    not_additive = f"IN ({_text_list(spec.not_additive)})" if spec.not_additive else "AND 0"
    rank = "CASE variant WHEN 'source' THEN 0 WHEN 'history' THEN 1 ELSE 2 END"
    ratio_cte, ratio_value, ratio_reason, ratio_join = "", "NULL", "NULL", ""
    if spec.ratios:
        values = ", ".join(f"('{m}', '{n}', '{d}', {per!r})"
                           for m, (n, d, per) in spec.ratios.items())
        ratio_cte = f"ratio(measure, num, den, per) AS (VALUES {values}),"

        def match(a: str) -> str:
            return (f"{a}.level = k.level AND {a}.code = k.code AND {a}.variant = k.variant "
                    f"AND {a}.period IS k.period" + "".join(f" AND {a}.{d} IS k.{d}"
                                                            for d in dims))
        ratio_join = (f"\n  LEFT JOIN ratio r ON r.measure = k.measure"
                      f"\n  LEFT JOIN kv n ON n.measure = r.num AND {match('n')}"
                      f"\n  LEFT JOIN kv d ON d.measure = r.den AND {match('d')}")
        ratio_value = ("CASE WHEN r.measure IS NOT NULL AND k.n_parts > 1 "
                       "AND n.value IS NOT NULL AND d.value IS NOT NULL AND d.value <> 0 "
                       "THEN n.value * r.per / d.value END")
        ratio_reason = ("CASE WHEN r.measure IS NOT NULL AND k.n_parts > 1 THEN "
                        "coalesce(n.reason, d.reason, CASE WHEN n.code IS NULL OR d.code IS NULL "
                        "THEN 'numerator or denominator not published' END) END")
    nc = harmonise.NOT_COMPARABLE
    match_key = ", ".join(["measure", "level", "code", "variant", "period", *dims])
    # the view keeps the table's own names for the period and the measure column
    out = ", ".join(["level", "code", "name", f"period AS {quote(spec.period)}", *dims,
                     f"measure AS {quote(measure_name(spec))}", "value", "how", "parts", "reason",
                     *([] if spec.period == "year" else ["year"])])
    return [
        "DROP TABLE IF EXISTS temp._today_kv",
        "DROP TABLE IF EXISTS temp._today_kr",
        f"""CREATE TEMP TABLE _today_kv AS WITH
src AS (
  {src}
),
grouped AS (
  SELECT g.level, g.today_code AS code, g.today_name AS name, g.year, g.variant, g.method,
         g.n_parts, g.parts, g.reason AS why, s.period, {cols('s.')}s.measure,
         count(*) AS found, count(s.value) AS with_value, sum(s.value) AS total,
         group_concat(CASE WHEN s.value IS NULL
                           THEN s.code || ' ' || coalesce(s.status, 'no value') END, ', ')
           AS suppressed
  FROM src s CROSS JOIN {PARTS_TABLE} g
    ON g.level = s.lvl AND g.part_code = s.code AND g.year = s.year
   AND g.variant IN ('history', 'source')
  GROUP BY g.level, g.today_code, g.variant, s.period, {cols('s.')}s.measure
),
kv AS (
  SELECT level, code, name, year, variant, n_parts, parts, period, {cols('')}measure,
    CASE WHEN method = '{nc}' OR found < n_parts OR with_value < n_parts THEN NULL
         WHEN n_parts = 1 OR measure {additive} THEN total END AS value,
    CASE WHEN method = '{nc}' THEN why
         WHEN found < n_parts
              THEN 'part not published (' || found || ' of ' || n_parts || ': ' || parts || ')'
         WHEN with_value < n_parts THEN 'part suppressed: ' || suppressed
         WHEN n_parts = 1 OR measure {additive} THEN NULL
         WHEN measure {not_additive} THEN 'not additive'
         ELSE 'not declared additive in the manifest' END AS reason,
    CASE WHEN variant = 'source' THEN '{ON_TODAYS_BORDERS.replace("'", "''")}'
         WHEN method = '{nc}' OR found < n_parts OR with_value < n_parts THEN '{NOT_COMPARABLE}'
         WHEN n_parts = 1 THEN '{AS_PUBLISHED}'
         WHEN measure {additive} THEN '{SUM}'
         ELSE '{NOT_COMPARABLE}' END AS how
  FROM grouped
) SELECT * FROM kv""",
        f"CREATE INDEX temp._today_kv_key ON _today_kv ({match_key})",
        f"""CREATE TEMP TABLE _today_kr AS WITH {ratio_cte.rstrip(',')}{'' if not ratio_cte else ','}
kv AS (SELECT * FROM _today_kv),
kr AS (
  SELECT level, code, name, year, variant, n_parts, parts, period, {cols('')}measure,
    coalesce(value, ratio_value) AS value,
    CASE WHEN value IS NULL AND ratio_value IS NOT NULL THEN '{RECOMPUTED}' ELSE how END AS how,
    CASE WHEN value IS NULL AND ratio_value IS NOT NULL THEN NULL
         WHEN ratio_reason IS NOT NULL AND reason = 'not additive'
              THEN 'not additive; from parts: ' || ratio_reason
         ELSE reason END AS reason,
    row_number() OVER (PARTITION BY level, code, period, {key} ORDER BY {rank}) AS pick
  FROM (SELECT k.*, {ratio_value} AS ratio_value, {ratio_reason} AS ratio_reason
        FROM kv k{ratio_join})
) SELECT * FROM kr""",
        "CREATE INDEX temp._today_kr_pick ON _today_kr (level, pick, code, year)",
        f"""CREATE TABLE {quote(target)} AS WITH
kr AS (SELECT * FROM _today_kr),
kbest AS (
  SELECT * FROM kr WHERE level = 'kommune' AND pick = 1
),
fylke AS (
  SELECT g.level, g.today_code AS code, g.today_name AS name, g.year, 'computed' AS variant,
    g.n_parts, g.parts, k.period, {cols('k.')}k.measure,
    CASE WHEN count(*) = g.n_parts AND count(k.value) = g.n_parts AND k.measure {additive}
         THEN sum(k.value) END AS value,
    CASE WHEN count(*) = g.n_parts AND count(k.value) = g.n_parts AND k.measure {additive}
         THEN '{COMPUTED}' ELSE '{NOT_COMPARABLE}' END AS how,
    CASE WHEN NOT coalesce(k.measure {additive}, 0)
              THEN 'not additive: a fylke is not computed from its kommuner'
         WHEN count(*) < g.n_parts
              THEN 'kommune not published (' || count(*) || ' of ' || g.n_parts || ')'
         WHEN count(k.value) < g.n_parts
              THEN 'no value on today''s borders for ' || (g.n_parts - count(k.value)) ||
                   ' of its ' || g.n_parts || ' kommuner' END AS reason
  FROM kbest k JOIN {PARTS_TABLE} g
    ON g.level = 'fylke' AND g.variant = 'computed' AND g.part_code = k.code AND g.year = k.year
  GROUP BY g.today_code, k.period, {cols('k.')}k.measure
),
fylker AS (
  SELECT level, code, name, year, variant, n_parts, parts, period, {cols('')}measure, value, how,
    reason FROM kr WHERE level = 'fylke'
  UNION ALL SELECT * FROM fylke
),
fbest AS (
  SELECT *, row_number() OVER (PARTITION BY code, period, {key} ORDER BY {rank}) AS pick
  FROM fylker
)
SELECT {out} FROM kbest
UNION ALL
SELECT {out} FROM fbest WHERE pick = 1""",
        "DROP TABLE temp._today_kv",
        "DROP TABLE temp._today_kr",
    ]


def create_today_view(conn: sqlite3.Connection, spec: TodaySpec) -> str:
    """Materialise the series in `_today_<table>` (a view computing it per question is too slow
    on a population table) and expose it as the view `<table>_today`."""
    name, stored = today_view_name(spec.table), materialised_name(spec.table)
    conn.execute(f"DROP VIEW IF EXISTS {quote(name)}")
    conn.execute(f"DROP TABLE IF EXISTS {quote(stored)}")
    for statement in today_statements(spec, stored):
        conn.execute(statement)
    conn.execute(f"CREATE INDEX {quote(stored + '_by_code')} ON {quote(stored)} "
                 f"(code, level, {quote(measure_name(spec))}, {quote(spec.period)})")
    conn.execute(f"CREATE VIEW {quote(name)} AS SELECT * FROM {quote(stored)}")
    return name


def create_today_views(conn: sqlite3.Connection, profiles: list[TableProfile]) -> list[str]:
    """Write `_today_parts` and a `<table>_today` view for every table with kommune or fylke
    rows; returns the views made."""
    specs = [s for s in (today_spec(conn, p) for p in profiles) if s is not None]
    for prof in profiles:
        conn.execute(f"DROP VIEW IF EXISTS {quote(today_view_name(prof.table))}")
        conn.execute(f"DROP TABLE IF EXISTS {quote(materialised_name(prof.table))}")
    if not specs:
        return []
    build_parts_table(conn)
    return [create_today_view(conn, spec) for spec in specs]


def series_today(conn: sqlite3.Connection, table: str, code: str, *,
                 measure: str | None = None, **dims: object) -> list[dict]:
    """Today's kommune (or fylke) ``code`` in ``table`` on today's borders, oldest period
    first: one dict per row of `<table>_today`, narrowed by ``measure`` (the value of the
    table's measure column) and any dimension given as column=value."""
    view = today_view_name(table)
    columns = [r[1] for r in conn.execute(f"PRAGMA table_info({quote(view)})")]
    if not columns:
        raise LookupError(f"{table}: no series on today's borders (no view {view}; publish makes "
                          "it for tables with kommune or fylke rows)")
    period, measure_column = columns[3], columns[columns.index("value") - 1]
    where, args = ["code = ?"], [code]
    if measure is not None:
        where.append(f"{quote(measure_column)} = ?")
        args.append(measure)
    for column, value in dims.items():
        if column not in columns:
            raise LookupError(f"{view} has no column {column!r} (it has {', '.join(columns)})")
        where.append(f"{quote(column)} IS ?")
        args.append(value)
    cur = conn.execute(f"SELECT * FROM {quote(view)} WHERE {' AND '.join(where)} "
                       f"ORDER BY {quote(period)}", args)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, row, strict=True)) for row in cur]
    for row in rows:  # the same keys for every table, whatever it calls its period
        row.setdefault("period", row[period])
        row.setdefault("year", int(str(row[period])[:4]))
    return rows
