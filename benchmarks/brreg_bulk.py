"""Brreg bulk ingest: streaming parser vs gunzip + json.loads in chunks, in the same run.

    .venv/bin/python benchmarks/brreg_bulk.py                 # 1,000,000 records
    .venv/bin/python benchmarks/brreg_bulk.py --records 200000 --repeat 3 --crawl

Generates a gzipped bulk file of realistic enheter (Jackson-pretty-printed like Brreg's
`/enheter/lastned`, ~1.7 KB per record; see tools/build_brreg_fixtures.py), then runs each
variant in a fresh process and reports wall time, records/s and peak memory (the process's
max RSS) as ratios against the baseline measured in the same run:

- baseline: gunzip and `json.loads` the records in chunks of ~16 MB of text, cut at the
  top-level separators the file format gives away (C does all the work; nothing is kept);
- stream: atlas_crawl.formats.jsonstream element by element, each record's raw text kept;
- rows: the same plus the row tuples the spider stores (analyst columns + raw `doc`), in
  batches of 5,000, as `brreg_enheter` yields them;
- insert (with --crawl): the physical limit for the store. The same streaming parse and the
  same final rows (the spider's row, the four place columns, `_run`, `_fetch`), inserted with
  one plain `executemany` into a table made by the store's own schema code (same columns,
  types, key and layout), in one transaction on a connection with the store's PRAGMAs, then
  committed and closed. The place columns come from the project's resolver, once per distinct
  kommune number (a dict lookup per row): the pipelines' per-batch work is what the ratio is
  about, not the baseline's;
- crawl (with --crawl): the whole `scrapy crawl brreg_enheter -a file=` path into a fresh
  SQLite database (contract, geography, upsert, commit), start-up included.

With --crawl the two databases are compared row by row (every column but `_run`/`_fetch`,
EXCEPT both ways) and it prints `brreg crawl <N> records/s, ratio <R>`, R being the crawl's
rate over the insert baseline's (target >= 0.5 at 300,000 records).

Targets: peak memory of the streaming ingest under 300 MB; its time within 2x the baseline.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_PEAK_MB = 300
TARGET_RATIO = 2.0
TARGET_CRAWL_RATIO = 0.5


def _builder():
    spec = importlib.util.spec_from_file_location(
        "brreg_build", ROOT / "tools/build_brreg_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------------------------
# Generating the file

KOMMUNER = [("0301", "OSLO"), ("4601", "BERGEN"), ("5001", "TRONDHEIM"), ("1103", "STAVANGER"),
            ("3301", "DRAMMEN"), ("5501", "TROMSØ"), ("1804", "BODØ"), ("4204", "KRISTIANSAND"),
            ("3201", "BÆRUM"), ("5503", "HARSTAD"), ("1506", "MOLDE"), ("3403", "HAMAR"),
            ("5636", "NESSEBY"), ("2100", "SVALBARD"), ("4020", "MIDT-TELEMARK")]
FORMS = ["AS", "ENK", "FLI", "AS", "ENK", "STI", "SA", "AS"]
NAERING = [("68.209", "Utleie av egen eller leid fast eiendom ellers"),
           ("94.991", "Aktiviteter i andre interesseorganisasjoner ikke nevnt annet sted"),
           ("70.220", "Bedriftsrådgivning og annen administrativ rådgivning"),
           ("93.120", "Idrettslag og -klubber"), ("88.911", "Barnehager"),
           ("56.101", "Drift av restauranter og kafeer")]
WORDS = ["FJORD", "NORD", "LYS", "BYGG", "HANDEL", "EIENDOM", "KONSULT", "IDRETTSLAG", "KOR",
         "SAMEIE", "VEL", "HAVN", "ØST", "VEST", "SØR", "BLÅ", "ÅS", "DALEN", "HÁLDI"]
ACTIVITY = ("Drive virksomhet innen {w} og det som naturlig hører sammen med dette, herunder "
            "kjøp og salg av varer og tjenester, samt delta i andre selskaper med lignende formål.")


SYLLABLES = ["ber", "ga", "nes", "vik", "strand", "mo", "li", "heim", "sta", "dal", "rud", "by",
             "ås", "øy", "fjell", "land", "kvam", "sæ", "ter", "gård"]


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def realistic_record(build, n: int, rng: random.Random) -> dict:
    orgnr = f"{800000000 + n:09d}"
    form = rng.choice(FORMS)
    kommunenummer, kommune = rng.choice(KOMMUNER)
    name = " ".join([word(rng).upper(), *rng.sample(WORDS, 2)]) + (" AS" if form == "AS" else "")
    address = build.address([f"{word(rng).title()}veien {rng.randint(1, 200)}"],
                            f"{rng.randint(1, 9999):04d}", kommune, kommune, kommunenummer)
    post = None
    if rng.random() < 0.4:
        post = build.address([f"Postboks {rng.randint(1, 9000)}"], f"{rng.randint(1, 9999):04d}",
                             kommune, kommune, kommunenummer)
    forretning = address if rng.random() > 0.03 else None
    extra = {}
    if rng.random() < 0.5:
        extra["hjemmeside"] = f"www.{name.split()[0].lower()}.no"
    if rng.random() < 0.5:
        extra["epostadresse"] = f"post@{word(rng)}.no"
        extra["telefon"] = f"{rng.randint(20000000, 99999999)}"
    if rng.random() < 0.5:
        extra["vedtektsdato"] = f"{rng.randint(1990, 2026)}-03-{rng.randint(10, 28)}"
        extra["vedtektsfestetFormaal"] = [ACTIVITY.format(w=word(rng))]
    return build.enhet(
        orgnr, name, form, forretning=forretning, post=post, naering=rng.choice(NAERING),
        ansatte=rng.choice([0, 0, 1, 3, 12, None]), registrert=f"{rng.randint(1995, 2026)}-0"
        f"{rng.randint(1, 9)}-1{rng.randint(0, 9)}", frivillig=form == "FLI" and rng.random() < 0.6,
        konkurs=rng.random() < 0.01, aarsregnskap=rng.choice([None, "2024", "2025"]),
        aktivitet=[ACTIVITY.format(w=word(rng)), f"{word(rng).title()} {word(rng)}."],
        links=False, **extra)


def generate(path: Path, records: int) -> None:
    build = _builder()
    rng = random.Random(20261004)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as out:
        out.write("[ ")
        for n in range(records):
            if n:
                out.write(", ")
            out.write(build.jackson(realistic_record(build, n, rng)))
        out.write(" ]\n")


# --------------------------------------------------------------------------------------------
# Variants (each runs in its own process)


def variant_baseline(path: Path) -> int:
    """gunzip + json.loads of ~16 MB text chunks cut at top-level separators."""
    count = 0
    tail = ""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as text:
        first = True
        while True:
            block = text.read(16 << 20)
            data = tail + block
            if first:
                data = data.lstrip()[1:]  # the opening "["
                first = False
            if not block:
                body = data.rstrip().rstrip("]").rstrip()
                if body:
                    count += len(json.loads("[" + body + "]"))
                return count
            cut = data.rfind("\n}, {")
            if cut < 0:
                tail = data
                continue
            count += len(json.loads("[" + data[:cut + 2] + "]"))
            tail = data[cut + 4:]


def variant_stream(path: Path) -> int:
    from atlas_crawl.formats import brreg

    count = 0
    with open(path, "rb") as fh:
        for _raw, _record in brreg.iter_records(fh, brreg.ENHET, name=str(path)):
            count += 1
    return count


def variant_rows(path: Path) -> int:
    from atlas_crawl.formats import brreg

    count = 0
    with open(path, "rb") as fh:
        records = brreg.iter_records(fh, brreg.ENHET, name=str(path))
        for chunk in brreg.chunks(records, brreg.ENHET.row, size=5_000):
            count += len(chunk.rows)
    return count


def variant_insert(path: Path, db: Path) -> int:
    """Parse as the spider does, then one executemany of the final rows: the physical limit."""
    import sqlite3
    from itertools import chain

    from atlas_crawl.formats import brreg
    from atlas_crawl.manifests import get_manifest
    from atlas_crawl.pipelines.geography import ABSENT, SUFFIXES, _level_hint, _place
    from atlas_crawl.store.schema import SQL_TYPES, create_table_sql, rows_are_large
    from atlas_crawl.store.writes import CONNECTION_PRAGMAS

    spec = brreg.ENHET
    place = get_manifest("brreg_enheter").places[0]
    position = spec.columns.index(place.column)
    columns = [*spec.columns, *(place.column + s for s in SUFFIXES)]
    types = {c: SQL_TYPES[spec.types.get(c, str)] for c in columns}
    conn = sqlite3.connect(str(db), isolation_level=None)
    for pragma in CONNECTION_PRAGMAS:
        conn.execute(pragma)
    places: dict = {}

    def final(raw_rec, tail=(1, 1)):
        row = spec.row(*raw_rec)
        code = row[position]
        found = places.get(code)
        if found is None:
            if code is None or not code.strip():
                found = ABSENT
            else:
                found = _place(code, None, None, _level_hint(place.level), place.column)
                if not isinstance(found, tuple) or len(found) != 4:
                    found = (None, None, None, found.status)
            places[code] = found
        return row + found + tail

    count = 0
    with open(path, "rb") as fh:
        rows = map(final, brreg.iter_records(fh, spec, name=str(path)))
        first = [next(rows)]  # the store decides the layout from the first rows, so does this
        conn.execute(create_table_sql("brreg_enheter", types, ["organisasjonsnummer"],
                                      large_rows=rows_are_large(first)))
        conn.execute("BEGIN IMMEDIATE")
        cursor = conn.executemany(
            f"INSERT INTO brreg_enheter VALUES ({', '.join('?' * (len(columns) + 2))})",
            chain(first, rows))
        count = cursor.rowcount
        conn.execute("COMMIT")
    conn.close()
    return count


VARIANTS = {"baseline": variant_baseline, "stream": variant_stream, "rows": variant_rows,
            "insert": variant_insert}


def run_variant(name: str, path: Path, workdir: Path) -> dict:
    """Run one variant in a fresh process; wall time and the process's peak RSS."""
    db = workdir / f"{name}-{time.monotonic_ns()}.db"
    if name == "crawl":
        command = [sys.executable, "-m", "scrapy", "crawl", "brreg_enheter", "-a",
                   f"file={path}", "-s", f"ATLAS_DB={db}", "-s", "LOG_LEVEL=WARNING",
                   "-s", "TELNETCONSOLE_ENABLED=False"]
    else:
        command = [sys.executable, __file__, "--variant", name, "--file", str(path)]
        if name == "insert":
            command += ["--db", str(db)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "SCRAPY_SETTINGS_MODULE": "atlas_crawl.settings"})
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    if status != 0:
        raise SystemExit(f"{name} failed (exit {status}):\n{err[-2000:]}")
    if name == "crawl":
        import sqlite3

        conn = sqlite3.connect(str(db))
        count = conn.execute("SELECT count(*) FROM brreg_enheter").fetchone()[0]
        conn.close()
    else:
        count = json.loads(out.strip().splitlines()[-1])["records"]
    size = db.stat().st_size if db.exists() else 0
    return {"seconds": seconds, "records": count, "peak_mb": usage.ru_maxrss / 1024,
            "db": db if db.exists() else None, "db_bytes": size}


