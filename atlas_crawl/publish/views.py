"""Annual views of monthly tables, so annual questions work without special handling.

A monthly table `<t>` (period grain P1M, e.g. NAV's workbooks) keeps its months and gains the view
`<t>_annual`: one row per year and everything else the month rows are keyed by, with

- `months` (month rows in that year) and `months_with_value`;
- `value_mean`, the mean over the months, only when every month of the year that is present has
  a value (a suppressed month makes the mean NULL: nothing is re-derived around a suppression);
- `last_month`, `value_last_month` and `status_last_month`: the latest month of the year, as
  published (December for a complete year);
- `statuses`: the distinct status symbols of the year's months.
"""

from __future__ import annotations

import sqlite3

from atlas_crawl.publish.profile import BOOKKEEPING, TableProfile, quote

ANNUAL_SUFFIX = "_annual"
SKIP = {"updated", "fetched_at", "decimals"}


def annual_view_name(table: str) -> str:
    return table + ANNUAL_SUFFIX


def annual_group_columns(prof: TableProfile) -> list[str]:
    drop = {prof.period, prof.value, prof.status, *BOOKKEEPING, *SKIP}
    return [c for c in prof.columns if c not in drop and not c.startswith("_")]


def annual_view_sql(prof: TableProfile) -> str:
    assert prof.period and prof.value
    group = annual_group_columns(prof)
    g = ", ".join(quote(c) for c in group)
    period, value = quote(prof.period), quote(prof.value)
    status = quote(prof.status) if prof.status else "NULL"
    partition = ", ".join([*(quote(c) for c in group), "year"])
    return f"""CREATE VIEW {quote(annual_view_name(prof.table))} AS
WITH months AS (
  SELECT *, row_number() OVER (PARTITION BY {partition} ORDER BY {period} DESC) AS newest
  FROM (SELECT {g}{', ' if g else ''}{period}, {value}, {status} AS status,
               CAST(substr({period}, 1, 4) AS INTEGER) AS year
        FROM {quote(prof.table)})
)
SELECT {g}{', ' if g else ''}year,
  count(*) AS months,
  count({value}) AS months_with_value,
  CASE WHEN count({value}) = count(*) THEN avg({value}) END AS value_mean,
  max(CASE WHEN newest = 1 THEN {period} END) AS last_month,
  max(CASE WHEN newest = 1 THEN {value} END) AS value_last_month,
  max(CASE WHEN newest = 1 THEN status END) AS status_last_month,
  group_concat(DISTINCT status) AS statuses
FROM months
GROUP BY {partition}"""


def create_annual_views(conn: sqlite3.Connection, profiles: list[TableProfile]) -> list[str]:
    made = []
    for prof in profiles:
        name = annual_view_name(prof.table)
        conn.execute(f"DROP VIEW IF EXISTS {quote(name)}")
        if prof.period_grain == "P1M" and prof.value and prof.manifest is not None:
            conn.execute(annual_view_sql(prof))
            made.append(name)
    return made


def annual_profile(prof: TableProfile) -> TableProfile:
    """The view's roles, for the canned queries and its metadata."""
    group = annual_group_columns(prof)
    columns = {c: prof.columns[c] for c in group}
    columns.update({"year": "INTEGER", "months": "INTEGER", "months_with_value": "INTEGER",
                    "value_mean": "REAL", "last_month": "TEXT", "value_last_month": "REAL",
                    "status_last_month": "TEXT", "statuses": "TEXT"})
    return TableProfile(
        table=annual_view_name(prof.table), manifest=prof.manifest, columns=columns, pk=[],
        rows=0, places=prof.places, period="year", period_grain="P1Y", period_is_text=False,
        value="value_mean", unit=prof.unit, status="statuses",
        indicators=[c for c in prof.indicators if c in columns], lookups=dict(prof.lookups),
        facets=[c for c in ["year", *prof.facets] if c in columns and c != prof.status][:5])
