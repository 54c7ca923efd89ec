"""Series on today's borders (`<table>_today`, atlas_crawl.publish.today) on real data: IMDi's
population per kommune 1987-2015 on each year's codes, SSB's 07459 answer for 2022 (Viken
years) and Valgresultat's stortingsvalg votes 2009-2025. Constructed cases are labelled."""

from __future__ import annotations

import copy
import csv
import gzip
import json
import sqlite3
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import pytest

from atlas_crawl.geo.harmonise import kommune_compositions
from atlas_crawl.manifests import ManifestError, all_manifests, parse_manifest
from atlas_crawl.pipelines.geography import place_column
from atlas_crawl.publish.profile import profile_table
from atlas_crawl.publish.today import create_today_views, series_today, today_view_name

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "harmonise"

BASE = {
    "upstream_id": "x", "upstream_url": "https://example.test/api", "publisher": "Testbyrå",
    "license": "CC BY 4.0", "license_url": "https://creativecommons.org/licenses/by/4.0/",
    "eu_theme": "SOCI", "methodology_version": "1", "presentation_policy": "standard",
    "periodicity": "P1Y", "upstream_title": "t", "description": "d", "attribution": "a",
    "tags": {"provider": "imdi", "topic": "demographics", "geo": "kommune", "cadence": "annual"},
    "dimensions": [{"code": "year", "meaning": "År"}],
}


def manifest(source_id: str, **fields):
    data = copy.deepcopy(BASE)
    data.update(source_id=source_id, **fields)
    return parse_manifest(Path(f"{source_id}.yml"), data)


IMDI = manifest(
    "imdi_pop", places=[{"column": "kommune_nr", "level": "kommune", "on": "year"}],
    measure_column="measure",
    measures={"alle_personer": {"additive": True}, "innvandrere_personer": {"additive": True},
              "innvandrere_prosent": {"additive": False,
                                      "ratio_of": ["innvandrere_personer", "alle_personer"],
                                      "per": 100}})


def write_table(conn, table: str, columns: list[str], rows: list[tuple], key: list[str],
                place: str, on: str) -> list:
    """Store rows the way the pipeline does: the geography step adds the place columns and
    quarantines what it cannot place (returned)."""
    batch = SimpleNamespace(columns=list(columns), rows=[tuple(r) for r in rows], quarantine=[])
    place_column(batch, place, on=on)
    cols = ", ".join(f'"{c}"' for c in batch.columns)
    conn.execute(f'CREATE TABLE "{table}" ({cols}, PRIMARY KEY ({", ".join(key)}))')
    conn.executemany(f'INSERT INTO "{table}" VALUES ({",".join("?" * len(batch.columns))})',
                     batch.rows)
    return batch.quarantine


def imdi_rows() -> list[tuple]:
    """The export's cells; a code that did not exist in a year (0 persons, "." share) is not a
    row of that year."""
    with gzip.open(DATA / "imdi_befolkning_1987_2015.csv.gz", "rt", encoding="utf-8") as fh:
        cells = list(csv.DictReader(fh))
    absent = {(c["year"], c["kommune_nr"]) for c in cells
              if c["gruppe"] == "innvandrere" and c["enhet"] == "prosent" and c["status"] == "."}
    rows = []
    for c in cells:
        if (c["year"], c["kommune_nr"]) in absent:
            continue
        value = float(c["value"]) if c["value"] else None
        rows.append((int(c["year"]), c["kommune_nr"], f"{c['gruppe']}_{c['enhet']}", value,
                     c["status"] or None))
    return rows


@pytest.fixture(scope="module")
def imdi_db():
    conn = sqlite3.connect(":memory:")
    rows = imdi_rows()
    quarantined = write_table(conn, "imdi_pop", ["year", "kommune_nr", "measure", "value",
                                                 "status"], rows,
                              ["year", "kommune_nr", "measure"], "kommune_nr", "year")
    made = create_today_views(conn, [profile_table(conn, "imdi_pop", IMDI)])
    assert made == ["imdi_pop_today"]
    raw = {(y, k.zfill(4), m): v for y, k, m, v, _ in rows}
    yield SimpleNamespace(conn=conn, raw=raw, quarantined=quarantined)
    conn.close()


