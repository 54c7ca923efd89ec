"""Reading every row of a workbook's sheets: the project's reader (`sheet_rows`, lxml) against
openpyxl's own read-only `iter_rows(values_only=True)` on the same workbook, in the same run.

    .venv/bin/python benchmarks/xlsx_rows.py                  # NAV's 2011-2024 series, 5 rounds
    .venv/bin/python benchmarks/xlsx_rows.py --repeat 3 FILE.xlsx ...

Each round reads the workbook once with each reader, each in a fresh process (in turn, the
order swapped every round), from bytes already in memory: opening the workbook is outside the
clock, reading every row of every sheet into lists of tuples is inside it. The clock is the
process's CPU time (other jobs on the cores move wall time more than CPU time); wall time is
printed beside it. Before timing, the two readers' rows are compared (values and types) once.

Printed per workbook: the median seconds of both, their ratio (openpyxl / project; the target
is >= 2) and the load average when the rounds began and ended.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

NAV = (PROJECT_DIR / "golden" / "nav_workbook_nedsatt_2011_2024" / "responses"
       / "Tidsserie nedsatt arbeidsevne TFK - 2011-2024.xlsx")
TARGET = 2.0


def read(path: Path, reader: str) -> list[list[tuple]]:
    from atlas_crawl.formats.excel import open_workbook, sheet_rows

    wb = open_workbook(path.read_bytes())
    try:
        if reader == "openpyxl":
            return [[tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets]
        return [sheet_rows(ws) for ws in wb.worksheets]
    finally:
        wb.close()


def one(path: Path, reader: str) -> dict:
    """One timed read in this process."""
    from atlas_crawl.formats.excel import open_workbook, sheet_rows

    data = path.read_bytes()
    wb = open_workbook(data)
    cpu, wall = time.process_time(), time.perf_counter()
    if reader == "openpyxl":
        cells = sum(len(r) for ws in wb.worksheets for r in ws.iter_rows(values_only=True))
    else:
        cells = sum(len(r) for ws in wb.worksheets for r in sheet_rows(ws))
    out = {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, "cells": cells}
    wb.close()
    return out


def in_fresh_process(path: Path, reader: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--one", reader, str(path)], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout)


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=[NAV])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--one", choices=["openpyxl", "project"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.one:
        print(json.dumps(one(args.files[0], args.one)))
        return
    for path in args.files:
        typed = [[[(type(v), v) for v in r] for r in rows] for rows in read(path, "openpyxl")]
        ours = [[[(type(v), v) for v in r] for r in rows] for rows in read(path, "project")]
        if typed != ours:
            sys.exit(f"{path.name}: the two readers disagree; not timed")
        before = load()
        times: dict[str, list[dict]] = {"openpyxl": [], "project": []}
        for n in range(args.repeat):
            order = ["openpyxl", "project"] if n % 2 == 0 else ["project", "openpyxl"]
            for reader in order:
                times[reader].append(in_fresh_process(path, reader))
        after = load()
        med = {r: {k: statistics.median(t[k] for t in ts) for k in ("cpu", "wall")}
               for r, ts in times.items()}
        ratio = med["openpyxl"]["cpu"] / med["project"]["cpu"]
        rounds = " / ".join(f"{o['cpu'] / p['cpu']:.2f}"
                            for o, p in zip(times["openpyxl"], times["project"]))
        print(f"{path.name}: {times['project'][0]['cells']:,} cells, {args.repeat} rounds; "
              f"load {before} -> {after}")
        for reader in ("openpyxl", "project"):
            print(f"  {reader:9s} cpu {med[reader]['cpu']:.3f} s   wall {med[reader]['wall']:.3f} s")
        print(f"  ratio {ratio:.2f} (rounds {rounds}); target >= {TARGET}: "
              f"{'met' if ratio >= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
