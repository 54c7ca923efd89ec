"""Rebuild this folder's recorded Qlik exchange from Husbanken's real hypercube sample.

    .venv/bin/python golden/husbanken_bostotte/build.py

The sample (`responses/husbanken-bostotte_hypercube_sample.json`, copied unchanged from
../shared/realdata/husbanken/) is a real, reduced GetLayout answer holding 69 real rows. The
engine's other answers are constructed around it (see README.md): OpenDoc and
CreateSessionObject return the handles a fresh engine session returns, GetLayout returns the
sample itself, and GetHyperCubeData returns the sample's 69 rows re-wrapped as a page answer.
The call parameters are the ones the spider sends, built from the manifest, so a change to the
hypercube definition shows up here as a diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from atlas_crawl.fetch.qlik import Exchange
from atlas_crawl.formats import hypercube as qf
from atlas_crawl.manifests import get_manifest

SAMPLE = "responses/husbanken-bostotte_hypercube_sample.json"
PAGE = "responses/qlik_GetHyperCubeData_h2_0000.json"
CONFIG = "responses/deployconfig_config.js"


def main() -> None:
    cfg = get_manifest("husbanken_bostotte").extra["qlik"]
    measures = [qf.Measure(m["label"], m["expression"], m.get("unit", "")) for m in cfg["measures"]]
    url, app = cfg["engine_url"], cfg["app_id"]
    sample = json.loads((HERE / SAMPLE).read_text(encoding="utf-8"))
    cube = sample["qLayout"]["qHyperCube"]
    width, height = int(cube["qSize"]["qcx"]), int(cube["qSize"]["qcy"])
    matrix = cube["qDataPages"][0]["qMatrix"]
    assert len(matrix) == height, (len(matrix), height)

    page = {"qDataPages": [{
        "qMatrix": matrix,
        "qTails": [],
        "qArea": {"qLeft": 0, "qTop": 0, "qWidth": width, "qHeight": height},
    }]}
    (HERE / PAGE).write_text(json.dumps(page, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")

    exchange = Exchange(HERE)
    exchange.calls = []
    exchange.add(url, "OpenDoc", -1, [app],
                 result={"qReturn": {"qType": "Doc", "qHandle": 1, "qGenericId": app}})
    exchange.add(url, "CreateSessionObject", 1,
                 [qf.hypercube_definition(cfg["dimensions"], measures)],
                 result={"qReturn": {"qType": "GenericObject", "qHandle": 2,
                                     "qGenericType": "atlas-crawl-table",
                                     "qGenericId": "constructed-session-object"}})
    layout = exchange.add(url, "GetLayout", 2, [], result=None)
    layout.file = SAMPLE
    for area in qf.page_plan(height, width, int(cfg.get("page_rows", qf.PAGE_ROWS))):
        call = exchange.add(url, "GetHyperCubeData", 2, ["/qHyperCubeDef", [area]], result=None)
        call.file = PAGE
    exchange.save()

    (HERE / "responses.json").write_text(json.dumps({"responses": [{
        "method": "GET", "url": cfg["config_url"], "status": 200,
        "headers": {"Content-Type": "application/javascript"}, "file": CONFIG,
    }]}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {exchange.path} ({len(exchange.calls)} calls) and {PAGE}")


if __name__ == "__main__":
    main()
