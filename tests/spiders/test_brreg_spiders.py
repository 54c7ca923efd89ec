"""Brreg spiders end to end: streaming the bulk file over HTTP, -a file= variants, the feed's
cursor across runs, failures that must roll back, and Frivillighetsregisteret's view and
stale-category clean-up."""

import gzip
import hashlib
import http.server
import json
import shutil
import sqlite3
from typing import ClassVar

import pytest
import pytest_twisted
from conftest import edited_cassette, query
from fakes.local_http import LocalServer

from atlas_crawl.run.golden import GOLDEN_DIR, crawl, crawl_settings, runs, table_rows

BULK_GZ = GOLDEN_DIR / "brreg_enheter/responses/enheter_lastned_constructed.json.gz"
SEARCH_PAGE = GOLDEN_DIR / "brreg_enheter_search_page/responses/enheter_search_navn-Sesam_size2_page0.json"



async def run(spider, db, *, cassette=None, replay=True, **args):
    settings = crawl_settings(db, cassette=cassette, replay=replay, RETRY_ENABLED=False)
    crawler = await crawl(spider, settings, **args)
    return crawler, runs(db)[-1]


# --------------------------------------------------------------------------------------------
# The bulk file over HTTP, streamed to disk


class BulkServer(http.server.BaseHTTPRequestHandler):
    body = b""
    seen: ClassVar[list] = []

    def do_GET(self):
        type(self).seen.append((self.path, dict(self.headers)))
        if self.path.endswith("/enheter/lastned"):
            if "vnd.brreg" not in self.headers.get("Accept", ""):
                self.send_response(400)
                self.end_headers()
                self.wfile.write(b'{"feilmelding":"Ugyldig Accept"}')
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Last-Modified", "Sat Oct 03 04:30:43 CEST 2026")
            self.send_header("Content-Length", str(len(self.body)))
            self.end_headers()
            self.wfile.write(self.body)
            return
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def bulk_server():
    BulkServer.body = BULK_GZ.read_bytes()
    BulkServer.seen = []
    with LocalServer(BulkServer) as server:
        yield f"{server.url}/enhetsregisteret/api"


@pytest_twisted.ensureDeferred
async def test_live_bulk_is_streamed_to_a_temporary_file_and_parsed(bulk_server, tmp_path):
    db = tmp_path / "atlas.db"
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    settings = crawl_settings(db, replay=False, ATLAS_DOWNLOAD_DIR=str(downloads))
    crawler = await crawl("brreg_enheter", settings, base_url=bulk_server)
    assert runs(db)[-1]["status"] == "ok", runs(db)[-1]["error"]
    path, headers = BulkServer.seen[-1]
    assert path == "/enhetsregisteret/api/enheter/lastned"
    assert headers["Accept"] == "application/vnd.brreg.enhetsregisteret.enhet.v2+gzip"
    # The body went to disk, not into the response, and the file is gone afterwards.
    assert crawler.stats.get_value("downloader/response_bytes") < 1000
    assert list(downloads.iterdir()) == []
    names = dict(query(db, "SELECT organisasjonsnummer, navn FROM brreg_enheter"))
    assert len(names) == 6 and names["910000055"] == "NORDVEST HANDEL AS"
    # Provenance is the hash of the bytes as downloaded (the gzip payload).
    (sha,) = query(db, "SELECT DISTINCT sha256 FROM _fetches WHERE table_name='brreg_enheter'")
    assert sha[0] == hashlib.sha256(BULK_GZ.read_bytes()).hexdigest()
    # The damaged record is in quarantine with its reason, counted in the run.
    assert query(db, "SELECT raw_value, reason FROM quarantine") == [
        ("12345", "organisasjonsnummer '12345' is not a 9-digit string")]
    assert runs(db)[-1]["rows_quarantined"] == 1


@pytest_twisted.ensureDeferred
async def test_a_refused_download_fails_the_run(bulk_server, tmp_path):
    db = tmp_path / "atlas.db"
    BulkServer.body = b""
    settings = crawl_settings(db, replay=False)
    # base_url pointing at a path the server refuses (404) must not end as an empty "ok" run.
    await crawl("brreg_underenheter", settings, base_url=bulk_server)
    last = runs(db)[-1]
    assert last["status"] == "failed"
    assert "HTTP 404" in last["error"] and "/underenheter/lastned" in last["error"]


# --------------------------------------------------------------------------------------------
# -a file=


