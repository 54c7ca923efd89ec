"""Catalogue latency benchmark: Datasette pages on a 3.1-million-row table, served by the project.

    .venv/bin/python benchmarks/catalogue_latency.py --workdir /tmp/atlas-latency
    .venv/bin/python benchmarks/catalogue_latency.py --workdir /tmp/atlas-latency --reuse
    .venv/bin/python benchmarks/catalogue_latency.py --quick   # 3 years: do the pages answer?
    .venv/bin/python benchmarks/catalogue_latency.py --scale 4 --workdir /tmp/atlas-latency-4

1. **Build** (skipped with `--reuse` when the database is there): the synthetic 3,103,044-cell
   JSON-stat2 table of `benchmarks/ingest_jsonstat.py`, numbered 07459 (it has 07459's shape), is
   crawled with the real pipeline: `scrapy crawl ssb_07459 -a file=<json>` into `atlas.db`.
2. **Publish**: `python -m atlas_crawl publish` (dimensions, foreign keys, indexes, metadata.yml).
3. **Serve**: `python -m atlas_crawl serve` on 127.0.0.1, then, per page kind, 2 warm-up requests
   and `--requests` timed ones, one at a time; prints `p95 <N> ms` per kind.

The page kinds: the table page (HTML), the table's JSON with its default facets, the table
filtered on one kommune, a facet click (a period value of the default facet), the chart view
(the table's own "Chart this table" link), the canned query `population` for one kommune and
year, and the kommune report `/kommune/0301`. The table is synthetic (a run of unknown origin),
so the last two are asked for samples (`samples=1`), which they otherwise leave out: the run
prints what they answered (rows in the answer and on the page, figures in the report) before
timing them. A page kind the server does not have (HTTP 404: the report before it was added,
the chart view under the old settings) is listed as not served and left out of the comparison;
one it answers with another HTTP error is reported as FAILED.

`--scale N` builds the table with N times the ages (`ingest_jsonstat.py --scale`), so N times
the rows per kommune: `--scale 4` is 12,412,176 cells. The crawl's and the publish's times are
printed with their ratio (target: publish <= 1.5x the crawl), and `published bytes per cell`
(the published file over the cells; target <= 120).
`--quick` builds the same table with 3 years instead of 41 (227,052 cells): a check that
every page answers, not a measurement.

With `--compare`, the same published database is also served with the settings `serve` had
before this benchmark existed (suggested facets on, no precomputed counts, sql_time_limit_ms
5000, facet_time_limit_ms 1000), in the same run, and the ratio is printed per page kind that
both servers have. Target: every p95 <= 300 ms on a 2-core machine (a quiet one).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from html import unescape
from pathlib import Path
from urllib.error import HTTPError

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(PROJECT_DIR / "benchmarks"))

import ingest_jsonstat
from ingest_jsonstat import synthetic_table

TABLE_ID = "07459"
TABLE = f"ssb_{TABLE_ID}"
DATABASE = "atlas"
KOMMUNE = "0301"
YEAR = "2020"
TARGET_P95_MS = 300
TARGET_PUBLISHED_BYTES_PER_CELL = 120
TARGET_PUBLISH_OVER_CRAWL = 1.5
# `serve`'s Datasette settings before this benchmark (atlas_crawl/run/cli.py at the time).
OLD_SERVE_SETTINGS = {"default_page_size": "50", "sql_time_limit_ms": "5000",
                      "facet_time_limit_ms": "1000"}


def run(command: list[str], log: Path) -> float:
    started = time.perf_counter()
    with log.open("a", encoding="utf-8") as out:
        done = subprocess.run(command, cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT,
                              env={**os.environ, "SCRAPY_SETTINGS_MODULE": "atlas_crawl.settings"},
                              check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed (exit {done.returncode}); see {log}")
    return time.perf_counter() - started


def build(work: Path, db: Path, scale: int = 1) -> float:
    """Crawl the synthetic table into `db`; the crawl's wall time."""
    body, cells, _ = synthetic_table(table_id=TABLE_ID, scale=scale)
    data = work / f"{TABLE}.json"
    data.write_bytes(body)
    del body
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    seconds = run([sys.executable, "-m", "scrapy", "crawl", TABLE, "-a", f"file={data}",
                   "-s", f"ATLAS_DB={db}", "-s", "LOG_LEVEL=INFO"], work / "crawl.log")
    conn = sqlite3.connect(db)
    try:
        status, rows = conn.execute("SELECT status, rows_received FROM _runs "
                                    "ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    if status != "ok" or rows != cells:
        raise SystemExit(f"crawl stored {rows} of {cells} cells, status {status}; "
                         f"see {work / 'crawl.log'}")
    print(f"built {TABLE}: {cells:,} cells with the real pipeline in {seconds:.1f} s "
          f"({db.stat().st_size / cells:.1f} bytes per cell; load {load()})", flush=True)
    (work / "crawl-seconds.txt").write_text(f"{seconds:.1f}\n")
    return seconds


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cells_in(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT rows_received FROM _runs WHERE status = 'ok' "
                            "ORDER BY id DESC LIMIT 1").fetchone()[0]
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(command: list[str], port: int, log: Path) -> subprocess.Popen:
    out = log.open("a", encoding="utf-8")
    server = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited ({server.returncode}); see {log}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=2).read()
            return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"server did not answer within 120 s; see {log}")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def chart_path(metadata: Path) -> str:
    """The table's own chart link, from the metadata publish wrote."""
    text = metadata.read_text(encoding="utf-8")
    found = re.search(r'class="atlas-chart" href="([^"]+)"', text)
    if not found:
        raise SystemExit(f"{metadata}: no chart link for {TABLE}")
    return unescape(found.group(1)).split("#", 1)[0]


