"""The shipped reference snapshot: consistent with itself and with every real Klass capture."""

from itertools import pairwise
from pathlib import Path

import pytest

from atlas_crawl.geo import reference
from atlas_crawl.geo.snapshot import DATA_DIR, KLASS_TABLES, SCHEMAS, read_table


@pytest.fixture(scope="module")
def realdata(tmp_path_factory) -> Path:
    """The layout build_snapshot reads (../shared/realdata's), made of the project's own copies:
    the Klass captures of golden/ssb_klass/ and tests/data/ssb_klass_history/ (Klass 131's
    changes and versions from 1971) and FHI's table in tests/data/geo_reference/."""
    from conftest import TEST_DATA

    from atlas_crawl.run.golden import GOLDEN_DIR

    root = tmp_path_factory.mktemp("realdata")
    klass_dir = root / "ssb_klass"
    klass_dir.mkdir()
    for folder in (GOLDEN_DIR / "ssb_klass" / "responses", TEST_DATA / "ssb_klass_history"):
        for capture in folder.glob("*.json"):
            (klass_dir / capture.name).symlink_to(capture)
    (root / "geo_reference").symlink_to(TEST_DATA / "geo_reference")
    return root


def valid_today(rows):
    return {r["code"]: r["name"] for r in rows if r["valid_to"] is None}


def test_today_has_357_kommuner_and_15_fylker():
    kommuner = valid_today(read_table("kommuner"))
    fylker = valid_today(read_table("fylker"))
    assert len(kommuner) == 357
    assert sorted(fylker) == ["03", "11", "15", "18", "31", "32", "33", "34", "39", "40", "42",
                              "46", "50", "55", "56"]
    assert {code[:2] for code in kommuner} == set(fylker)


def test_every_table_has_its_header_and_sources():
    for name in SCHEMAS:
        rows = read_table(name)
        assert rows, name
    for name in ("fylker", "kommuner", "changes", "bydeler", "bydel_changes"):
        assert all(r["source"] for r in read_table(name)), name


def test_name_versions_tile_each_lifetime():
    rows = sorted(read_table("kommuner"), key=lambda r: (r["code"], r["valid_from"] or ""))
    for a, b in pairwise(rows):
        if a["code"] == b["code"]:
            assert a["valid_to"] is not None and a["valid_to"] <= b["valid_from"], (a, b)


def test_change_kinds():
    changes = read_table("changes")
    kinds = {(r["old_code"], r["new_code"], r["changed_on"]): r["kind"] for r in changes}
    assert kinds[("0101", "3001", "2020-01-01")] == "renumbered"
    assert kinds[("0104", "3002", "2020-01-01")] == "merged"
    assert kinds[("5030", "5001", "2020-01-01")] == "merged"  # 5001 already existed
    assert kinds[("1850", "1806", "2020-01-01")] == "split"
    assert kinds[("1507", "1580", "2024-01-01")] == "split"
    assert kinds[("54", "56", "2024-01-01")] == "split"
    assert {r["kind"] for r in changes} == {"renumbered", "merged", "split"}


def test_bydel_tables():
    bydeler = read_table("bydeler")
    assert all(r["code"].startswith(r["kommune"]) for r in bydeler)
    oslo = sorted(r["code"] for r in bydeler if r["kommune"] == "0301")
    assert oslo == [f"0301{n:02d}" for n in range(1, 18)] + ["030199"]
    codes = {r["code"] for r in bydeler}
    service = read_table("oslo_service_bydeler")
    assert [r["husbanken_code"] for r in service] == [f"03{n}" for n in range(11, 27)]
    assert {r["geographic_code"] for r in service if r["geographic_code"]} <= codes
    assert "030116" not in {r["geographic_code"] for r in service}  # Sentrum: no service bydel


def test_every_change_joins_two_lifetimes():
    # Reference() raises if a change row does not join exactly one old and one new lifetime
    ref = reference()
    assert len(ref.by_code["kommune"]) > 800


def test_snapshot_agrees_with_every_klass_capture(realdata):
    from atlas_crawl.geo.build_snapshot import crosscheck

    tables = {name: read_table(name) for name in KLASS_TABLES}
    disagreements = [line for line in crosscheck(tables, realdata)
                     if not line.startswith("capture gap:")]
    assert disagreements == []


