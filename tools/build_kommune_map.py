"""Build the catalogue's kommune map (atlas_crawl/publish/site/data/kommuner_2024.json) from
Kartverket's kommune boundaries, as simplified by robhop/fylker-og-kommuner (Kommuner-S.geojson,
WGS84, the 357 kommuner of 2024; © Kartverket, CC BY 4.0).

    python tools/build_kommune_map.py ../shared/realdata/geo_boundaries/Kommuner-S.geojson

Each kommune becomes one SVG path, projected once here so the catalogue draws a map without a
tile server or a JavaScript library: x = longitude · cos(65°), y = -latitude (an equirectangular
projection centred on Norway's middle latitude), scaled to a 1000-unit-wide box and rounded to
0.1 unit (about 120 m), with consecutive repeated points dropped. This shrinks the 1.26 MB input
to the file written here; the outlines stay recognisable at the size a map is shown.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "atlas_crawl/publish/site/data/kommuner_2024.json"
LAT0 = 65.0
WIDTH = 1000.0
ATTRIBUTION = ("Kommune boundaries 2024: © Kartverket, CC BY 4.0 (simplified by "
               "robhop/fylker-og-kommuner, Kommuner-S.geojson)")


def rings(geometry: dict) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return geometry["coordinates"]
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    raise ValueError(f"unexpected geometry {geometry['type']}")


def build(source: Path) -> dict:
    data = json.loads(source.read_text(encoding="utf-8"))
    k = math.cos(math.radians(LAT0))
    points = [(lon * k, -lat) for f in data["features"] for ring in rings(f["geometry"])
              for lon, lat in ring]
    min_x, max_x = min(p[0] for p in points), max(p[0] for p in points)
    min_y, max_y = min(p[1] for p in points), max(p[1] for p in points)
    scale = WIDTH / (max_x - min_x)
    kommuner = {}
    for feature in data["features"]:
        props = feature["properties"]
        parts = []
        for ring in rings(feature["geometry"]):
            xy, last = [], None
            for lon, lat in ring:
                p = (round((lon * k - min_x) * scale, 1), round((-lat - min_y) * scale, 1))
                if p != last:
                    xy.append(p)
                    last = p
            if len(xy) >= 3:
                parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in xy) + "Z")
        kommuner[props["kommunenummer"]] = {"name": props["kommunenavn"], "d": "".join(parts)}
    return {"attribution": ATTRIBUTION, "width": WIDTH,
            "height": round((max_y - min_y) * scale, 1), "kommuner": kommuner}


if __name__ == "__main__":
    result = build(Path(sys.argv[1]))
    OUT.write_text(json.dumps(result, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{OUT}: {len(result['kommuner'])} kommuner, {OUT.stat().st_size:,} bytes")