def pages(metadata: Path) -> dict[str, str]:
    base = f"/{DATABASE}/{TABLE}"
    # a year the table has (`--quick` builds the last three only)
    year = YEAR if YEAR in ingest_jsonstat.YEARS else ingest_jsonstat.YEARS[-1]
    return {
        "table page (HTML)": base,
        "table JSON, default facets": f"{base}.json",
        "filtered on one kommune": f"{base}?region={KOMMUNE}",
        "facet click": f"{base}?tid={year}",
        "chart view": chart_path(metadata),
        # The table is synthetic (a run of unknown origin): the canned query and the report
        # leave such rows out unless asked (`samples`), and would answer with no figures.
        "canned query": f"/{DATABASE}/population?kommune={KOMMUNE}&year={year}&samples=1",
        # Measured where the server has it (publish/site's kommune report); 404 otherwise.
        "kommune report": f"/kommune/{KOMMUNE}?samples=1",
    }


def canned_answer(url: str, body: bytes) -> str:
    """What the canned query's page answered: its rows (from the same query as JSON), and how
    many of them the page shows."""
    base, _, query = url.partition("?")
    doc = json.loads(fetch(f"{base}.json?{query}")[1])
    shown = max(0, body.count(b"<tr>") - 1)  # the header's row
    return f"{len(doc.get('rows', []))} rows in the answer, {shown} on the page"


def report_answer(url: str, body: bytes) -> str:
    figures = body.count(b'class="atlas-figure"')
    return f"{figures} figures"


#: Page kinds whose answer is checked once before they are timed: an empty answer is no
#: measurement of the page.
ANSWERS = {"canned query": canned_answer, "kommune report": report_answer}


class NotServed(Exception):
    """The server has no such page (HTTP 404)."""


class Failed(Exception):
    """The server answered with an error (HTTP 500: e.g. a query over the time limit)."""