@pytest_twisted.ensureDeferred
async def test_saved_bulk_file_is_hashed_not_loaded(tmp_path):
    db = tmp_path / "atlas.db"
    _, last = await run("brreg_enheter", db, file=str(BULK_GZ))
    assert last["status"] == "ok" and last["rows_received"] == 6
    (sha,) = query(db, "SELECT sha256 FROM _fetches")
    assert sha[0] == hashlib.sha256(BULK_GZ.read_bytes()).hexdigest()
    doc, = query(db, "SELECT doc FROM brreg_enheter WHERE organisasjonsnummer='910000020'")[0]
    assert doc in gzip.decompress(BULK_GZ.read_bytes()).decode("utf-8")


@pytest_twisted.ensureDeferred
async def test_an_empty_api_page_is_a_valid_empty_file(tmp_path):
    db = tmp_path / "atlas.db"
    empty = tmp_path / "empty.json"
    empty.write_text('{"_links":{"self":{"href":"https://data.brreg.no/enhetsregisteret/api/'
                     'enheter?navn=zzzz"}},"page":{"size":20,"totalElements":0,"totalPages":0,'
                     '"number":0}}')
    _, last = await run("brreg_enheter", db, file=str(empty))
    assert last["status"] == "ok" and last["rows_received"] == 0


