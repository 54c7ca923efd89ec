"""How long a full live crawl of every SSB table takes, from the planner and the pace limit.

SSB's PxWebApi allows 30 calls per 60 s per IP (the spider keeps one call every 2.2 s: the
window / calls plus 10 %, on one download slot) and at most `maxDataCells` (800,000) cells per
call. This script plans every curated SSB table with the project's own planner
(atlas_crawl/formats/pxweb.py) and counts the calls, then prints the time the pace alone takes.

The tables' dimensions come from their golden metadata (golden/ssb_<id>/), which has the real
dimension ids but few codes; the real sizes are not in the repository, so the sizes below are
ASSUMPTIONS, stated per dimension, for a full history with `*` regions (current and historical
kommuner, fylker, bydeler and SSB's special codes). Change them with --set DIM=N.

    .venv/bin/python benchmarks/full_crawl_estimate.py
    .venv/bin/python benchmarks/full_crawl_estimate.py --set Region=1500 --set Tid=50
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from math import ceil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from atlas_crawl.formats import pxweb
from atlas_crawl.manifests import all_manifests

# Assumed real sizes of the dimensions that the constructed metadata shrinks.
ASSUMED = {
    "Region": 1100,                # `*`: ~360 kommuner today + historical codes, fylker, bydeler
    "KOKkommuneregion0000": 800,   # KOSTRA regions: kommuner, fylker, KOSTRA groups, land
    "Alder": 106,                  # single years 0-105+
    "Tid": 30,                     # 30 periods of history (annual tables; KOSTRA has ~10)
}
KOSTRA_TID = 10
SECONDS_PER_CALL = 60 / 30 * 1.1


def scaled(meta: pxweb.TableMetadata, sizes: dict[str, int]) -> pxweb.TableMetadata:
    """The table with each dimension named in `sizes` grown to that many codes."""
    dims = []
    for dim in meta.dimensions:
        n = sizes.get(dim.id)
        if n is not None and n > len(dim.codes):
            dim = replace(dim, codes=[f"{dim.id}{i:05d}" for i in range(n)])
        dims.append(dim)
    return replace(meta, dimensions=dims)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", action="append", default=[], metavar="DIM=N")
    parser.add_argument("--max-cells", type=int, default=800_000)
    args = parser.parse_args()
    sizes = dict(ASSUMED)
    for item in args.set:
        dim, _, n = item.partition("=")
        sizes[dim] = int(n)
    overridden = {item.partition("=")[0] for item in args.set}
    # KOSTRA tables have ~10 years unless --set Tid=N says otherwise.
    kostra_sizes = {**sizes, "Tid": sizes["Tid"] if "Tid" in overridden else KOSTRA_TID}
    total_calls = total_cells = 0
    print(f"{'table':<10} {'cells':>12} {'calls':>6}  dimensions")
    for source_id, manifest in sorted(all_manifests().items()):
        if "pxweb" not in manifest.extra:
            continue
        table = manifest.extra["pxweb"]["table"]
        files = sorted((ROOT / "golden" / source_id / "responses").glob("metadata_*"))
        if not files:
            print(f"{table:<10} no golden metadata")
            continue
        meta = pxweb.parse_metadata(files[0].read_bytes(), table)
        kostra = any(d.id.startswith("KOK") for d in meta.dimensions)
        meta = scaled(meta, kostra_sizes if kostra else sizes)
        overrides = (manifest.extra["pxweb"] or {}).get("selection") or None
        calls = len(pxweb.plan(meta, args.max_cells, overrides))
        total_calls += calls + 2  # + /config and /metadata
        total_cells += meta.cells
        print(f"{table:<10} {meta.cells:>12,} {calls:>6}  "
              + " x ".join(f"{d.id} {len(d.codes)}" for d in meta.dimensions))
    minutes = total_calls * SECONDS_PER_CALL / 60
    print(f"total: {total_cells:,} cells in {total_calls} calls (incl. config and metadata); "
          f"at one call per {SECONDS_PER_CALL:.1f} s: {minutes:.1f} min of pacing")
    print(f"one call per table at the limit: {ceil(total_cells / args.max_cells)} calls if "
          f"the cells could be packed perfectly")


if __name__ == "__main__":
    main()
