"""Place every value of a manifest's place columns (first version: code canonicalisation only).

For each declared place column `<col>` the batch gains `<col>_canonical`, `<col>_current`,
`<col>_level` and `<col>_geo_status`.
"""

from __future__ import annotations

import re

from atlas_crawl.items import Batch
from atlas_crawl.manifests import get_manifest

SUFFIXES = ("_canonical", "_current", "_level", "_geo_status")
LEVEL_BY_LENGTH = {1: "land", 2: "fylke", 4: "kommune", 6: "bydel", 8: "grunnkrets"}


def canonical_code(raw) -> tuple[str | None, str | None, str | None, str]:
    text = str(raw).strip()
    text = re.sub(r"^[KF]-", "", text)
    if re.fullmatch(r"\d{1,8}", text):
        if text == "0":
            return "0", "0", "land", "aggregate"
        width = 2 if len(text) <= 2 else 4 if len(text) <= 4 else 6 if len(text) <= 6 else 8
        code = text.zfill(width)
        return code, None, LEVEL_BY_LENGTH[width], "unchecked"
    return None, None, None, "unresolvable"


class GeographyPipeline:
    def process_item(self, item):
        if not isinstance(item, Batch) or item.table != item.source_id:
            return item
        places = get_manifest(item.source_id).places
        for place in places:
            position = item.columns.index(place.column)
            resolved = {value: canonical_code(value)
                        for value in {row[position] for row in item.rows}}
            item.columns = [*item.columns, *(place.column + s for s in SUFFIXES)]
            item.rows = [row + resolved[row[position]] for row in item.rows]
        return item
