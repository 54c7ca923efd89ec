"""The shipped geography against a real Klass answer of 2026 (golden/ssb_klass_131_2026/): the
same kommuner, and the same names up to the bilingual forms SSB took on since 2024."""

from __future__ import annotations

import json

from atlas_crawl.formats import klass
from atlas_crawl.geo.snapshot import read_table
from atlas_crawl.run.golden import GOLDEN_DIR

CAPTURE = (GOLDEN_DIR / "ssb_klass_131_2026" / "responses"
           / "klass_131_codesAt_2026-01-01_language-nb.json")


def names_2026() -> dict[str, str]:
    return {r["code"]: r["name"] for r in klass.parse_codes_at(CAPTURE.read_bytes(), "2026-01-01")}


def test_the_2026_answer_lists_357_kommuner_and_unknown():
    names = names_2026()
    assert len(names) == 358 and names["9999"] == "Uoppgitt"
    assert names["0301"] == "Oslo - Oslove"
    assert json.loads(CAPTURE.read_bytes())["codes"][0]["code"] == "0301"


def test_todays_kommuner_in_the_snapshot_are_those_of_2026():
    today = {r["code"]: r["name"] for r in read_table("kommuner") if r["valid_to"] is None}
    names = names_2026()
    assert set(today) == set(names) - {"9999"}
    differ = {c: (today[c], names[c]) for c in today if today[c] != names[c]}
    # only the bilingual names taken since 2024, whose Norwegian part is the snapshot's name
    assert differ == {"0301": ("Oslo", "Oslo - Oslove"),
                      "5006": ("Steinkjer", "Steinkjer - Stïentje"),
                      "5536": ("Lyngen", "Lyngen - Ivgu - Yykeä")}