def fetch(url: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            body = response.read()
    except HTTPError as exc:
        if exc.code == 404:
            raise NotServed(url) from None
        raise Failed(f"HTTP {exc.code}") from None
    return (time.perf_counter() - started) * 1000, body


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def measure(port: int, paths: dict[str, str], n: int,
            failed: dict[str, str] | None = None) -> dict[str, list[float]]:
    """p50/p95 per page kind; kinds the server answers with an error go to `failed`."""
    failed = {} if failed is None else failed
    results = {}
    for kind, path in paths.items():
        url = f"http://127.0.0.1:{port}{path}"
        try:
            for _ in range(2):
                _, body = fetch(url)
        except NotServed:
            print(f"{kind:28} not served (HTTP 404) {path}", flush=True)
            continue
        except Failed as exc:
            print(f"{kind:28} FAILED ({exc}; the server's log says why) {path}", flush=True)
            failed[kind] = str(exc)
            continue
        if kind.startswith("table JSON"):
            doc = json.loads(body)
            facets = sorted(doc.get("facet_results", {}))
            timed_out = doc.get("facets_timed_out", [])
            print(f"  ({kind}: facets {facets}, timed out {timed_out}, "
                  f"count {doc.get('filtered_table_rows_count')})", flush=True)
        elif kind in ANSWERS:
            print(f"  ({kind}: {ANSWERS[kind](url, body)})", flush=True)
        try:
            results[kind] = [fetch(url)[0] for _ in range(n)]
        except Failed as exc:
            print(f"{kind:28} FAILED during the timed requests ({exc}) {path}", flush=True)
            failed[kind] = str(exc)
            continue
        ms = results[kind]
        print(f"{kind:28} p50 {statistics.median(ms):7.0f} ms   p95 {p95(ms):7.0f} ms   "
              f"({n} requests) {path}", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--workdir", help="keep the database here (reuse it with --reuse)")
    parser.add_argument("--reuse", action="store_true",
                        help="do not crawl again: publish a fresh copy of the crawled database "
                             "kept in the workdir (crawled.db)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page kind")
    parser.add_argument("--quick", action="store_true",
                        help="3 years instead of 41: check that the pages answer (not a "
                             "measurement)")
    parser.add_argument("--compare", action="store_true",
                        help="also serve with the old `serve` settings, in the same run")
    parser.add_argument("--serve-only", action="store_true",
                        help="measure the database already published in the workdir")
    parser.add_argument("--scale", type=int, default=1,
                        help="N times the rows per kommune (4: 12.4 M cells)")
    args = parser.parse_args(argv)
    if args.quick:
        ingest_jsonstat.YEARS = ingest_jsonstat.YEARS[-3:]

    with tempfile.TemporaryDirectory(prefix="atlas-latency-") as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        db, metadata = work / f"{DATABASE}.db", work / "metadata.yml"
        print(f"load average at start: {load()}", flush=True)
        crawled = work / "crawled.db"
        if args.serve_only:
            pass
        elif not (args.reuse and crawled.exists()):
            build(work, db, args.scale)
            shutil.copyfile(db, crawled)
        else:  # publish a fresh copy of the crawl: publish changes the file it is given
            shutil.copyfile(crawled, db)
            inspect = work / f"{DATABASE}.inspect.json"
            inspect.unlink(missing_ok=True)
        saved = work / "crawl-seconds.txt"
        crawl_seconds = float(saved.read_text()) if saved.exists() else None
        cells = cells_in(db)
        if not args.serve_only:
            seconds = run([sys.executable, "-m", "atlas_crawl", "publish", "--db", str(db),
                           "--metadata", str(metadata)], work / "publish.log")
            over = (f"; {seconds / crawl_seconds:.2f}x the crawl's {crawl_seconds:.1f} s "
                    f"(target <= {TARGET_PUBLISH_OVER_CRAWL}x)" if crawl_seconds else "")
            print(f"published in {seconds:.1f} s{over} (load {load()}); database "
                  f"{db.stat().st_size / 1e6:.0f} MB, {cells:,} cells", flush=True)
        per_cell = db.stat().st_size / cells
        print(f"published bytes per cell {per_cell:.1f} (target <= "
              f"{TARGET_PUBLISHED_BYTES_PER_CELL})", flush=True)
        paths = pages(metadata)

        runs, failed = {}, {"serve": {}, "old": {}}
        port = free_port()
        print(f"\nserved by `python -m atlas_crawl serve` (machine: {os.cpu_count()} cores, "
              f"shared with other jobs):", flush=True)
        server = start_server([sys.executable, "-m", "atlas_crawl", "serve", "--db", str(db),
                               "--metadata", str(metadata), "--port", str(port)], port,
                              work / "serve.log")
        try:
            runs["serve"] = measure(port, paths, args.requests, failed["serve"])
        finally:
            stop_server(server)

        if args.compare:
            port = free_port()
            print("\nserved with the old `serve` settings (same database, same run):",
                  flush=True)
            command = [sys.executable, "-m", "datasette", "serve", "-i", str(db), "-m",
                       str(metadata), "-h", "127.0.0.1", "-p", str(port)]
            for name, value in OLD_SERVE_SETTINGS.items():
                command += ["--setting", name, value]
            server = start_server(command, port, work / "serve-old.log")
            try:
                runs["old"] = measure(port, paths, args.requests, failed["old"])
            finally:
                stop_server(server)

        print(f"\nload average at the end: {load()}")
        worst = max((p95(ms) for ms in runs["serve"].values()), default=0)
        for kind, ms in runs["serve"].items():
            ratio = ""
            if kind in runs.get("old", {}):
                ratio = f"   old settings p95 {p95(runs['old'][kind]):7.0f} ms  " \
                        f"(x{p95(runs['old'][kind]) / p95(ms):.1f})"
            elif kind in failed["old"]:
                ratio = f"   old settings: {failed['old'][kind]}"
            elif "old" in runs:
                ratio = "   (not served with the old settings)"
            print(f"{kind:28} p95 {p95(ms):5.0f} ms{ratio}")
        for kind, why in failed["serve"].items():
            print(f"{kind:28} FAILED: {why}")
        missing = [k for k in paths if k not in runs["serve"] and k not in failed["serve"]]
        if missing:
            print(f"not served: {', '.join(missing)}")
        met = worst <= TARGET_P95_MS and not failed["serve"]
        print(f"worst p95 {worst:.0f} ms; target <= {TARGET_P95_MS} ms: "
              f"{'met' if met else 'SHORT'}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
