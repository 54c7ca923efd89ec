"""SSB's real KOSTRA answer of table 12134 (golden/ssb_12134/): the region dimension
KOKkommuneregion0000 the KOSTRA tables share, decoded, and its kinds of codes placed."""

from __future__ import annotations

import json

import pytest

from atlas_crawl.formats.jsonstat import decode
from atlas_crawl.geo import resolve
from atlas_crawl.run.golden import GOLDEN_DIR

ANSWER = (GOLDEN_DIR / "ssb_12134" / "responses"
          / "v2_data_12134_KOSAG110000_0301-4601-5001_2024_lang-no.json")


def test_the_real_answer_decodes_with_its_bilingual_region_labels():
    dataset = decode(ANSWER.read_bytes())
    assert dataset.table_id == "12134"
    region = next(d for d in dataset.dimensions if d.id == "KOKkommuneregion0000")
    assert dict(zip(region.codes, region.labels)) == {"0301": "Oslo - Oslove", "4601": "Bergen",
                                                      "5001": "Trondheim - Tråante"}
    assert json.loads(ANSWER.read_bytes())["value"] == [81240, 66605, 62853]


@pytest.mark.parametrize(("code", "level"), [
    ("EAK", "land"), ("EAKUO", "land"), ("EKG13", "land"), ("EKA03", "fylke")])
def test_kostra_aggregates_are_aggregates(code, level):
    place = resolve(code, 2024)
    assert (place.level, place.status) == (level, "aggregate")


def test_old_kommune_codes_in_a_kostra_table_are_placed_as_of_their_year():
    # the table's region list keeps pre-2020 codes (839 four-digit codes for 357 kommuner)
    assert resolve("1201", 2019).current == "4601"
    assert resolve("1601", 2017).current == "5001"
