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
- crawl (with --crawl): the whole `scrapy crawl brreg_enheter -a file=` path into a fresh
  SQLite database (contract, geography, upsert), for scale.

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


VARIANTS = {"baseline": variant_baseline, "stream": variant_stream, "rows": variant_rows}


def run_variant(name: str, path: Path, workdir: Path) -> dict:
    """Run one variant in a fresh process; wall time and the process's peak RSS."""
    if name == "crawl":
        db = workdir / f"crawl-{time.monotonic_ns()}.db"
        command = [sys.executable, "-m", "scrapy", "crawl", "brreg_enheter", "-a",
                   f"file={path}", "-s", f"ATLAS_DB={db}", "-s", "LOG_LEVEL=WARNING",
                   "-s", "TELNETCONSOLE_ENABLED=False"]
    else:
        command = [sys.executable, __file__, "--variant", name, "--file", str(path)]
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
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    else:
        count = json.loads(out.strip().splitlines()[-1])["records"]
    return {"seconds": seconds, "records": count, "peak_mb": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--crawl", action="store_true", help="also time scrapy crawl -a file=")
    parser.add_argument("--keep", type=Path, help="keep (or reuse) the generated file here")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.variant:  # child process
        print(json.dumps({"records": VARIANTS[args.variant](args.file)}))
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

        names = ["baseline", "stream", "rows"] + (["crawl"] if args.crawl else [])
        results: dict[str, list[dict]] = {n: [] for n in names}
        for _ in range(args.repeat):
            for name in names:
                results[name].append(run_variant(name, path, workdir))

    base = statistics.median(r["seconds"] for r in results["baseline"])
    print(f"\n{'variant':<9} {'median s':>9} {'records/s':>11} {'peak MB':>8} {'time ratio':>10}")
    for name in names:
        seconds = statistics.median(r["seconds"] for r in results[name])
        peak = max(r["peak_mb"] for r in results[name])
        count = results[name][0]["records"]
        print(f"{name:<9} {seconds:>9.1f} {count / seconds:>11,.0f} {peak:>8.0f} "
              f"{seconds / base:>10.2f}")
        assert count == args.records, f"{name} saw {count:,} records, expected {args.records:,}"
    rows_s = statistics.median(r["seconds"] for r in results["rows"])
    rows_peak = max(r["peak_mb"] for r in results["rows"])
    print(f"\nstreaming ingest (rows): time {rows_s / base:.2f}x baseline "
          f"(target <= {TARGET_RATIO}x: {'met' if rows_s / base <= TARGET_RATIO else 'MISSED'}), "
          f"peak {rows_peak:.0f} MB (target < {TARGET_PEAK_MB} MB: "
          f"{'met' if rows_peak < TARGET_PEAK_MB else 'MISSED'})")


if __name__ == "__main__":
    main()