def same_rows(one: Path, other: Path) -> int:
    """Rows of brreg_enheter that differ between two databases (every column but _run and
    _fetch, EXCEPT both ways); 0 when they hold the same data."""
    import sqlite3

    conn = sqlite3.connect(str(one))
    conn.execute("ATTACH DATABASE ? AS other", (str(other),))
    columns = [r[1] for r in conn.execute("PRAGMA main.table_info(brreg_enheter)")
               if not r[1].startswith("_")]
    listed = ", ".join(f'"{c}"' for c in columns)
    differing = sum(conn.execute(
        f"SELECT count(*) FROM (SELECT {listed} FROM {a}.brreg_enheter "
        f"EXCEPT SELECT {listed} FROM {b}.brreg_enheter)").fetchone()[0]
        for a, b in (("main", "other"), ("other", "main")))
    conn.close()
    return differing


def drop(db: Path | None) -> None:
    if db is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--crawl", action="store_true", help="also time scrapy crawl -a file=")
    parser.add_argument("--keep", type=Path, help="keep (or reuse) the generated file here")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--only-crawl", action="store_true",
                        help="with --crawl: run only the insert baseline and the crawl")
    args = parser.parse_args()

    if args.variant:  # child process
        extra = (args.db,) if args.variant == "insert" else ()
        print(json.dumps({"records": VARIANTS[args.variant](args.file, *extra)}))
        return

    with tempfile.TemporaryDirectory(prefix="brreg-bench-") as tmp:
        workdir = Path(tmp)
        path = args.keep or workdir / "enheter.json.gz"
        if not path.exists():
            started = time.perf_counter()
            generate(path, args.records)
            print(f"generated {args.records:,} records in {time.perf_counter() - started:.1f} s")
        unpacked = 0
        with gzip.open(path, "rb") as fh:
            while block := fh.read(1 << 24):
                unpacked += len(block)
        print(f"file: {path.stat().st_size / 1e6:.0f} MB gzipped, {unpacked / 1e6:.0f} MB of JSON "
              f"({unpacked / args.records:.0f} bytes per record)")

        names = (["baseline", "stream", "rows"] if not (args.crawl and args.only_crawl) else [])
        names += ["insert", "crawl"] if args.crawl else []
        results: dict[str, list[dict]] = {n: [] for n in names}
        differing = None
        for _ in range(args.repeat):
            for name in names:
                results[name].append(run_variant(name, path, workdir))
            if args.crawl:
                insert, crawl = results["insert"][-1], results["crawl"][-1]
                if differing is None:
                    differing = same_rows(insert["db"], crawl["db"])
                drop(insert["db"])
                drop(crawl["db"])

    report(args, names, results, differing)


