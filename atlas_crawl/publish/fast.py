"""What keeps the catalogue fast on tables of millions of rows, written at publish time.

- Row counts of every table and view, in Datasette's inspect format (`<db>.inspect.json` next to
  the database): `serve` passes it with `--inspect-file`, so an unfiltered table page does not
  count millions of rows on every view.
- `_facet_counts`: the default facets of every large table, counted once, for the whole table
  and under each value of each facet column. The plugin in
  `site/plugins/precomputed_facets.py` answers an unfiltered table page, or one filtered by
  a click on a facet value, from it; other filtered pages facet as usual (fewer rows, bounded
  by `facet_time_limit_ms`).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from atlas_crawl.publish.profile import LARGE_TABLE_ROWS, TableProfile, quote
from atlas_crawl.store.lock import transaction

FACET_COUNTS = "_facet_counts"


def inspect_path(db_path: str | Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.inspect.json")


def write_inspect_file(conn: sqlite3.Connection, db_path: str | Path) -> Path:
    """Row counts in `datasette inspect`'s format (no hash: serve does not use hashed URLs)."""
    db_path = Path(db_path)
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    counts = {name: {"count": conn.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]}
              for name in names}
    path = inspect_path(db_path)
    data = {db_path.stem: {"hash": None, "size": db_path.stat().st_size,
                           "file": db_path.name, "tables": counts}}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def build_facet_counts(conn: sqlite3.Connection, profiles: dict[str, TableProfile]) -> int:
    """Count the default facets of every table of LARGE_TABLE_ROWS rows or more: unfiltered
    (`filter_column` ''), and under each value of each other facet column (a click on a facet
    value); returns how many GROUP BYs were run."""
    conn.execute(f"DROP TABLE IF EXISTS {FACET_COUNTS}")
    conn.execute(f"CREATE TABLE {FACET_COUNTS} (table_name TEXT NOT NULL, "
                 "filter_column TEXT NOT NULL, filter_value TEXT NOT NULL, "
                 "column_name TEXT NOT NULL, value, count INTEGER NOT NULL, "
                 "PRIMARY KEY (table_name, filter_column, filter_value, column_name, value)"
                 ") WITHOUT ROWID")
    counted = 0
    with transaction(conn):
        for name, prof in sorted(profiles.items()):
            if prof.rows < LARGE_TABLE_ROWS or not prof.facets:
                continue
            # One scan of the table: its rows counted by every combination of the facet
            # columns; each count below adds up combinations instead of reading the table again.
            columns = ", ".join(map(quote, prof.facets))
            conn.execute(f"DROP TABLE IF EXISTS temp.{CUBE}")
            conn.execute(f"CREATE TEMP TABLE {CUBE} AS SELECT {columns}, count(*) AS {CUBE_N} "
                         f"FROM {quote(name)} GROUP BY {columns}")
            for column in prof.facets:
                c = quote(column)
                conn.execute(f"INSERT INTO {FACET_COUNTS} SELECT ?, '', '', ?, {c}, "
                             f"sum({CUBE_N}) FROM temp.{CUBE} WHERE {c} IS NOT NULL GROUP BY {c}",
                             (name, column))
                counted += 1
                for other in prof.facets:
                    f = quote(other)
                    # Text as Datasette's querystring gives it (`?tid=2020`).
                    conn.execute(
                        f"INSERT INTO {FACET_COUNTS} SELECT ?, ?, CAST({f} AS TEXT), ?, {c}, "
                        f"sum({CUBE_N}) FROM temp.{CUBE} WHERE {f} IS NOT NULL AND {c} IS NOT "
                        f"NULL GROUP BY {f}, {c}", (name, other, column))
                    counted += 1
            conn.execute(f"DROP TABLE temp.{CUBE}")
    return counted


CUBE = "_atlas_facet_cube"
CUBE_N = "_atlas_rows"
