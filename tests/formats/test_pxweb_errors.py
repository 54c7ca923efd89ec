"""SSB's real PxWebApi v2 error answers (tests/data/ssb_pxwebapi_v2/, see its README) end a run
with one line that says what SSB answered, whether they come back from a live call or are given
to a spider as a saved file."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import scrapy_crawl

from atlas_crawl import PROJECT_DIR
from atlas_crawl.formats import pxweb

ERRORS = PROJECT_DIR / "tests" / "data" / "ssb_pxwebapi_v2"
SAID = {
    "v2_error_12134_region-9999_non-existent-value_http400.json": "Non-existent value",
    "v2_error_12134_no-ContentsCode-Tid_missing-mandatory_http400.json":
        "Missing selection for mandantory variable",
    "v2_error_tables-999999_non-existent-table_http400.json": "Non-existent table",
    "v2_error_12134_overlong-url-839-regions_iis-404_TRIMMED-500chars.html":
        "an HTML page, not JSON: 404 - File or directory not found.",
}


@pytest.mark.parametrize("name", sorted(SAID))
def test_problem_detail_of_a_real_error_answer_is_one_line(name):
    body = (ERRORS / name).read_bytes()
    assert pxweb.problem_detail(body) == SAID[name]


def test_the_api_errors_are_problems_and_data_is_not():
    import json

    for name in SAID:
        if name.endswith(".json"):
            assert pxweb.is_problem(json.loads((ERRORS / name).read_bytes()))
    data = PROJECT_DIR / "golden" / "ssb_12134" / "responses" / \
        "v2_data_12134_KOSAG110000_0301-4601-5001_2024_lang-no.json"
    assert not pxweb.is_problem(json.loads(data.read_bytes()))


def test_an_html_page_without_a_title_is_summed_up_on_one_line():
    assert pxweb.problem_detail(b"<html>\r\n<body>\r\n  Bad   gateway\r\n</body></html>") == \
        "<html> <body> Bad gateway </body></html>"


@pytest.mark.parametrize("name", sorted(SAID))
def test_a_saved_error_answer_fails_the_file_run_in_one_line(name, tmp_path):
    db = tmp_path / "atlas.db"
    done = scrapy_crawl("ssb_12134", "-a", f"file={ERRORS / name}", db=db, log_level="ERROR")
    said = (done.stdout + done.stderr).strip().splitlines()
    assert said[-1].startswith(f"FAILED: {name}: ") and SAID[name] in said[-1], said
    assert "Traceback" not in done.stdout + done.stderr
    conn = sqlite3.connect(db)
    status, error = conn.execute("SELECT status, error FROM _runs").fetchone()
    conn.close()
    assert status == "failed" and "\n" not in error and SAID[name] in error
