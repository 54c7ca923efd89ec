"""Brreg parsing without Scrapy: the streaming array reader and the record/feed/ICNPO mappings."""

import gzip
import io
import json

import pytest
from conftest import load_builder

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import brreg
from atlas_crawl.formats.jsonstream import JsonStreamError, iter_array, open_text

ROOT = PROJECT_DIR
SEARCH_PAGE = ROOT / "golden/brreg_enheter_search_page/responses/enheter_search_navn-Sesam_size2_page0.json"


build = load_builder(PROJECT_DIR / "tools" / "build_brreg_fixtures.py")


class Trickle(io.RawIOBase):
    """Hands out a few bytes per read, so multi-byte UTF-8 characters and gzip blocks are split
    at every possible place."""

    def __init__(self, data: bytes, step: int):
        self.data, self.step, self.pos = data, step, 0

    def readable(self):
        return True

    def readinto(self, b):
        chunk = self.data[self.pos:self.pos + min(self.step, len(b))]
        b[:len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


def bulk_text(records) -> str:
    return build.jackson(records) + "\n"


# --------------------------------------------------------------------------------------------
# jsonstream


@pytest.mark.parametrize("step,chunk", [(1, 3), (7, 50), (4096, 1 << 20)])
def test_every_element_comes_back_with_its_exact_text(step, chunk):
    records = build.bulk_enheter()
    text = bulk_text(records)
    stream = open_text(io.BufferedReader(Trickle(gzip.compress(text.encode()), step)))
    items = list(iter_array(stream, chunk_chars=chunk))
    assert [value for _, value in items] == records
    # The raw text is a verbatim slice of the file: Jackson's " : ", the indentation, the
    # escaped quote, backslash and newline, and the Sámi letters all as sent.
    for raw, value in items:
        assert raw in text
        assert raw.startswith("{\n  \"organisasjonsnummer\" : ")
    korps = items[1][0]
    assert '"navn" : "KORPS | \\"LYDEN\\" AV FROGNER \\\\ MAJORSTUA"' in korps
    assert '"aktivitet" : [ "Drive skolekorps for barn\\nog unge i bydelen." ]' in korps
    assert "HÁRSTTÁK SÁMI SEARVI" in items[2][0]


def test_crlf_line_ends_and_a_bom_are_kept_or_dropped_as_they_should():
    text = "\ufeff" + bulk_text(build.bulk_enheter()[:2]).replace("\n", "\r\n")
    items = list(iter_array(open_text(io.BytesIO(text.encode("utf-8"))), chunk_chars=64))
    assert len(items) == 2
    assert "\r\n" in items[0][0] and items[0][0] in text


def test_a_truncated_download_fails_naming_where():
    text = bulk_text(build.bulk_enheter())
    cut = gzip.compress(text.encode())[:-200]
    with pytest.raises((JsonStreamError, EOFError)) as info:
        list(iter_array(open_text(io.BytesIO(cut)), name="lastned.gz"))
    if isinstance(info.value, JsonStreamError):
        assert "lastned.gz" in str(info.value)
    # Truncated inside the JSON (a complete gzip of half a document):
    half = gzip.compress(text[: len(text) // 2].encode())
    with pytest.raises(JsonStreamError, match=r"lastned\.gz: the stream ends inside an element"):
        list(iter_array(open_text(io.BytesIO(half)), name="lastned.gz"))


def test_malformed_json_names_the_character_offset_without_reading_on():
    text = '[ {"a" : 1}, {"a" : 2,, "b" : 3} ]'
    with pytest.raises(JsonStreamError, match=r"invalid JSON at character 22: Expecting property name"):
        list(iter_array(open_text(io.BytesIO(text.encode()))))


def test_array_under_a_path_and_a_missing_path():
    page = SEARCH_PAGE.read_bytes()
    found = []
    items = list(iter_array(open_text(io.BytesIO(page)), ("_embedded", "enheter"), found=found))
    assert [v["organisasjonsnummer"] for _, v in items] == ["976030788", "971497017"]
    assert found == [True]
    assert page.decode().count(items[1][0]) == 1
    empty = b'{"_links":{"self":{"href":"x"}},"page":{"size":20,"totalElements":0}}'
    found = []
    assert list(iter_array(open_text(io.BytesIO(empty)), ("_embedded", "enheter"),
                           found=found)) == []
    assert found == []


def test_gzip_inside_gzip_is_undone():
    text = bulk_text(build.bulk_enheter()[:1])
    twice = gzip.compress(gzip.compress(text.encode()))
    items = list(iter_array(open_text(io.BytesIO(twice))))
    assert items[0][1]["navn"] == "FJORDLYS BARNEHAGE SA"


# --------------------------------------------------------------------------------------------
# records


def test_a_real_search_page_becomes_rows_with_the_analyst_fields():
    records = list(brreg.iter_records(io.BytesIO(SEARCH_PAGE.read_bytes()), brreg.ENHET))
    rows = [dict(zip(brreg.ENHET.columns, brreg.ENHET.row(raw, rec))) for raw, rec in records]
    sesam, barnehage = rows
    assert sesam["organisasjonsnummer"] == "976030788"
    assert sesam["navn"] == "SESAM AS"
    assert sesam["organisasjonsform_kode"] == "AS"
    assert sesam["naeringskode1_kode"] == "56.101"
    assert sesam["antallAnsatte"] == 10
    assert sesam["forretningsadresse_kommunenummer"] == "5001"
    assert sesam["forretningsadresse_kommune"] == "TRONDHEIM"
    assert sesam["forretningsadresse_adresse"] == "Elgeseter gate 1"
    assert sesam["registreringsdatoEnhetsregisteret"] == "1996-01-25"
    assert sesam["registrertIMvaregisteret"] == 1
    assert sesam["registrertIFrivillighetsregisteret"] == 0
    assert sesam["konkurs"] == 0 and sesam["underAvvikling"] == 0
    assert sesam["slettedato"] is None
    assert barnehage["forretningsadresse_kommunenummer"] == "0301"
    assert barnehage["institusjonellSektorkode_kode"] == "2100"
    assert json.loads(barnehage["doc"])["_links"]["self"]["href"].endswith("/971497017")


@pytest.mark.parametrize("wrap", [lambda t: t.encode(), lambda t: gzip.compress(t.encode())])
def test_bulk_files_gzipped_or_not(wrap):
    text = bulk_text(build.bulk_enheter())
    records = list(brreg.iter_records(io.BytesIO(wrap(text)), brreg.ENHET))
    assert len(records) == 6
    row = dict(zip(brreg.ENHET.columns, brreg.ENHET.row(*records[3])))
    assert row["navn"] == "STIFTELSEN LYSPUNKT"
    assert row["forretningsadresse_kommunenummer"] is None
    assert row["postadresse_kommunenummer"] == "4601"


def test_a_single_entity_and_an_empty_page():
    one = json.dumps(build.enhet("910000012", "EN", "FLI"), indent=2).encode()
    assert [r["navn"] for _, r in brreg.iter_records(io.BytesIO(one), brreg.ENHET)] == ["EN"]
    empty = b'{"_links":{"self":{"href":"x"}},"page":{"size":20,"totalElements":0}}'
    assert list(brreg.iter_records(io.BytesIO(empty), brreg.ENHET)) == []


def test_a_page_of_another_register_is_refused():
    page = build.search_page("underenheter", build.bulk_underenheter(), "x")
    with pytest.raises(brreg.BrregFormatError, match=r"expected 'enheter'"):
        list(brreg.iter_records(io.BytesIO(page), brreg.ENHET, name="saved.json"))


def test_records_that_cannot_be_keyed_are_reported_not_dropped():
    raw = '{"organisasjonsnummer" : 12345678, "navn" : "X"}'
    with pytest.raises(brreg.BadRecord, match="is not a 9-digit string") as info:
        brreg.ENHET.row(raw, json.loads(raw))
    assert info.value.raw_value == "12345678"
    chunks = list(brreg.chunks([(raw, json.loads(raw))], brreg.ENHET.row, size=10))
    assert chunks[0].rows == [] and len(chunks[0].problems) == 1


def test_underenhet_rows_keep_the_parent_as_a_column():
    records = build.bulk_underenheter()
    rows = [dict(zip(brreg.UNDERENHET.columns, brreg.UNDERENHET.row(json.dumps(r), r)))
            for r in records]
    assert rows[0]["overordnetEnhet"] == rows[1]["overordnetEnhet"] == "910000012"
    assert rows[1]["nedleggelsesdato"] == "2025-06-30"
    assert rows[2]["beliggenhetsadresse_kommunenummer"] == "0301"


# --------------------------------------------------------------------------------------------
# the feeds


def feed_body(feed, changes):
    link = "enhet" if feed == "enheter" else "underenhet"
    return build.feed_page(feed, link, changes, start=1, size=10, total=len(changes))


def test_a_page_without_embedded_means_caught_up():
    page = brreg.read_feed_page(feed_body("enheter", []), brreg.FEEDS["enheter"])
    assert page.caught_up and page.changes == [] and page.total == 0


def test_each_feed_reads_its_own_names():
    body = feed_body("underenheter", [(5, "2026-10-04T00:00:00Z", "970000011", "Ny")])
    page = brreg.read_feed_page(body, brreg.FEEDS["underenheter"])
    assert [c.organisasjonsnummer for c in page.changes] == ["970000011"]
    # Reading the underenheter feed with the enheter names must fail, not look caught up.
    with pytest.raises(brreg.BrregFormatError, match="oppdaterteEnheter"):
        brreg.read_feed_page(body, brreg.FEEDS["enheter"])


def test_the_last_change_per_organisation_decides():
    changes = [
        brreg.Change(10, "t1", "910000012", "Ny"),
        brreg.Change(12, "t3", "910000012", "Sletting"),
        brreg.Change(11, "t2", "910000020", "Endring"),
        brreg.Change(13, "t4", "910000039", "Fjernet"),
        brreg.Change(14, "t5", "910000039", "Ny"),
    ]
    plan = brreg.plan_changes(changes)
    assert plan.fetch == ["910000020", "910000039"]
    assert [(c.organisasjonsnummer, c.endringstype) for c in plan.deletions] == [
        ("910000012", "Sletting")]
    assert brreg.deletion_row(plan.deletions[0]) == ("910000012", 1, "t3", "Sletting")


def test_unknown_change_types_are_problems_not_guesses():
    body = feed_body("enheter", [(5, "t", "910000012", "Flyttet")])
    page = brreg.read_feed_page(body, brreg.FEEDS["enheter"])
    assert page.changes == [] and not page.caught_up
    assert "unknown endringstype 'Flyttet'" in page.problems[0].reason


def test_urls():
    assert brreg.search_url("enheter", ["910000012", "910000020"]) == (
        "https://data.brreg.no/enhetsregisteret/api/enheter"
        "?organisasjonsnummer=910000012,910000020&size=2")
    assert brreg.feed_seed_url(brreg.FEEDS["underenheter"], "2026-10-04") == (
        "https://data.brreg.no/enhetsregisteret/api/oppdateringer/underenheter"
        "?dato=2026-10-04T00:00:00.000Z&size=1")
    with pytest.raises(ValueError, match="1 to 100"):
        brreg.frivillige_url(101)


# --------------------------------------------------------------------------------------------
# Frivillighetsregisteret and headers


def test_icnpo_categories_are_keyed_by_rekkefoelge_not_position():
    rec = build.frivillig("910000020", [("4100", "K.sosiale", "Sosiale tjenester", 2),
                                        ("2100", "K.kultur", "Kunst og kultur", 1)])
    row, categories, problems = brreg.frivillig_rows(json.dumps(rec), rec)
    named = dict(zip(brreg.FRIVILLIG_COLUMNS, row))
    assert named["icnpo_primaer"] == "2100"
    assert named["grasrotandel_deltarI"] == 1
    assert categories == [("910000020", 1, "2100", "K.kultur", "Kunst og kultur"),
                          ("910000020", 2, "4100", "K.sosiale", "Sosiale tjenester")]
    assert problems == []


def test_a_repeated_rekkefoelge_is_quarantined():
    rec = build.frivillig("910000020", [("4100", "a", "A", 1), ("2100", "b", "B", 1)])
    _, categories, problems = brreg.frivillig_rows(json.dumps(rec), rec)
    assert [c[2] for c in categories] == ["4100"]
    assert "rekkefoelge 1 is repeated" in problems[0].reason


def test_last_modified_in_java_and_http_form():
    assert brreg.parse_last_modified(b"Sat Oct 03 04:30:43 CEST 2026") == "2026-10-03T04:30:43+02:00"
    assert brreg.parse_last_modified("Fri Jan 09 04:31:02 CET 2026") == "2026-01-09T04:31:02+01:00"
    assert brreg.parse_last_modified("Fri, 04 Sep 2026 10:00:00 GMT") == "2026-09-04T10:00:00+00:00"
    assert brreg.parse_last_modified("yesterday") is None
