"""Udir statistikkbank's text export (real "Slutta i VGO"): UTF-16, tab-separated, per fylke,
no Kommunekode; read whole, schools placed in their fylke, Utlandet kept apart."""

from __future__ import annotations

import gzip
import hashlib

import pytest

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import udir
from atlas_crawl.formats.excel import LayoutError

SLUTTA = PROJECT_DIR / "tests" / "data" / "udir" / "20220505-1453_Slutta_VGO.csv.gz"
GRUNNSKOLEPOENG = (PROJECT_DIR / "golden" / "udir_statistikkbank" / "responses"
                   / "udir_statistikkbank_grunnskolepoeng_export_20220621-1350.xlsx")


def _data() -> bytes:
    return gzip.decompress(SLUTTA.read_bytes())


def test_the_file_is_the_archived_one():
    data = _data()
    assert hashlib.sha256(data).hexdigest() == (
        "a9dfaeef292576d28a7b48ce03be177711ad29e247c4ad5e5debcabf2836914d")
    assert data[:4] == b"s\x00e\x00"  # UTF-16 LE without a byte order mark


def test_every_value_is_read_by_level():
    rows = udir.parse_statistikkbank_export(_data(), file="slutta.csv")
    assert len(rows) == 6645
    assert {lvl: sum(r.level == lvl for r in rows) for lvl in ("national", "fylke", "skole")} == {
        "national": 20, "fylke": 182, "skole": 6443}
    assert {(r.trinn, r.measure) for r in rows} == {("Alle trinn", "Andel sluttet")}
    assert {r.school_year for r in rows} == {f"{y}-{(y + 1) % 100:02d}" for y in range(2011, 2021)}


def test_values_codes_notes_and_places():
    rows = udir.parse_statistikkbank_export(_data(), file="slutta.csv")
    by = {(r.level, r.fylke_code, r.organisasjonsnummer, r.abroad, r.school_year): r
          for r in rows}
    land = by[("national", None, None, False, "2018-19")]
    assert (land.name, land.value, land.brudd) == (
        "Hele landet", 3.4,
        "Behandlingen av elever med ukjent elevstatus er endret. Les mer i Om statistikken.")
    abroad = by[("national", None, None, True, "2011-12")]
    assert (abroad.name, abroad.value) == ("Utlandet", 4.4)
    assert udir.export_row(abroad)[:3] == ("U", "national", "25")
    akershus = by[("fylke", "02", None, False, "2011-12")]
    assert (akershus.name, akershus.value) == ("Akershus", 3.7)
    school = by[("skole", "42", "982759846", False, "2015-16")]
    assert (school.name, school.value, school.kommune_code) == (
        "Akademiet Kristiansand AS", 6.1, None)
    assert by[("skole", "42", "982759846", False, "2011-12")].status == "*"
    # a school of a per-fylke report is placed in its fylke; one listed under two fylker twice
    assert udir.export_row(school)[:3] == ("42/982759846", "skole", "42")
    longyear = {udir.export_row(r)[0] for r in rows if r.organisasjonsnummer == "974795655"}
    assert longyear == {"54/974795655", "19/974795655"}


def test_the_excel_export_reads_as_before():
    rows = udir.parse_statistikkbank_export(GRUNNSKOLEPOENG.read_bytes(), file="gsp.xlsx")
    assert rows and {r.trinn for r in rows} == {None}
    assert {r.level for r in rows} == {"national", "fylke", "kommune", "skole"}


def test_text_exports_in_utf8_and_garbled_ones():
    text = _data().decode("utf-16-le")
    assert len(udir.parse_statistikkbank_export(text.encode("utf-8"), file="x.csv")) == 6645
    lines = text.split("\r\n")
    mixed = ("\r\n".join(lines[:300]).encode("utf-8") + b"\r\n"
             + "\r\n".join(lines[300:]).encode("utf-8").decode("latin-1").encode("utf-8"))
    with pytest.raises(LayoutError, match=r"^x\.csv: expected text in one encoding; found line "
                                          r"302: garbled text 'Nord-TrÃ¸ndelag' \('Ã¸', UTF-8 read in another "
                                          r"encoding\)"):
        udir.parse_statistikkbank_export(mixed, file="x.csv")