def by_year(conn, table, code, measure):
    return {r["year"]: r for r in series_today(conn, table, code, measure=measure)}


def test_kristiansand_is_the_sum_of_three_kommuner_2006_to_2015(imdi_db):
    series = by_year(imdi_db.conn, "imdi_pop", "4204", "alle_personer")
    raw = imdi_db.raw
    for year in range(2006, 2016):
        parts = [raw[(year, k, "alle_personer")] for k in ("1001", "1017", "1018")]
        assert series[year]["value"] == sum(parts)
        assert series[year]["how"] == "sum of former kommuner"
        assert series[year]["parts"] == "1001+1017+1018"
    assert series[2015]["value"] == 87446 + 6354 + 11217  # IMDi's 2015 file, three rows
    assert series[2015]["name"] == "Kristiansand"


def test_years_before_the_history_is_complete_give_the_reason(imdi_db):
    series = by_year(imdi_db.conn, "imdi_pop", "4204", "alle_personer")
    assert min(series) == 1987
    for year in range(1987, 2006):
        assert series[year]["value"] is None
        assert series[year]["how"] == "not comparable"
        assert series[year]["reason"].startswith("before 2006")


def test_alesund_and_haram_before_2020(imdi_db):
    raw = imdi_db.raw
    alesund = by_year(imdi_db.conn, "imdi_pop", "1508", "alle_personer")[2015]
    assert alesund["parts"] == "1504+1523+1529+1546"
    assert alesund["value"] == sum(raw[(2015, k, "alle_personer")]
                                   for k in ("1504", "1523", "1529", "1546"))
    haram = by_year(imdi_db.conn, "imdi_pop", "1580", "alle_personer")[2015]
    assert (haram["how"], haram["parts"]) == ("as published", "1534")
    assert haram["value"] == raw[(2015, "1534", "alle_personer")]


def test_tysfjord_split_leaves_narvik_without_a_value(imdi_db):
    narvik = by_year(imdi_db.conn, "imdi_pop", "1806", "alle_personer")[2015]
    assert narvik["value"] is None and narvik["how"] == "not comparable"
    assert narvik["reason"].startswith("split in 2020: Tysfjord")


def test_the_share_is_recomputed_from_its_parts(imdi_db):
    raw = imdi_db.raw
    share = by_year(imdi_db.conn, "imdi_pop", "4204", "innvandrere_prosent")[2015]
    innv = sum(raw[(2015, k, "innvandrere_personer")] for k in ("1001", "1017", "1018"))
    alle = sum(raw[(2015, k, "alle_personer")] for k in ("1001", "1017", "1018"))
    assert share["how"] == "recomputed from parts"
    assert share["value"] == pytest.approx(100 * innv / alle)
    # an unchanged kommune keeps IMDi's own share, and it is the same ratio
    oslo = by_year(imdi_db.conn, "imdi_pop", "0301", "innvandrere_prosent")[2015]
    assert oslo["how"] == "as published"
    assert oslo["value"] == raw[(2015, "0301", "innvandrere_prosent")]
    assert oslo["value"] == pytest.approx(100 * raw[(2015, "0301", "innvandrere_personer")]
                                          / raw[(2015, "0301", "alle_personer")], abs=1e-6)


def test_whole_series_nothing_lost_nothing_invented(imdi_db):
    """Every year 2006-2015: today's kommuner with a value plus the kommuner of that year behind
    the ones without (splits) hold exactly the persons of all kommune rows of that year."""
    conn = imdi_db.conn
    placed = dict(conn.execute(
        "SELECT year, sum(value) FROM imdi_pop WHERE kommune_nr_level = 'kommune' "
        "AND measure = 'alle_personer' GROUP BY year"))
    rows = conn.execute("SELECT year, code, value, how, parts FROM imdi_pop_today "
                        "WHERE level = 'kommune' AND measure = 'alle_personer'").fetchall()
    per_year = defaultdict(list)
    for row in rows:
        per_year[row[0]].append(row)
    for year in range(2006, 2016):
        with_value = [r for r in per_year[year] if r[2] is not None]
        without = [r for r in per_year[year] if r[2] is None]
        assert len(with_value) == 352  # 357 today, less Narvik, Hamarøy, Heim, Hitra, Orkland
        assert {r[1] for r in without} == {"1806", "1875", "5055", "5056", "5059"}
        behind = {p for r in without for p in r[4].split("+")}
        held = sum(imdi_db.raw[(year, p, "alle_personer")] for p in behind)
        assert sum(r[2] for r in with_value) + held == placed[year]
    assert set(per_year) == set(range(1987, 2016))
    # before 2006 nothing is claimed
    assert all(r[2] is None for year in range(1987, 2006) for r in per_year[year])