@pytest_twisted.ensureDeferred
async def test_a_truncated_bulk_file_rolls_back_and_keeps_the_last_good_data(tmp_path):
    db = tmp_path / "atlas.db"
    await run("brreg_enheter", db, file=str(SEARCH_PAGE))
    before = table_rows(db, "brreg_enheter")
    text = gzip.decompress(BULK_GZ.read_bytes())
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(gzip.compress(text[: len(text) * 2 // 3]))
    _, last = await run("brreg_enheter", db, file=str(cut), batch_rows="2")
    assert last["status"] == "failed"
    assert "truncated download" in last["error"]
    # Two batches had gone through the pipelines before the cut; they were rolled back.
    assert table_rows(db, "brreg_enheter") == before


# --------------------------------------------------------------------------------------------
# The change feed


FEED = GOLDEN_DIR / "brreg_oppdateringer"


@pytest_twisted.ensureDeferred
async def test_the_feed_continues_from_the_stored_cursor(tmp_path):
    db = tmp_path / "atlas.db"
    conn = sqlite3.connect(str(db))
    conn.execute("CREATE TABLE brreg_feed_cursor (feed TEXT PRIMARY KEY, oppdateringsid INTEGER,"
                 " dato TEXT, _run INTEGER, _fetch INTEGER)")
    conn.execute("INSERT INTO brreg_feed_cursor VALUES ('enheter', 16427810, 'x', 1, 1)")
    conn.commit()
    conn.close()
    # -a oppdateringsid is ignored once a cursor exists: the walk starts at 16427811.
    _, last = await run("brreg_oppdateringer", db, cassette=FEED, oppdateringsid="1", size="5")
    assert last["status"] == "ok", last["error"]
    ids = [r[0] for r in query(db, "SELECT oppdateringsid FROM brreg_oppdateringer")]
    assert ids == [16427815, 16427816, 16427820]
    assert query(db, "SELECT oppdateringsid FROM brreg_feed_cursor") == [(16427820,)]
    state = {r[0]: r[1:] for r in query(
        db, "SELECT organisasjonsnummer, slettet, deleted_at, navn FROM brreg_enheter")}
    assert state["920000061"] == (1, "2026-10-04T09:20:00.000Z", None)
    assert state["920000053"] == (0, None, "VESTLANDSKE HJELPEKORPS")


@pytest_twisted.ensureDeferred
async def test_deletions_mark_rows_and_never_delete_them(tmp_path):
    db = tmp_path / "atlas.db"
    # The organisation deleted on the feed's first page was loaded from a bulk file first.
    bulk = tmp_path / "bulk.json"
    spec = json.loads(SEARCH_PAGE.read_text())["_embedded"]["enheter"][0]
    spec["organisasjonsnummer"] = "920000037"
    bulk.write_text(json.dumps([spec], indent=2), encoding="utf-8")
    await run("brreg_enheter", db, file=str(bulk))
    _, last = await run("brreg_oppdateringer", db, cassette=FEED, oppdateringsid="16427801",
                        size="5")
    assert last["status"] == "ok", last["error"]
    row = query(db, "SELECT navn, forretningsadresse_kommunenummer, slettet, deleted_at, "
                    "slettet_endringstype FROM brreg_enheter WHERE organisasjonsnummer='920000037'")
    assert row == [("SESAM AS", "5001", 1, "2026-10-04T06:15:44.250Z", "Sletting")]


@pytest_twisted.ensureDeferred
async def test_a_first_run_needs_a_seed(tmp_path):
    db = tmp_path / "atlas.db"
    # An explicit argument, so replay does not fill in the recording's own oppdateringsid.
    _, last = await run("brreg_oppdateringer", db, cassette=FEED, size="5")
    assert last["status"] == "failed"
    assert "no cursor stored yet" in last["error"]


@pytest_twisted.ensureDeferred
async def test_a_failed_entity_fetch_does_not_move_the_cursor(tmp_path):
    def fail_second_search(entry):
        if "organisasjonsnummer=" in entry["url"] and entry["file"].endswith("search_2_constructed.json"):
            entry["status"] = 503

    cassette = edited_cassette(FEED, tmp_path / "feed", fail_second_search)
    db = tmp_path / "atlas.db"
    _, last = await run("brreg_oppdateringer", db, cassette=cassette, oppdateringsid="16427801",
                        size="5")
    assert last["status"] == "failed"
    assert "HTTP 503" in last["error"]
    assert query(db, "SELECT name FROM sqlite_master WHERE name='brreg_feed_cursor'") == []


# --------------------------------------------------------------------------------------------
# Frivillighetsregisteret


FRIVILLIGE = GOLDEN_DIR / "brreg_frivillige"


@pytest_twisted.ensureDeferred
async def test_the_view_joins_voluntary_organisations_to_their_enhet(tmp_path):
    db = tmp_path / "atlas.db"
    await run("brreg_enheter", db, file=str(BULK_GZ))
    _, last = await run("brreg_frivillige", db, cassette=FRIVILLIGE)
    assert last["status"] == "ok", last["error"]
    rows = query(db, "SELECT organisasjonsnummer, navn, forretningsadresse_kommunenummer, "
                     "forretningsadresse_kommunenummer_current, icnpo_primaer, "
                     "icnpo_primaer_navn FROM brreg_frivillige_geo ORDER BY 1")
    assert rows == [
        ("910000020", 'KORPS | "LYDEN" AV FROGNER \\ MAJORSTUA', "0301", "0301", "2100",
         "Kunst og kultur"),
        ("910000039", "HÁRSTTÁK SÁMI SEARVI", "5503", "5503", "2100", "Kunst og kultur"),
        ("910000063", "SVENSK-NORSKA FÖRENINGEN I NORGE", None, None, "9100",
         "Internasjonale organisasjoner"),
        # Not in the enheter table: still in the view, without name or kommune.
        ("930000019", None, None, None, "1200", "Idrett"),
    ]


@pytest_twisted.ensureDeferred
async def test_categories_an_organisation_no_longer_has_are_removed(tmp_path):
    db = tmp_path / "atlas.db"
    await run("brreg_frivillige", db, cassette=FRIVILLIGE)
    assert query(db, "SELECT rekkefoelge FROM brreg_frivillige_icnpo "
                     "WHERE organisasjonsnummer='910000063'") == [(1,), (2,), (3,)]
    cassette = tmp_path / "frivillige"
    shutil.copytree(FRIVILLIGE, cassette)
    page2 = cassette / "responses/page_2_constructed.json"
    data = json.loads(page2.read_text())
    data["_embedded"]["frivilligeOrganisasjoner"][0]["icnpoKategorier"] = \
        data["_embedded"]["frivilligeOrganisasjoner"][0]["icnpoKategorier"][:1]
    page2.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    _, last = await run("brreg_frivillige", db, cassette=cassette)
    assert last["status"] == "ok", last["error"]
    assert query(db, "SELECT rekkefoelge, icnpoNummer FROM brreg_frivillige_icnpo "
                     "WHERE organisasjonsnummer='910000063'") == [(1, "9100")]
    # Other organisations' categories are untouched.
    assert query(db, "SELECT count(*) FROM brreg_frivillige_icnpo")[0][0] == 5


def test_frivillige_refuses_pages_over_100():
    from atlas_crawl.spiders.brreg import BrregFrivilligeSpider

    with pytest.raises(ValueError, match="1 to 100"):
        BrregFrivilligeSpider(size="500")


@pytest_twisted.ensureDeferred
async def test_a_next_link_that_goes_round_in_circles_fails_the_run(tmp_path):
    cassette = tmp_path / "frivillige"
    shutil.copytree(FRIVILLIGE, cassette)
    page2 = cassette / "responses/page_2_constructed.json"
    data = json.loads(page2.read_text())
    data["_links"]["next"] = {
        "href": "https://data.brreg.no/frivillighetsregisteret/api/frivillige-organisasjoner?size=100"}
    page2.write_text(json.dumps(data, ensure_ascii=False))
    _, last = await run("brreg_frivillige", tmp_path / "atlas.db", cassette=cassette)
    assert last["status"] == "failed"
    assert "leads back to https://data.brreg.no/frivillighetsregisteret/api/" \
           "frivillige-organisasjoner?size=100" in last["error"]