def test_known_gaps_of_the_correspondence_capture(realdata):
    """Klass's 104->131 correspondence for 2018-2019 leaves out two kommuner that existed."""
    from atlas_crawl.geo.build_snapshot import crosscheck

    tables = {name: read_table(name) for name in KLASS_TABLES}
    gaps = {line.split(": ", 2)[2].split(" is in")[0] for line in crosscheck(tables, realdata)
            if line.startswith("capture gap:")}
    assert gaps == {"1515 Herøy (Møre og Romsdal)", "2014 Loppa"}


def test_build_reproduces_the_shipped_files(tmp_path, realdata):
    pytest.importorskip("openpyxl")
    from atlas_crawl.geo.build_snapshot import HEADERS, build
    from atlas_crawl.geo.snapshot import write_table

    if "build_snapshot" not in (DATA_DIR / "kommuner.csv").read_text().split("\n", 5)[1]:
        pytest.skip("the shipped snapshot was refreshed from a Klass crawl, not built")
    tables, _ = build(realdata)
    for name in KLASS_TABLES:
        write_table(name, tables[name], HEADERS[name], tmp_path)
        assert (tmp_path / f"{name}.csv").read_text() == (DATA_DIR / f"{name}.csv").read_text()


def test_codes_given_up_before_2006_come_from_klass_history():
    """Klass 131's changes (1971-2025) and versions (1971-2006) fill in what FHI's table, which
    starts in 2006, does not know: codes given up between 1971 and 2006 and where they went."""
    changes = read_table("changes")
    kinds = {(r["old_code"], r["new_code"], r["changed_on"]): r["kind"] for r in changes}
    assert kinds[("0102", "0105", "1992-01-01")] == "merged"  # Sarpsborg, Skjeberg, Tune, Varteig
    assert kinds[("0114", "0105", "1992-01-01")] == "split"  # Varteig: Sarpsborg and Rakkestad
    assert kinds[("0114", "0128", "1992-01-01")] == "split"
    assert kinds[("1214", "1159", "2002-01-01")] == "renumbered"  # Ølen moved to Rogaland
    assert kinds[("1159", "1160", "2006-01-01")] == "merged"  # ... and joined Vindafjord
    assert kinds[("0716", "0716", "2002-01-01")] == "merged"  # Våle kept its code in Re
    assert kinds[("1644", "1644", "1972-01-01")] == "merged"  # Ålen kept its code in Holtålen
    # part of 0412 Ringsaker went to 0403 Hamar in 1992; Ringsaker kept its code
    assert not [r for r in changes if r["old_code"] == "0412" and r["changed_on"] < "2020"]
    history = [r for r in changes if r["source"].startswith("klass:131 changes")]
    # Klass lists 64 changes of code before 2008; one is Ringsaker's ground (left out); two keep
    # their code in a merger (Ålen 1644 -> Holtålen 1644 in 1972, Våle 0716 -> Re 0716 in 2002)
    assert len(history) == 64 - 1 + 2
    assert min(r["changed_on"] for r in history) == "1972-01-01"
    kommuner = {(r["code"], r["valid_to"]): r for r in read_table("kommuner")}
    assert kommuner[("0102", "1992-01-01")]["name"] == "Sarpsborg"
    assert kommuner[("0102", "1992-01-01")]["valid_from"] is None  # in Klass's 1971 version
    assert kommuner[("1159", "2006-01-01")]["valid_from"] == "2002-01-01"


def test_crosscheck_reads_every_klass_version(realdata):
    """Each Klass 131 version 1971-2006 must list exactly the snapshot's kommuner on its first
    day: drop one kommune the history supplies and the cross-check names it, in every version."""
    from atlas_crawl.geo.build_snapshot import crosscheck

    tables = {name: read_table(name) for name in KLASS_TABLES}
    tables["kommuner"] = [r for r in tables["kommuner"] if r["code"] != "0102"]
    missing = [line for line in crosscheck(tables, realdata) if "0102 Sarpsborg" in line]
    days = ["1971", "1972", "1974", "1976", "1977", "1988", "1990", "1991"]
    assert missing == [f"131 version of {y}-01-01: 0102 Sarpsborg is in the capture, not in the "
                       "snapshot" for y in days]
