"""Garbled text (UTF-8 read as ISO-8859-1 / Windows-1252 / a DOS code page, U+FFFD) is found,
and a real export made half UTF-8 is refused naming its first bad line."""

from __future__ import annotations

import pytest

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import imdi_csv
from atlas_crawl.formats.text import GarbledText, check_text, garbled
from atlas_crawl.items import Batch, Provenance
from atlas_crawl.pipelines.contract import quarantine_garbled_text

REAL = (PROJECT_DIR / "golden" / "imdi_innvandringsgrunn" / "responses"
        / "05-befolkning_innvandringsgrunn-kommune-2014.csv")
NAMES = "Askøy Båtsfjord Færder Ørland Ålesund Æsøya Unjárga Nesseby Sør-Varanger Guovdageaidnu"


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "cp865"])
def test_utf8_read_in_another_encoding_is_garbled(encoding):
    for name in NAMES.split():
        if name.isascii():
            continue
        wrong = name.encode("utf-8").decode(encoding, "replace")
        assert garbled(wrong), (name, wrong)
        assert not garbled(name)


def test_right_text_is_not_garbled():
    assert garbled(NAMES + " São Tomé, Curaçao, Zürich, Ñuñoa, 1 924, 12,2 % ¼ °C") is None
    assert garbled("Ask\ufffdy").group() == "\ufffd"


def test_check_text_names_the_first_bad_line():
    with pytest.raises(GarbledText, match=r"^x\.csv: line 3: garbled text 'AskÃ¸y' \('Ã¸', "):
        check_text("a;b\nHalden;1\n1247 AskÃ¸y;2\nKarmÃ¸y\n", "x.csv", encoding="cp1252")


def test_the_real_latin1_export_reads_and_half_utf8_is_refused():
    data = REAL.read_bytes()
    export = imdi_csv.parse_export(data, REAL.name)
    assert export.encoding == "cp1252"
    assert {c.name for c in export.cells if c.kommune_nr == "1247"} == {"Askøy"}
    lines = data.split(b"\n")
    mixed = b"\n".join(lines[:224] + [line.decode("latin-1").encode() for line in lines[224:]])
    with pytest.raises(imdi_csv.ImdiCsvError,
                       match=r"^x\.csv: line 225: garbled text 'AskÃ¸y' \('Ã¸', UTF-8 read in "
                             r"another encoding\): the file read as cp1252 mixes encodings"):
        imdi_csv.parse_export(mixed, "x.csv")


def test_a_garbled_cell_from_any_source_goes_to_quarantine():
    batch = Batch(source_id="brreg_enheter", columns=["orgnr", "navn", "ansatte"],
                  rows=[("1", "Askøy kommune", 10), ("2", "AskÃ¸y kommune", 3), ("3", None, 1)],
                  key=["orgnr"], types={"ansatte": int}, provenance=Provenance.of("x", b""))
    quarantine_garbled_text(batch)
    assert [r[0] for r in batch.rows] == ["1", "3"]
    q, = batch.quarantine
    assert (q.column, q.raw_value, q.row["orgnr"]) == ("navn", "AskÃ¸y kommune", "2")
    assert q.reason == ("row 2 of the batch, column navn: garbled text 'AskÃ¸y' (read in the "
                        "wrong encoding); not stored")
