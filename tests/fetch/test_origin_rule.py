"""The rule that decides a run's mode and data origin (atlas_crawl/fetch/origin.py), on the
project's own golden cases and on files outside them."""

from __future__ import annotations

import json

import pytest

from atlas_crawl.fetch.origin import Origin, OriginError, check_arguments, describe, run_origin
from atlas_crawl.run.golden import GOLDEN_DIR

V0_07459 = GOLDEN_DIR / "ssb_07459/responses/v0_table_07459_post_json-stat2_agg-KommSummer_2022.json"


def test_a_live_run_is_live():
    assert run_origin(replay=False, arguments={}, cassette=None) == Origin("live", "live")
    assert run_origin(replay=False, arguments={"years": "2025"}, cassette=None).real


def test_a_replay_takes_its_golden_case_s_declaration():
    got = run_origin(replay=True, arguments={}, cassette=GOLDEN_DIR / "valgresultat")
    assert (got.mode, got.data_origin, got.capture_date) == ("replay", "capture", "2025-10-20")
    assert "HNygard/valgresultat.no-copy" in got.capture_source
    nav = run_origin(replay=True, arguments={}, cassette=GOLDEN_DIR / "nav_aap")
    assert (nav.mode, nav.data_origin, nav.capture_date, nav.real) == (
        "replay", "constructed", None, False)


def test_a_file_run_takes_the_origin_of_the_case_that_reads_that_file():
    got = run_origin(replay=False, arguments={"file": str(V0_07459)}, cassette=None)
    assert (got.mode, got.data_origin, got.capture_date) == ("file", "capture", "2022-09-14")
    # the same in a replay of that case (update --replay passes the case's file)
    again = run_origin(replay=True, arguments={"file": str(V0_07459)},
                       cassette=GOLDEN_DIR / "ssb_07459")
    assert again == got


def test_the_other_recording_of_a_case_folder_is_of_unknown_origin():
    # ssb_07459's golden case reads the real v0 file; its cassette (the v2 path) is constructed
    got = run_origin(replay=True, arguments={}, cassette=GOLDEN_DIR / "ssb_07459")
    assert (got.mode, got.data_origin) == ("replay", "unknown")
    # a real file in a constructed case's folder is not the case's file: unknown, not capture
    other = GOLDEN_DIR / "ssb_v0_jsonstat1/responses/v0_dataset_29843_lang-en_jsonstat1.json"
    assert run_origin(replay=False, arguments={"file": str(other)}, cassette=None) == Origin(
        "file", "unknown")


def test_a_file_outside_the_golden_cases_is_unknown_unless_told(tmp_path):
    file = tmp_path / "saved.json"
    file.write_text("{}")
    assert run_origin(replay=False, arguments={"file": str(file)}, cassette=None) == Origin(
        "file", "unknown")
    told = run_origin(replay=False, arguments={"file": str(file), "origin": "capture",
                                               "captured": "2024-05-01"}, cassette=None)
    assert (told.mode, told.data_origin, told.capture_date) == ("file", "capture", "2024-05-01")
    made = run_origin(replay=False, arguments={"file": str(file), "origin": "constructed"},
                      cassette=None)
    assert (made.data_origin, made.capture_date) == ("constructed", None)


@pytest.mark.parametrize("arguments, message", [
    ({"file": "x.json", "origin": "capture"}, "a capture needs `captured`"),
    ({"file": "x.json", "origin": "capture", "captured": "2024-13-01"}, "a capture needs"),
    ({"file": "x.json", "origin": "live"}, "data_origin must be one of capture, constructed"),
    ({"file": "x.json", "origin": "constructed", "captured": "2024-01-01"},
     "`captured` belongs to a capture"),
    ({"origin": "capture", "captured": "2024-01-01"}, "use them with -a file="),
])
def test_unusable_origin_arguments_are_refused_in_one_line(arguments, message):
    with pytest.raises(OriginError, match=message):
        check_arguments(arguments)


def test_a_case_without_a_declaration_is_unknown_and_a_bad_one_is_refused(tmp_path):
    (tmp_path / "golden.json").write_text(json.dumps({"spider": "x"}))
    assert run_origin(replay=True, arguments={}, cassette=tmp_path) == Origin("replay", "unknown")
    (tmp_path / "golden.json").write_text(json.dumps({"spider": "x", "data_origin": "capture"}))
    with pytest.raises(OriginError, match="golden.json: a capture needs `captured`"):
        run_origin(replay=True, arguments={}, cassette=tmp_path)


def test_the_words_a_reader_sees():
    assert describe("live", None) == "live"
    assert describe("capture", "2025-10-20") == "real capture of 2025-10-20"
    assert describe("constructed", None) == "sample: invented values"
    assert describe("unknown", None) == "origin unknown: not shown as a statistic"


def test_the_crawl_command_refuses_unusable_origin_arguments_before_crawling():
    from atlas_crawl.spiders.arguments import ArgumentError
    from atlas_crawl.spiders.valgresultat import ValgresultatSpider

    with pytest.raises(ArgumentError, match="a capture needs `captured`"):
        ValgresultatSpider.check_arguments({"file": str(V0_07459), "origin": "capture"})
    ValgresultatSpider.check_arguments({"file": str(V0_07459), "origin": "capture",
                                        "captured": "2022-09-14"})


def test_samples_goes_with_replay(capsys):
    from atlas_crawl.run.cli import main

    assert main(["update", "--samples", "--db", "/nonexistent/atlas.db"]) == 2
    assert "--samples goes with --replay" in capsys.readouterr().err
