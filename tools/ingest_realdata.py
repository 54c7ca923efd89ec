"""Ingest every real capture in ../shared/realdata with `scrapy crawl <spider> -a file=` and report.

    python tools/ingest_realdata.py [REALDATA_DIR]

Each capture is crawled into a fresh temporary database with the arguments that say what it is
(a Udir data answer needs its selection; a Klass answer the URL it came from). The table below
says, per file, the spider, the run's status and rows, or why the file is no spider's input
(map boundaries, the geography snapshot's sources) or is refused by design (a Rapportside or
PxWebApi table metadata holds no figures). valgresultat/ and imdi_integrering/ are read by
spiders of their own and are not listed here. The exit code is 1 if any file that should
ingest did not.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
KLASS = "https://data.ssb.no/api/klass/v1/classifications"

# file -> (spider, arguments) | ("refused", why) | ("not a spider input", why)
PLAN: dict[str, tuple[str, object]] = {
    "brreg_enhetsregisteret/enheter_search_navn-Sesam_size2_page0.json": ("brreg_enheter", {}),
    "geo_boundaries/Fylker-S.geojson": ("not a spider input", "fylke boundaries for maps"),
    "geo_boundaries/Kommuner-S.geojson": ("not a spider input", "kommune boundaries for maps"),
    "geo_reference/csdata_norway_locations.xlsx": (
        "not a spider input", "read by python -m atlas_crawl.geo.build_snapshot"),
    "geo_reference/csdata_norway_locations_ward.xlsx": (
        "not a spider input", "read by python -m atlas_crawl.geo.build_snapshot"),
    "husbanken/husbanken-bostotte_hypercube_sample.json": ("husbanken_bostotte", {}),
    "imdi/imdi_bosettingstall_hub_EXCERPT.html": (
        "refused", "the hub page links the year pages; it holds no figures"),
    "imdi/imdi_nokkeltall-bosetting-2025_EXCERPT.html": ("imdi_bosetting", {}),
    "imdi/imdi_nokkeltall-bosetting-2026_EXCERPT.html": ("imdi_bosetting", {}),
    "nav/nav_ledighet_og_stillinger_telemark_2026-02-05.xlsx": ("nav_workbook", {}),
    "nav/nav_nedsatt_arbeidsevne_telemark_2025-12-16.xlsx": ("nav_workbook", {}),
    "ssb_klass/klass_104_changes_from2019-01-01_to2020-01-02.json": (
        "ssb_klass", {"url": f"{KLASS}/104/changes?from=2019-01-01&to=2020-01-02"}),
    "ssb_klass/klass_104_codes_from2018-01-01_to2020-01-02.json": (
        "ssb_klass", {"url": f"{KLASS}/104/codes?from=2018-01-01&to=2020-01-02"}),
    "ssb_klass/klass_104_codes_from2024-01-01.json": (
        "ssb_klass", {"url": f"{KLASS}/104/codes?from=2024-01-01"}),
    "ssb_klass/klass_104_corresponds_target131_from2018-01-01_to2020-01-02.json": (
        "ssb_klass", {"url": f"{KLASS}/104/corresponds?targetClassificationId=131"
                             "&from=2018-01-01&to=2020-01-02"}),
    "ssb_klass/klass_131_codesAt_2023-03-02.json": (
        "ssb_klass", {"url": f"{KLASS}/131/codesAt?date=2023-03-02"}),
    "ssb_klass/klass_131_codes_from2024-01-01.json": (
        "ssb_klass", {"url": f"{KLASS}/131/codes?from=2024-01-01"}),
    "ssb_pxwebapi_v0/v0_table_07459_post_json-stat2_agg-KommSummer_2022.json": ("ssb_07459", {}),
    "ssb_pxwebapi_v0/v0_table_07459_post_query-body_REQUEST.json": (
        "refused", "the query that was sent, not SSB's answer"),
    "ssb_pxwebapi_v2/v2_data_05803_lang-no_with-status.json": ("ssb_table", {"table": "05803"}),
    "ssb_pxwebapi_v2/v2_metadata_05803_lang-en.json": (
        "refused", "table metadata holds no figures"),
    "ssb_pxwebapi_v2/v2_tables_catalogue_lang-no_page1.json": (
        "refused", "the table catalogue lists tables, it holds no figures"),
    "udir/udir-elevundersokelsen-mobbing_filterVerdier_EXCERPT.json": (
        "udir_elevundersokelsen", {}),
    "udir/udir-elevundersokelsen-mobbing_rapportside.json": (
        "refused", "a Rapportside describes the report, it holds no figures"),
    "udir/udir-fravar_data.202506.anchor12.json": ("udir_fravar", {"years": "2024-25"}),
    "udir/udir-fravar_filterVerdier_EXCERPT.json": ("udir_fravar", {}),
    "udir/udir-fravar_rapportside.json": (
        "refused", "a Rapportside describes the report, it holds no figures"),
    "udir/udir-gsi_data_202410.json": ("udir_gsi", {"years": "2024-25"}),
    "udir/udir-gsi_filterverdier_years.json": ("udir_gsi", {}),
    "udir/udir-nasjonale-prover_data.trinn5.NPLES.anchor12.json": (
        "udir_nasjonale_prover", {"years": "2025-26", "grades": "5", "subjects": "NPLES"}),
    "udir/udir-nasjonale-prover_filterVerdier.trinn5_EXCERPT.json": (
        "udir_nasjonale_prover", {}),
    "udir/udir-nasjonale-prover_filterVerdier.ungdomstrinn_EXCERPT.json": (
        "udir_nasjonale_prover", {}),
    "udir/udir-nasjonale-prover_rapportside.trinn5.json": (
        "refused", "a Rapportside describes the report, it holds no figures"),
    "udir/udir-nasjonale-prover_rapportside.ungdomstrinn.json": (
        "refused", "a Rapportside describes the report, it holds no figures"),
    "udir/udir_api_elevundersokelsen_mobbing_data_arendal_trinn10.json": (
        "udir_elevundersokelsen", {"years": "2025-26", "grades": "10", "regions": "4203"}),
    "udir/udir_api_elevundersokelsen_mobbing_data_bykle_trinn10.json": (
        "udir_elevundersokelsen", {"years": "2025-26", "grades": "10", "regions": "4222"}),
    "udir/udir_api_rapportside_GSK_Elev_Skol.json": (
        "refused", "a Rapportside describes the report, it holds no figures"),
    "udir/udir_statistikkbank_grunnskolepoeng_export_20220621-1350.xlsx": (
        "udir_statistikkbank", {}),
}
# Which spider a refused file is offered to, to check that it is refused in one line.
REFUSED_BY = {"imdi": "imdi_bosetting", "ssb_pxwebapi_v0": "ssb_07459",
              "ssb_pxwebapi_v2": "ssb_table", "udir": "udir_gsi"}
ELSEWHERE = ("valgresultat/", "imdi_integrering/")


def crawl(spider: str, path: Path, args: dict, db: Path) -> dict:
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", f"file={path}",
               "-s", f"ATLAS_DB={db}", "-s", "ATLAS_RAW_DIR=", "-s", "LOG_LEVEL=ERROR"]
    for key, value in args.items():
        command += ["-a", f"{key}={value}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "atlas_crawl.settings"}
    done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True,
                          check=False)
    conn = sqlite3.connect(db)
    try:
        conn.row_factory = sqlite3.Row
        run = dict(conn.execute("SELECT * FROM _runs ORDER BY started DESC, rowid DESC").fetchone())
    finally:
        conn.close()
    run["exit"] = done.returncode
    return run


def main(root: Path) -> int:
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
                   and p.name != "SOURCES.md" and not str(p.relative_to(root)).startswith(ELSEWHERE))
    unplanned = [f for f in files if f not in PLAN]
    bad = 0
    print("| capture | spider | result |")
    print("| --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for n, name in enumerate(files):
            if name in unplanned:
                print(f"| `{name}` | — | NOT PLANNED |")
                bad += 1
                continue
            spider, what = PLAN[name]
            if spider == "not a spider input":
                print(f"| `{name}` | — | not a spider input: {what} |")
                continue
            db = Path(tmp) / f"{n}.db"
            if spider == "refused":
                run = crawl(REFUSED_BY[name.split("/")[0]], root / name, {}, db)
                ok = run["status"] == "failed" and run["exit"] == 2 and "\n" not in run["error"]
                bad += not ok
                print(f"| `{name}` | {REFUSED_BY[name.split('/')[0]]} | "
                      f"{'refused by design' if ok else 'NOT REFUSED CLEANLY'}: {run['error']} |")
                continue
            run = crawl(spider, root / name, dict(what), db)
            ok = run["status"] == "ok" and run["exit"] == 0
            bad += not ok
            detail = (f"ok: {run['rows_received']:,} rows, {run['rows_quarantined']} quarantined"
                      if ok else f"FAILED (exit {run['exit']}): {run['error']}")
            args = " ".join(f"-a {k}={v}" for k, v in dict(what).items())
            print(f"| `{name}` | {spider} {args} | {detail} |")
    print(f"\n{len(files)} captures; {bad} did not behave as planned")
    return 1 if bad else 0


if __name__ == "__main__":
    default = PROJECT.parent / "shared" / "realdata"
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    if not root.is_dir():
        sys.exit(f"{root}: no realdata folder (give its path)")
    sys.exit(main(root))