def test_fylke_computed_from_todays_kommuner(imdi_db):
    raw = imdi_db.raw
    ostfold = by_year(imdi_db.conn, "imdi_pop", "31", "alle_personer")[2015]
    # today's Østfold = Østfold of 2015 without Rømskog (0121, now in Aurskog-Høland, Akershus)
    expected = sum(v for (y, k, m), v in raw.items()
                   if y == 2015 and m == "alle_personer" and k[:2] == "01" and k != "0121"
                   and k not in ("0199", "0100"))
    assert (ostfold["how"], ostfold["level"]) == ("computed", "fylke")
    assert ostfold["value"] == expected
    assert ostfold["parts"].startswith("3101+3103+3105")
    # Nordland has Narvik and Hamarøy, whose 2015 kommuner were split: no value, and why
    nordland = by_year(imdi_db.conn, "imdi_pop", "18", "alle_personer")[2015]
    assert nordland["value"] is None
    assert nordland["reason"] == "no value on today's borders for 2 of its 41 kommuner"
    # a share is not computed for a fylke
    share = by_year(imdi_db.conn, "imdi_pop", "31", "innvandrere_prosent")[2015]
    assert share["value"] is None and share["reason"].startswith("not additive")


# -- SSB 07459, 2022: the Viken years ----------------------------------------------------------------

@pytest.fixture(scope="module")
def ssb_db():
    conn = sqlite3.connect(":memory:")
    rows = [json.loads(line) for line in
            (ROOT / "golden" / "ssb_07459" / "expected" / "ssb_07459.jsonl").open()]
    cols = ["region", "contentscode", "tid", "value", "status"]
    write_table(conn, "ssb_07459", cols, [[r[c] for c in cols] for r in rows],
                ["region", "contentscode", "tid"], "region", "tid")
    create_today_views(conn, [profile_table(conn, "ssb_07459", all_manifests()["ssb_07459"])])
    yield SimpleNamespace(conn=conn, rows=rows)
    conn.close()


def test_viken_2022_gives_ostfold_akershus_buskerud(ssb_db):
    viken = sum(r["value"] for r in ssb_db.rows if r["region_canonical"].startswith("30"))
    fylker = {c: series_today(ssb_db.conn, "ssb_07459", c)[0] for c in ("31", "32", "33")}
    assert all(f["how"] == "computed" for f in fylker.values())
    assert sum(f["value"] for f in fylker.values()) == viken
    assert fylker["31"]["value"] == 304754  # the 12 kommuner of today's Østfold in 2022
    halden = series_today(ssb_db.conn, "ssb_07459", "3101")[0]
    assert (halden["value"], halden["parts"], halden["how"]) == (31444, "3001", "as published")
    alesund = series_today(ssb_db.conn, "ssb_07459", "1508")[0]
    assert alesund["value"] is None
    assert alesund["reason"] == "split in 2024: Ålesund → Ålesund and Haram"


def test_source_on_todays_borders_is_preferred_and_agrees(ssb_db):
    """Constructed: SSB's tables with the newest kommune list give 2022 under 3101 too (the
    value copied from the real 3001 row). The view takes the source's own row, and it agrees
    with the one the real answer gives from 3001."""
    real = next(r for r in ssb_db.rows if r["region_canonical"] == "3001")["value"]
    conn = sqlite3.connect(":memory:")
    write_table(conn, "ssb_07459", ["region", "contentscode", "tid", "value", "status"],
                [("3001", "Personer1", "2022", real, None),
                 ("3101", "Personer1", "2022", real, None)],  # constructed
                ["region", "contentscode", "tid"], "region", "tid")
    create_today_views(conn, [profile_table(conn, "ssb_07459", all_manifests()["ssb_07459"])])
    [halden] = series_today(conn, "ssb_07459", "3101")
    assert (halden["how"], halden["parts"]) == ("as published on today's borders", "3101")
    [from_history] = series_today(ssb_db.conn, "ssb_07459", "3101")
    assert from_history["how"] == "as published" and from_history["parts"] == "3001"
    assert halden["value"] == from_history["value"] == 31444


