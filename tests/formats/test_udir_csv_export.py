"""Udir statistikkbank's CSV export, on a real one (golden/udir_statistikkbank_sluttet_vgo/):
UTF-16 without a byte-order mark, `sep=` line, upper secondary layout with no kommune level."""

from __future__ import annotations

import gzip

import pytest

from atlas_crawl.formats import udir
from atlas_crawl.formats.excel import LayoutError
from atlas_crawl.run.golden import GOLDEN_DIR

EXPORT = GOLDEN_DIR / "udir_statistikkbank_sluttet_vgo" / "responses" / \
    "20220505-1453_Slutta_VGO.csv.gz"


@pytest.fixture(scope="module")
def rows():
    return udir.parse_statistikkbank_export(gzip.decompress(EXPORT.read_bytes()),
                                            file=EXPORT.name)


def test_the_bytes_are_utf16_without_a_bom_and_start_with_sep():
    data = gzip.decompress(EXPORT.read_bytes())
    assert data[:10] == "sep=\t\n".encode("utf-16-le")[:10]
    rows, _sheet = udir.export_rows_of(data, file=EXPORT.name)
    assert rows[0][:3] == ("EnhetNivaa", "Nasjonaltkode", "Fylkekode")


def test_national_fylke_and_school_values(rows):
    national = {r.school_year: r.value for r in rows if r.level == "national" and not r.abroad}
    assert national["2011-12"] == 4.2 and national["2020-21"] == 3.0 and len(national) == 10
    agder = {r.school_year: r.value for r in rows if r.level == "fylke" and r.fylke_code == "42"}
    assert agder == {"2019-20": 2.9, "2020-21": 2.9}
    assert {r.measure for r in rows} == {"Andel sluttet"}
    assert {r.kommune_code for r in rows} == {None}


def test_suppressed_breaks_and_schools_abroad(rows):
    akademiet = [r for r in rows if r.organisasjonsnummer == "982759846" and r.fylke_code == "42"]
    assert {r.status for r in akademiet} >= {"*"}
    assert [r.value for r in akademiet if r.school_year == "2015-16"] == [6.1]
    brudd = {r.brudd for r in rows if r.level == "national" and r.school_year == "2018-19"}
    assert brudd == {("Behandlingen av elever med ukjent elevstatus er endret. Les mer i Om "
                     "statistikken.")}
    abroad = [r for r in rows if r.organisasjonsnummer == "U90099012"]
    assert abroad and {r.fylke_code for r in abroad} == {"25"}
    # "Utlandet" beside "Hele landet" is a unit of its own (placed as Udir's fylke 25)
    assert {(r.name, r.abroad) for r in rows if r.level == "national"} == {
        ("Hele landet", False), ("Utlandet", True)}


def test_export_rows_place_a_school_in_its_fylke(rows):
    school = next(r for r in rows if r.level == "skole" and r.fylke_code == "42")
    row = dict(zip(udir.EXPORT_COLUMNS, udir.export_row(school)))
    assert row["place_code"] == "42" and row["unit_path"].startswith("42/")


def test_bytes_in_no_known_encoding_are_refused_in_one_line():
    with pytest.raises(LayoutError, match="UTF-16 or UTF-8"):
        udir.parse_statistikkbank_export(b"\x80\x81\x82EnhetNivaa", file="odd.csv")