def report(args, names: list[str], results: dict[str, list[dict]], differing: int | None,
           ) -> None:
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    base_name = "baseline" if "baseline" in results else "insert"
    base = statistics.median(r["seconds"] for r in results[base_name])
    print(f"\n{'variant':<9} {'median s':>9} {'records/s':>11} {'peak MB':>8} {'time ratio':>10}")
    for name in names:
        seconds = statistics.median(r["seconds"] for r in results[name])
        peak = max(r["peak_mb"] for r in results[name])
        count = results[name][0]["records"]
        print(f"{name:<9} {seconds:>9.1f} {count / seconds:>11,.0f} {peak:>8.0f} "
              f"{seconds / base:>10.2f}")
        assert count == args.records, f"{name} saw {count:,} records, expected {args.records:,}"
    if args.crawl:
        insert_s = statistics.median(r["seconds"] for r in results["insert"])
        crawl_s = statistics.median(r["seconds"] for r in results["crawl"])
        ratio = insert_s / crawl_s
        rounds = " / ".join(f"{i['seconds'] / c['seconds']:.2f}"
                            for i, c in zip(results["insert"], results["crawl"], strict=True))
        print(f"\ndatabase: {results['crawl'][0]['db_bytes'] / args.records:,.0f} bytes per "
              f"record (crawl), {results['insert'][0]['db_bytes'] / args.records:,.0f} (insert); "
              f"rows differing between the two: {differing}")
        print(f"brreg crawl {args.records / crawl_s:,.0f} records/s, ratio {ratio:.2f} "
              f"(rounds {rounds}; insert baseline {args.records / insert_s:,.0f} records/s; "
              f"target >= {TARGET_CRAWL_RATIO}: "
              f"{'met' if ratio >= TARGET_CRAWL_RATIO else 'MISSED'}), "
              f"crawl peak {max(r['peak_mb'] for r in results['crawl']):.0f} MB")
        if differing:
            raise SystemExit(f"the crawl and the baseline stored different rows ({differing})")
    if "rows" not in results:
        return
    rows_s = statistics.median(r["seconds"] for r in results["rows"])
    rows_peak = max(r["peak_mb"] for r in results["rows"])
    print(f"\nstreaming ingest (rows): time {rows_s / base:.2f}x baseline "
          f"(target <= {TARGET_RATIO}x: {'met' if rows_s / base <= TARGET_RATIO else 'MISSED'}), "
          f"peak {rows_peak:.0f} MB (target < {TARGET_PEAK_MB} MB: "
          f"{'met' if rows_peak < TARGET_PEAK_MB else 'MISSED'})")


if __name__ == "__main__":
    main()