# -- Valgresultat: votes 2009, 2013, 2021, 2025 ------------------------------------------------------

@pytest.fixture(scope="module")
def valg_db():
    conn = sqlite3.connect(":memory:")
    cols = ["valgaar", "valgtype", "nr", "navn", "stemmeberettigede", "stemmer", "forkastede",
            "frammote_prosent"]
    rows = []
    with (DATA / "valgresultat_st_kommune.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.append((int(r["valgaar"]), r["valgtype"], r["nr"], r["navn"],
                         int(r["stemmeberettigede"]), int(r["stemmer"]), int(r["forkastede"]),
                         float(r["frammote_prosent"])))
    write_table(conn, "valgresultat", cols, rows, ["valgaar", "valgtype", "nr"], "nr", "valgaar")
    create_today_views(conn, [profile_table(conn, "valgresultat",
                                            all_manifests()["valgresultat"])])
    raw = {(r[0], r[2]): dict(zip(cols, r, strict=True)) for r in rows}
    yield SimpleNamespace(conn=conn, raw=raw)
    conn.close()


def test_votes_add_up_and_turnout_is_recomputed(valg_db):
    raw = valg_db.raw
    votes = by_year(valg_db.conn, "valgresultat", "4204", "stemmer")
    for year in (2009, 2013):
        assert votes[year]["value"] == sum(raw[(year, k)]["stemmer"]
                                           for k in ("1001", "1017", "1018"))
        assert votes[year]["how"] == "sum of former kommuner"
    assert votes[2021]["how"] == votes[2025]["how"] == "as published"
    assert votes[2025]["value"] == raw[(2025, "4204")]["stemmer"]
    turnout = by_year(valg_db.conn, "valgresultat", "4204", "frammote_prosent")
    entitled = sum(raw[(2013, k)]["stemmeberettigede"] for k in ("1001", "1017", "1018"))
    assert turnout[2013]["how"] == "recomputed from parts"
    assert turnout[2013]["value"] == pytest.approx(100 * votes[2013]["value"] / entitled)
    assert turnout[2025]["value"] == raw[(2025, "4204")]["frammote_prosent"]
    seats = by_year(valg_db.conn, "valgresultat", "4204", "mandater")
    assert seats == {}  # not a column of this extract: no rows, nothing made up


def test_votes_2021_alesund_split_and_utsira_missing(valg_db):
    alesund = by_year(valg_db.conn, "valgresultat", "1508", "stemmer")
    assert alesund[2021]["value"] is None
    assert alesund[2021]["reason"] == "split in 2024: Ålesund → Ålesund and Haram"
    assert alesund[2013]["how"] == "sum of former kommuner"
    # the archive has no 2021 answer for Utsira: Rogaland cannot be computed that year
    rogaland = by_year(valg_db.conn, "valgresultat", "11", "stemmer")
    assert rogaland[2021]["value"] is None
    assert rogaland[2021]["reason"] == "kommune not published (22 of 23)"
    assert rogaland[2025]["how"] == "computed"
    # Viken 2021: today's Buskerud from its kommuner
    buskerud = by_year(valg_db.conn, "valgresultat", "33", "stemmer")[2021]
    assert buskerud["how"] == "computed"
    assert buskerud["value"] == sum(
        valg_db.raw[(2021, p)]["stemmer"]
        for c in kommune_compositions(2021) if c.today.startswith("33") for p in c.parts)


# -- constructed: a suppressed part -------------------------------------------------------------------

