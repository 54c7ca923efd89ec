"""Klass response parsers, on the real captures in golden/ssb_klass/responses/ (from realdata/ssb_klass)."""

import json

import pytest

from atlas_crawl.formats import klass
from atlas_crawl.run.golden import GOLDEN_DIR

KLASS = GOLDEN_DIR / "ssb_klass" / "responses"


def body(name: str) -> bytes:
    return (KLASS / name).read_bytes()


def test_codes_range_2024_kommuner():
    rows = klass.parse_codes(body("klass_131_codes_from2024-01-01.json"))
    assert len(rows) == 358
    by_code = {r["code"]: r for r in rows}
    assert by_code["0301"] == {
        "code": "0301", "parent_code": None, "level": "1", "name": "Oslo", "short_name": None,
        "valid_from": "2024-01-01", "valid_to": None,
        "notes": "I 1980 ble del av 0231 Skedsmo overført til 0301 Oslo. I 1984 ble deler av "
                 "0233 Nittedal overført til 0301 Oslo og motsatt.",
    }
    assert by_code["5503"]["name"] == "Harstad - Hárstták"
    assert by_code["9999"]["name"] == "Uoppgitt"
    assert set(klass.CODE_COLUMNS) == set(by_code["0301"])


def test_codes_range_clipped_end_is_open():
    rows = klass.parse_codes(body("klass_104_codes_from2018-01-01_to2020-01-02.json"),
                             requested_to="2020-01-02")
    got = {(r["code"], r["name"]): (r["valid_from"], r["valid_to"]) for r in rows}
    assert got[("01", "Østfold")] == ("2018-01-01", "2020-01-01")
    assert got[("03", "Oslo")] == ("2018-01-01", None)  # still valid when the range ended
    assert got[("18", "Nordland")] == ("2018-01-01", "2020-01-01")
    assert got[("18", "Nordland - Nordlánnda")] == ("2020-01-01", None)
    assert got[("30", "Viken")] == ("2020-01-01", None)
    # without requested_to the clipped end stays as Klass wrote it
    raw = klass.parse_codes(body("klass_104_codes_from2018-01-01_to2020-01-02.json"))
    assert {r["valid_to"] for r in raw if r["code"] == "03"} == {"2020-01-02"}


def test_codes_at():
    rows = klass.parse_codes_at(body("klass_131_codesAt_2023-03-02.json"), "2023-03-02")
    assert len(rows) == 357
    assert {(r["valid_from"], r["valid_to"]) for r in rows} == {("2023-03-02", None)}
    assert {r["code"]: r["name"] for r in rows}["3001"] == "Halden"


def test_changes_2020_county_reform():
    rows = klass.parse_changes(body("klass_104_changes_from2019-01-01_to2020-01-02.json"))
    assert len(rows) == 13
    assert rows[0] == {"changed_on": "2020-01-01", "old_code": "01", "old_name": "Østfold",
                       "new_code": "30", "new_name": "Viken"}
    pairs = {(r["old_code"], r["new_code"]) for r in rows}
    assert {("19", "54"), ("20", "54"), ("12", "46"), ("14", "46")} <= pairs


def test_corresponds_fylke_to_kommune():
    rows = klass.parse_corresponds(
        body("klass_104_corresponds_target131_from2018-01-01_to2020-01-02.json"),
        requested_to="2020-01-02")
    assert len(rows) == 740
    rindal = [r for r in rows if r["target_name"] == "Rindal"]
    assert [(r["source_code"], r["target_code"], r["valid_from"], r["valid_to"]) for r in
            sorted(rindal, key=lambda r: r["valid_from"])] == [
        ("15", "1567", "2018-01-01", "2019-01-01"),
        ("50", "5061", "2019-01-01", "2020-01-01"),
        ("50", "5061", "2020-01-01", None),  # a new item because fylke 50 was renamed in 2020
    ]
    oslo = [r for r in rows if r["target_code"] == "0301"]
    assert [(r["valid_from"], r["valid_to"]) for r in oslo] == [("2018-01-01", None)]


def test_change_windows_are_year_by_year_with_exclusive_to():
    assert klass.change_windows(2019, 2021) == [
        ("2018-01-01", "2019-01-02"), ("2019-01-01", "2020-01-02"), ("2020-01-01", "2021-01-02"),
    ]


def test_dedupe_changes_keeps_first():
    a = {"changed_on": "2020-01-01", "old_code": "01", "old_name": "Østfold",
         "new_code": "30", "new_name": "Viken"}
    assert klass.dedupe_changes([a, dict(a), {**a, "old_code": "02"}]) == [a, {**a, "old_code": "02"}]


def test_wrong_shape_names_the_key():
    with pytest.raises(klass.KlassFormatError, match="codeChanges"):
        klass.parse_changes(json.dumps({"codes": []}))


def test_version_1988_and_changes_from_1971():
    """A Klass 131 version (every code valid over the whole version) and the changes since 1971,
    from the captures in tests/data/ssb_klass_history/."""
    from conftest import TEST_DATA

    history = TEST_DATA / "ssb_klass_history"
    name, rows = klass.parse_version(
        (history / "klass_131_version_Kommuneinndeling_1988.json").read_bytes())
    assert name == "Kommuneinndeling 1988"
    assert len(rows) == 449  # 448 kommuner and 9999
    assert {(r["valid_from"], r["valid_to"]) for r in rows} == {("1988-01-01", "1990-01-01")}
    assert {r["code"]: r["name"] for r in rows}["0102"] == "Sarpsborg"
    changes = klass.parse_changes(
        (history / "klass_131_changes_from1971-01-01_to2025-01-02.json").read_bytes())
    assert {"changed_on": "1992-01-01", "old_code": "0114", "old_name": "Varteig",
            "new_code": "0128", "new_name": "Rakkestad"} in changes
    borre = next(r for r in changes if r["changed_on"] == "2003-01-01")
    assert borre["old_name"] == "Borre"  # Klass wrote " Borre " with spaces
    with pytest.raises(klass.KlassFormatError, match="validFrom"):
        klass.parse_version(json.dumps({"codes": []}))
