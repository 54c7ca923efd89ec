"""Series on today's borders on a population-sized table, against a plain GROUP BY of the same
rows in the same run.

    .venv/bin/python benchmarks/today_series.py              # 106 ages: ~1.8 million rows
    .venv/bin/python benchmarks/today_series.py --ages 10    # a quick check

The table is synthetic and shaped like SSB 07459 on each year's codes: every kommune code valid
in each year 2006-2026 (from the bundled snapshot, so the mergers of 2008-2020 and the 2020 and
2024 splits are all in it) x 2 sexes x N ages x 1 statistic, 0.5 % of the cells suppressed.

- **today**: `create_today_views` (the parts table, the sums, splits and reasons, fylker from
  their kommuner, written to `_today_<table>`), as publish runs it;
- **baseline**: `CREATE TABLE ... AS SELECT <place>_current, ..., sum(value) GROUP BY ...`: the
  cheapest sum onto today's codes (wrong for splits and suppressed parts, but a floor).

Printed: seconds of both (median of --repeat rounds, each in a fresh database copy), their ratio,
and the time of one kommune's series read through `<table>_today` against the same read from the
table itself (median of 200 reads each), as a ratio too.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from atlas_crawl.geo import resolve
from atlas_crawl.geo.reference import reference
from atlas_crawl.manifests import parse_manifest
from atlas_crawl.publish.profile import profile_table
from atlas_crawl.publish.today import create_today_views, series_today

YEARS = range(2006, 2027)
MANIFEST = {
    "source_id": "ssb_99902", "upstream_id": "99902", "upstream_url": "https://example.test",
    "upstream_title": "synthetic population", "description": "benchmark table",
    "publisher": "benchmark", "license": "CC BY 4.0", "license_url": "https://example.test",
    "periodicity": "P1Y", "eu_theme": "SOCI", "attribution": "benchmark",
    "tags": {"provider": "ssb", "topic": "demographics", "geo": "kommune", "cadence": "annual"},
    "dimensions": [{"code": "Region", "meaning": "Region"}], "presentation_policy": "standard",
    "methodology_version": "1", "places": [{"column": "region", "on": "tid"}],
    "measure_column": "contentscode", "measures": {"Personer1": {"additive": True}},
}


def build(path: Path, ages: int) -> int:
    ref = reference()
    rng = random.Random(7)
    conn = sqlite3.connect(path)
    conn.execute("""CREATE TABLE ssb_99902 (region TEXT, kjonn TEXT, alder TEXT,
        contentscode TEXT, tid TEXT, value REAL, status TEXT, region_canonical TEXT,
        region_current TEXT, region_level TEXT, region_geo_status TEXT,
        PRIMARY KEY (region, kjonn, alder, contentscode, tid))""")
    n = 0
    for year in YEARS:
        day = f"{year}-01-01"
        codes = sorted({node.code for nodes in ref.by_code["kommune"].values() for node in nodes
                        if node.alive(day)})
        rows = []
        for code in codes:
            p = resolve(code, year)
            for sex in ("1", "2"):
                for age in range(ages):
                    hidden = rng.random() < 0.005
                    rows.append((code, sex, f"{age:03d}", "Personer1", str(year),
                                 None if hidden else float(rng.randint(0, 900)),
                                 ":" if hidden else None, p.code, p.current, p.level, p.status))
        conn.executemany("INSERT INTO ssb_99902 VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        n += len(rows)
    conn.execute("CREATE INDEX idx_canonical ON ssb_99902 (region_canonical)")
    conn.execute("CREATE INDEX idx_current ON ssb_99902 (region_current)")
    conn.commit()
    conn.close()
    return n


def today_round(path: Path) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    prof = profile_table(conn, "ssb_99902", parse_manifest(Path("ssb_99902.yml"), MANIFEST))
    start = time.perf_counter()
    made = create_today_views(conn, [prof])
    took = time.perf_counter() - start
    assert made == ["ssb_99902_today"], made
    conn.close()
    return took


def baseline_round(path: Path) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    start = time.perf_counter()
    conn.execute("""CREATE TABLE baseline AS SELECT region_current, tid, kjonn, alder,
        contentscode, sum(value) AS value FROM ssb_99902 WHERE region_level = 'kommune'
        GROUP BY region_current, tid, kjonn, alder, contentscode""")
    conn.execute("CREATE INDEX baseline_by_code ON baseline (region_current)")
    took = time.perf_counter() - start
    conn.close()
    return took


def reads(path: Path, n: int = 200) -> tuple[float, float]:
    conn = sqlite3.connect(path)
    codes = [r[0] for r in conn.execute("SELECT DISTINCT code FROM ssb_99902_today "
                                        "WHERE level = 'kommune' ORDER BY code")]
    rng = random.Random(3)
    picked = [rng.choice(codes) for _ in range(n)]
    start = time.perf_counter()
    for code in picked:
        series_today(conn, "ssb_99902", code, kjonn="1", alder="042")
    view = (time.perf_counter() - start) / n
    start = time.perf_counter()
    for code in picked:
        conn.execute("SELECT * FROM ssb_99902 WHERE region_current = ? AND kjonn = '1' "
                     "AND alder = '042' ORDER BY tid", (code,)).fetchall()
    table = (time.perf_counter() - start) / n
    conn.close()
    return view, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ages", type=int, default=106)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source.db"
        rows = build(source, args.ages)
        print(f"table: {rows:,} rows ({len(YEARS)} years, {args.ages} ages)")
        today, base = [], []
        for i in range(args.repeat):
            for name, fn, out in (("today", today_round, today), ("baseline", baseline_round,
                                                                  base)):
                copy = Path(tmp) / f"{name}{i}.db"
                shutil.copy(source, copy)
                out.append(fn(copy))
        t, b = statistics.median(today), statistics.median(base)
        print(f"today series at publish: {t:.1f} s; plain GROUP BY: {b:.1f} s; "
              f"ratio {t / b:.2f}")
        view, table = reads(Path(tmp) / "today0.db")
        print(f"one kommune's series: via view {view * 1000:.2f} ms, from the table "
              f"{table * 1000:.2f} ms; ratio {view / table:.2f}")


if __name__ == "__main__":
    main()