def test_a_suppressed_part_gives_no_sum():
    """Constructed values: Songdalen suppressed in 2015."""
    conn = sqlite3.connect(":memory:")
    write_table(conn, "imdi_pop", ["year", "kommune_nr", "measure", "value", "status"],
                [(2015, "1001", "innvandrere_personer", 9000.0, None),
                 (2015, "1017", "innvandrere_personer", None, ":"),
                 (2015, "1018", "innvandrere_personer", 700.0, None)],
                ["year", "kommune_nr", "measure"], "kommune_nr", "year")
    create_today_views(conn, [profile_table(conn, "imdi_pop", IMDI)])
    [row] = series_today(conn, "imdi_pop", "4204")
    assert row["value"] is None
    assert (row["how"], row["reason"]) == ("not comparable", "part suppressed: 1017 :")
    [fylke] = series_today(conn, "imdi_pop", "42")
    assert fylke["value"] is None


def test_no_view_for_a_table_without_kommune_rows():
    conn = sqlite3.connect(":memory:")
    write_table(conn, "imdi_pop", ["year", "kommune_nr", "measure", "value", "status"],
                [(2015, "0", "alle_personer", 5e6, None)], ["year", "kommune_nr", "measure"],
                "kommune_nr", "year")
    prof = profile_table(conn, "imdi_pop", manifest(
        "imdi_pop", places=[{"column": "kommune_nr", "on": "year"}]))
    assert create_today_views(conn, [prof]) == []
    with pytest.raises(LookupError, match="no view imdi_pop_today"):
        series_today(conn, "imdi_pop", "0301")
    assert today_view_name("x") == "x_today"


# -- the manifest keys ------------------------------------------------------------------------------

@pytest.mark.parametrize("measures, problem", [
    ({"a": {"additive": "yes"}}, "measures.a.additive: must be true or false"),
    ({"a": {"additive": False, "ratio_of": ["b"]}}, "measures.a.ratio_of: must be [numerator"),
    ({"a": {"additive": False, "ratio_of": ["b", "c"]}}, "'b' must be a measure of the same"),
    ({"a": {"additive": True, "ratio_of": ["b", "c"]}}, "a ratio is not additive"),
    ({"a": {"additive": True, "per": 100}}, "measures.a.per: only applies with ratio_of"),
    (["a"], "measures: must be a mapping"),
])
def test_bad_measure_declarations_name_the_field(measures, problem):
    with pytest.raises(ManifestError) as exc:
        manifest("bad", measures=measures)
    assert "bad.yml: field 'measures" in str(exc.value)
    assert problem.split(": ", 1)[-1] in str(exc.value)


def test_other_keys_of_a_measure_are_left_to_their_readers():
    m = manifest("ok", measures={"a": {"additive": True, "better": "higher"}})
    assert m.additivity["a"].additive is True
    assert m.extra["measures"]["a"]["better"] == "higher"


def test_the_imdi_spiders_own_rows_give_kristiansand_on_todays_borders():
    """The stored rows of the imdi_befolkning_hovedgruppe golden case (real exports 1987-2015,
    as the spider writes them) with the source's own manifest."""
    rows = [json.loads(line) for line in (ROOT / "golden" / "imdi_befolkning_hovedgruppe" /
                                          "expected" / "imdi_befolkning_hovedgruppe.jsonl").open()]
    cols = ["year", "periode", "inndeling", "region", "region_navn", "variabel", "nedbrytning",
            "enhet", "value", "status"]
    conn = sqlite3.connect(":memory:")
    write_table(conn, "imdi_befolkning_hovedgruppe", cols, [[r[c] for c in cols] for r in rows],
                ["year", "region", "variabel", "nedbrytning", "enhet"], "region", "year")
    manifest_ = all_manifests()["imdi_befolkning_hovedgruppe"]
    assert create_today_views(conn, [profile_table(conn, "imdi_befolkning_hovedgruppe",
                                                   manifest_)]) == [
        "imdi_befolkning_hovedgruppe_today"]
    series = {r["year"]: r for r in series_today(
        conn, "imdi_befolkning_hovedgruppe", "4204", measure="personer",
        variabel="innvkat_5.alle", nedbrytning="kjonn.alle")}
    assert series[2015]["value"] == 87446 + 6354 + 11217
    assert series[2015]["how"] == "sum of former kommuner"
    assert series[1987]["value"] is None and series[1987]["reason"].startswith("before 2006")
