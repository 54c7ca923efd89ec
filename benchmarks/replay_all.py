"""`python -m atlas_crawl replay-all`: every golden case in one process against one process per case.

The baseline is what replay-all did before: one `python -m scrapy crawl <spider>` per golden case
(the same settings and arguments), in sequence. Both write a new database; the clock covers the
whole command, start-up included, because start-up is what one process saves. At the end both
databases are compared table by table (every row, without run ids and fetch times).

    .venv/bin/python benchmarks/replay_all.py            # one round of each (~3 min)
    .venv/bin/python benchmarks/replay_all.py --repeat 3
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from atlas_crawl.run.golden import golden_cases, table_rows

ENV = {**os.environ, "SCRAPY_SETTINGS_MODULE": "atlas_crawl.settings"}


def one_process_per_case(db: Path) -> int:
    failures = 0
    for case in golden_cases():
        command = [sys.executable, "-m", "scrapy", "crawl", case.spider,
                   "-s", f"ATLAS_DB={db}", "-s", "ATLAS_REPLAY=1",
                   "-s", f"ATLAS_CASSETTE={case.folder}", "-s", "LOG_LEVEL=WARNING"]
        for key, value in case.settings.items():
            command += ["-s", f"{key}={value}"]
        for key, value in case.args.items():
            command += ["-a", f"{key}={value}"]
        result = subprocess.run(command, cwd=PROJECT, env=ENV, capture_output=True, check=False)
        failures += result.returncode != 0
    return failures


def one_process(db: Path) -> int:
    result = subprocess.run([sys.executable, "-m", "atlas_crawl", "replay-all", "--db", str(db)],
                            cwd=PROJECT, env=ENV, capture_output=True, check=False)
    return result.returncode


def tables(db: Path) -> dict[str, list[dict]]:
    """Every table's rows, without what differs from run to run (run ids, fetch times)."""
    conn = sqlite3.connect(db)
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE '\\_%' ESCAPE '\\' "
        "AND name NOT LIKE 'sqlite%'")]
    conn.close()
    return {name: [{k: v for k, v in row.items() if k != "run_id" and not k.endswith("_at")}
                   for row in table_rows(db, name)] for name in sorted(names)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    cases = len(golden_cases())
    times: dict[str, list[float]] = {"one process per case": [], "one process": []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeat):
            for label, run in (("one process per case", one_process_per_case),
                               ("one process", one_process)):
                db = Path(tmp) / f"{label.replace(' ', '_')}_{round_}.db"
                started = time.perf_counter()
                failed = run(db)
                times[label].append(time.perf_counter() - started)
                print(f"round {round_ + 1}: {label}: {times[label][-1]:.1f} s"
                      f"{f', {failed} failed' if failed else ''}", flush=True)
        same = tables(Path(tmp) / "one_process_per_case_0.db") == tables(
            Path(tmp) / "one_process_0.db")
    before = statistics.median(times["one process per case"])
    after = statistics.median(times["one process"])
    print(f"{cases} golden cases")
    print(f"one process per case: {before:.1f} s ({before / cases:.2f} s per case)")
    print(f"one process:          {after:.1f} s ({after / cases:.2f} s per case)")
    print(f"speed-up: {before / after:.1f}x; same rows in both databases: {same}")


if __name__ == "__main__":
    main()
