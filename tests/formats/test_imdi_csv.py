"""IMDi's CSV exports: encoding detection, the header block, numbers and suppression, on the
real exports in golden/imdi_innvandringsgrunn/ and golden/imdi_landbakgrunn/."""

from __future__ import annotations

import sqlite3

import pytest
import pytest_twisted
from conftest import crawl_file

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import imdi_csv
from atlas_crawl.run.golden import crawl, crawl_settings, runs

INNV = (PROJECT_DIR / "golden" / "imdi_innvandringsgrunn" / "responses"
        / "05-befolkning_innvandringsgrunn-kommune-2014.csv")
LAND = (PROJECT_DIR / "golden" / "imdi_landbakgrunn" / "responses"
        / "03-befolkning_opprinnelsesland-kommune-2014.csv")


def _cells(export, nr: str, **dims) -> list:
    return [c for c in export.cells if c.kommune_nr == nr
            and all(c.dimensions.get(k) == v for k, v in dims.items())]


def test_innvandringsgrunn_export_is_read_as_latin1_with_its_header_block():
    export = imdi_csv.parse_export(INNV.read_bytes())
    assert export.encoding == "cp1252"  # ISO-8859-1 bytes; cp1252 reads æøå the same
    assert export.measure == "innvgrunn_5"
    assert len({c.kommune_nr for c in export.cells}) == 428
    halden = {(c.dimensions["innvgrunn_5"], c.dimensions["kjonn"]): c.value
              for c in _cells(export, "101")}
    # "2 098" (thousands space) beside 1091 (none) in the same row
    assert halden[("alle", "alle")] == 2098 and halden[("flukt", "alle")] == 1091
    assert halden[("alle", "1")] + halden[("alle", "0")] == 2098
    names = {c.kommune_nr: c.name for c in export.cells}
    assert names["2030"] == "Sør-Varanger" and names["2027"] == "Unjárga Nesseby"


def test_landbakgrunn_export_is_a_dos_code_page_with_suppression():
    data = LAND.read_bytes()
    assert b"B\x86tsfjord" in data  # å in a DOS code page, not in latin-1
    export = imdi_csv.parse_export(data)
    assert export.encoding == "cp865"
    assert {c.kommune_nr: c.name for c in export.cells}["2028"] == "Båtsfjord"
    halden = {c.dimensions["landbakgrunn"]: (c.value, c.status) for c in _cells(export, "101")}
    assert halden["001"] == (2985, None) and halden["102"] == (None, ":")
    oslo = {c.dimensions["landbakgrunn"]: c.value for c in _cells(export, "301")}
    assert oslo["001"] == 151722 == sum(v or 0 for k, v in oslo.items() if k != "001")
    assert sum(c.status == ":" for c in export.cells) == 11541


def test_utf8_is_taken_when_the_bytes_are_utf8():
    assert imdi_csv.decode("Kjønn;Båtsfjord".encode()) == ("Kjønn;Båtsfjord", "utf-8")


def test_a_broken_row_is_named():
    head = "Kommune nr & navn;kommune_nr;navn;x.a;x.b\r\n;;;enhet.personer;enhet.personer\r\n"
    with pytest.raises(imdi_csv.ImdiCsvError, match=r"f\.csv: line 4: 4 fields, the header has 5"):
        imdi_csv.parse_export((head + "0101 Halden;101;Halden;1;2\r\n0104 Moss;104;Moss;3\r\n"
                               ).encode(), "f.csv")
    with pytest.raises(imdi_csv.ImdiCsvError, match=r"line 1, column 2: expected 'kommune_nr'"):
        imdi_csv.parse_export(b"a;b;c;x.a\r\n0101;101;Halden;1\r\n", "f.csv")


def test_year_comes_from_the_file_name():
    assert imdi_csv.year_from_name(INNV.name) == 2014
    assert imdi_csv.year_from_name("01-befolkning_hovedgruppe-kommune-1986_2015.csv") is None


@pytest_twisted.ensureDeferred
async def test_whole_export_is_placed_with_its_year(tmp_path):
    db = tmp_path / "atlas.db"
    run = await crawl_file(db, "imdi_innvandringsgrunn", INNV)
    assert (run["status"], run["rows_received"], run["rows_quarantined"]) == ("ok", 6420, 0)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute(
            "SELECT kommune_nr_canonical, kommune_nr_current, value FROM imdi_innvandringsgrunn "
            "WHERE kommune_nr='101' AND innvandringsgrunn='alle' AND kjonn='alle'"
        ).fetchall() == [("0101", "3101", 2098)]
    finally:
        conn.close()


@pytest_twisted.ensureDeferred
async def test_live_crawl_says_it_is_file_only(tmp_path, caplog):
    db = tmp_path / "atlas.db"
    await crawl("imdi_landbakgrunn", crawl_settings(db, replay=False))
    assert runs(db)[-1]["status"] != "ok"
    assert "imdi_landbakgrunn is file-only" in caplog.text
