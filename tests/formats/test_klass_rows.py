"""The Klass request plan and the rows a crawl stores, tested function by function.

Real answers come from golden/ssb_klass/responses/ (from realdata/ssb_klass) (the 2020 county reform: 104 codes, changes
and 104>131 correspondences over 2018-2020, and 131 codesAt 2023-03-02). The small bodies built
here are CONSTRUCTED in Klass's shape for cases no capture covers (splits, renumbering, name
changes, appearing codes, bydeler, a whole history); their codes and names are illustrative.
"""

from __future__ import annotations

from datetime import date

import pytest

from atlas_crawl.formats import klass
from atlas_crawl.formats.klass import BASE_URL, HISTORY_START, Ask
from atlas_crawl.geo import klass_snapshot
from atlas_crawl.items import Quarantined
from atlas_crawl.run.golden import GOLDEN_DIR

KLASS = GOLDEN_DIR / "ssb_klass" / "responses"

CODES_104 = Ask("codes", "104", "2018-01-01", "2020-01-02")
CHANGES_104 = Ask("changes", "104", "2019-01-01", "2020-01-02")
CORR_104_131 = Ask("corresponds", "104", "2018-01-01", "2020-01-02", "131")
AT_131 = Ask("codesAt", "131", "2023-03-02")


def real(ask: Ask) -> list[dict]:
    names = {
        CODES_104: "klass_104_codes_from2018-01-01_to2020-01-02.json",
        CHANGES_104: "klass_104_changes_from2019-01-01_to2020-01-02.json",
        CORR_104_131: "klass_104_corresponds_target131_from2018-01-01_to2020-01-02.json",
        AT_131: "klass_131_codesAt_2023-03-02.json",
    }
    return klass.read(ask, (KLASS / names[ask]).read_bytes())


def code(c: str, name: str, start: str | None, end: str | None = None) -> dict:
    return {"code": c, "parent_code": None, "level": "1", "name": name, "short_name": None,
            "valid_from": start, "valid_to": end, "notes": None}


def change(old: str | None, new: str | None, on: str, old_name="", new_name="") -> dict:
    return {"changed_on": on, "old_code": old, "old_name": old_name or old,
            "new_code": new, "new_name": new_name or new}


# -- the plan ---------------------------------------------------------------------------------


def test_parse_window_fills_in_and_checks_dates():
    assert klass.parse_window("", "1950-01-01", None) == ("1950-01-01", None)
    assert klass.parse_window("", "2000-01-01", "2010-01-01") == ("2000-01-01", "2010-01-01")
    assert klass.parse_window("..2020-01-02", "1950-01-01", None) == ("1950-01-01", "2020-01-02")
    assert klass.parse_window("2018-01-01..", "1950-01-01", None) == ("2018-01-01", None)
    assert klass.parse_window("2018-01-01..2020-01-02", "1950-01-01", None) == (
        "2018-01-01", "2020-01-02")
    with pytest.raises(ValueError, match="not FROM..TO"):
        klass.parse_window("2018-01-01", "1950-01-01", None)
    with pytest.raises(ValueError):
        klass.parse_window("2018-13-01..", "1950-01-01", None)


def test_parse_years_ranges_lists_and_mixes():
    assert klass.parse_years("1951-1953") == [1951, 1952, 1953]
    assert klass.parse_years("2019, 2021-2022,") == [2019, 2021, 2022]
    assert klass.parse_years("2020") == [2020]
    assert klass.parse_years("") == []
    with pytest.raises(ValueError):
        klass.parse_years("twenty")


def test_plan_windows_and_only_the_change_years_asked_for():
    asks = klass.plan(codes="131:2020-01-01..,104", at="", changes="131",
                      change_years="2019,2021-2022", correspondences="",
                      since="2000-01-01", until="2010-01-01", include_future=False)
    assert asks == [
        Ask("codes", "131", "2020-01-01", None),
        Ask("codes", "104", "2000-01-01", "2010-01-01"),
        Ask("changes", "131", "2018-01-01", "2019-01-02"),
        Ask("changes", "131", "2020-01-01", "2021-01-02"),  # no 2020: not asked for
        Ask("changes", "131", "2021-01-01", "2022-01-02"),
    ]


def test_plan_change_years_default_to_since_until_today():
    asks = klass.plan(codes="", changes="104", correspondences="", since="2020-01-01",
                      today=date(2022, 6, 1))
    assert [(a.kind, a.classification, a.start, a.end, a.include_future) for a in asks] == [
        ("changes", "104", "2020-01-01", "2021-01-02", True),
        ("changes", "104", "2021-01-01", "2022-01-02", True),
    ]
    # since this year: nothing has changed yet, nothing to ask
    assert klass.plan(codes="", changes="104", correspondences="", since="2022-01-01",
                      today=date(2022, 6, 1)) == []


def test_plan_codes_at_and_correspondences_and_their_errors():
    asks = klass.plan(codes="", at="131:2023-03-02", changes="",
                      correspondences="103>131,131>128:2024-01-01..")
    assert asks == [Ask("codesAt", "131", "2023-03-02"),
                    Ask("corresponds", "103", HISTORY_START, None, "131"),
                    Ask("corresponds", "131", "2024-01-01", None, "128")]
    with pytest.raises(ValueError, match="SOURCE>TARGET"):
        klass.plan(codes="", changes="", correspondences="104-131")
    with pytest.raises(ValueError):
        klass.plan(codes="", at="131:2023-02-30", changes="", correspondences="")


def test_ask_url_query_by_kind():
    assert Ask("codes", "131").url() == (
        f"{BASE_URL}/classifications/131/codes?from=1950-01-01")  # no start: the whole history
    assert Ask("changes", "104", "2019-01-01", "2020-01-02", include_future=True).url() == (
        f"{BASE_URL}/classifications/104/changes?from=2019-01-01&to=2020-01-02"
        "&includeFuture=true")
    # includeFuture is a codes/changes parameter only
    assert Ask("corresponds", "103", "2020-01-01", None, "131", include_future=True).url() == (
        f"{BASE_URL}/classifications/103/corresponds?targetClassificationId=131"
        "&from=2020-01-01")
    assert Ask("codesAt", "131", "2023-03-02").url("http://localhost:8000/v1") == (
        "http://localhost:8000/v1/classifications/131/codesAt?date=2023-03-02")


def test_ask_from_url_reads_what_the_url_asks():
    ask = Ask.from_url(f"{BASE_URL}/classifications/104/changes.json?to=2020-01-02"
                       "&from=2019-01-01&includeFuture=TRUE")
    assert ask == Ask("changes", "104", "2019-01-01", "2020-01-02", include_future=True)
    at = Ask.from_url(f"{BASE_URL}/classifications/131/codesAt?date=2023-03-02")
    assert (at.kind, at.start, at.end, at.window) == (
        "codesAt", "2023-03-02", None, ("2023-03-02", "2023-03-03"))
    corr = Ask.from_url(CORR_104_131.url())
    assert corr == CORR_104_131
    with pytest.raises(ValueError, match="is not a Klass"):
        Ask.from_url(f"{BASE_URL}/classifications/131/variants?from=2020-01-01")


# -- dims -------------------------------------------------------------------------------------


def test_dim_fylke_rows_from_the_real_2018_2020_codes():
    rows = klass.dim_rows("dim_fylke", CODES_104, real(CODES_104), {}, {})
    assert len(rows) == 27 and len(rows[0]) == len(klass.dim_columns("dim_fylke"))
    by = {(r[0], r[4]): dict(zip(klass.dim_columns("dim_fylke"), r)) for r in rows}
    assert by[("19", "2018-01-01")] == {
        "code": "19", "name": "Troms - Romsa", "short_name": None, "parent_code": None,
        "valid_from": "2018-01-01", "valid_to": "2020-01-01", "window_from": "2018-01-01",
        "window_to": "2020-01-02", "notes": None}
    # Oslo outlived the window: its valid_to is the window's end, which window_to shows
    assert (by[("03", "2018-01-01")]["valid_to"], by[("03", "2018-01-01")]["window_to"]) == (
        "2020-01-02", "2020-01-02")
    assert by[("54", "2020-01-01")]["name"] == (
        "Troms og Finnmark - Romsa ja Finnmárku - Tromssa ja Finmarkku")


def test_dim_kommune_rows_from_a_real_codes_at_answer():
    sentralitet = {"3001": [("2020-01-01", "2024-01-01", "03"), ("2024-01-01", None, "04")]}
    rows = klass.dim_rows("dim_kommune", AT_131, real(AT_131), sentralitet, {})
    assert len(rows) == 357
    halden = next(r for r in rows if r[0] == "3001")
    assert dict(zip(klass.dim_columns("dim_kommune"), halden)) == {
        "code": "3001", "name": "Halden", "short_name": None, "parent_code": None,
        "valid_from": "2023-03-02", "valid_to": "2023-03-03", "window_from": "2023-03-02",
        "window_to": "2023-03-03",
        "notes": "I 2024 ble 30 Viken delt i 31 Østfold, 32 Akershus og 33 Buskerud.",
        "fylke": "30", "sentralitet": "03"}
    oslo = next(r for r in rows if r[0] == "0301")
    assert oslo[-2:] == ("03", None)  # no sentralitet known for it


def test_dim_bydel_and_grunnkrets_kommune():
    ask = Ask("codes", "103", "2000-01-01")
    bydeler = [code("030101", "Gamle Oslo", "2004-01-01"), code("110301", "Hundvåg", "2000-01-01")]
    spans = {"110301": [("2000-01-01", "2020-01-01", "1103"), ("2020-01-01", None, "1108")]}
    assert [(r[0], r[-1]) for r in klass.dim_rows("dim_bydel", ask, bydeler, {}, spans)] == [
        ("030101", "0301"),  # no correspondence: the code's first four digits
        ("110301", "1108"),  # the latest kommune the bydel belonged to in its validity
    ]
    gk = klass.dim_rows("dim_grunnkrets", Ask("codes", "1"), [code("03010101", "X", None)], {}, {})
    assert gk == [("03010101", "X", None, None, None, None, None, None, None, "0301")]


def test_latest_overlap_respects_exclusive_ends():
    spans = [("2020-01-01", "2024-01-01", "03"), ("2024-01-01", None, "02")]
    assert klass.latest_overlap(spans, "2020-01-01", "2024-01-01") == "03"
    assert klass.latest_overlap(spans, "2020-01-01", None) == "02"  # the latest of the two
    assert klass.latest_overlap(spans, "2024-01-01", None) == "02"
    assert klass.latest_overlap(spans, "2018-01-01", "2020-01-01") is None  # ends as 03 starts
    assert klass.latest_overlap(spans, None, "2021-01-01") == "03"
    assert klass.latest_overlap([], "2020-01-01", None) is None


def test_correspondence_spans_and_rows_from_the_real_104_to_131():
    answers = [(CODES_104, real(CODES_104)), (CORR_104_131, real(CORR_104_131)),
               (Ask("corresponds", "131", "2018-01-01", None, "128"),
                [{"source_code": "50", "source_name": "", "target_code": "zz",
                  "target_name": "", "valid_from": None, "valid_to": None}])]
    spans = klass.correspondence_spans(answers, "104", "131")
    assert len(spans) == 25
    assert ("2019-01-01", "2020-01-01", "5061") in spans["50"]  # Rindal joined Trøndelag 2019
    assert ("2018-01-01", "2019-01-01", "1567") in spans["15"]
    assert spans["03"] == [("2018-01-01", "2020-01-02", "0301")]
    assert all(s[2] != "zz" for s in spans["50"])  # 131>128 is another pair
    assert klass.correspondence_spans(answers, "104", "128") == {}

    rows = klass.correspondence_rows(CORR_104_131, real(CORR_104_131))
    assert len(rows) == 740
    assert rows[0] == ("104", "131", "01", "Østfold", "0101", "Halden", "2018-01-01",
                       "2020-01-01")
    assert len(rows[0]) == len(klass.GEO_CORRESPONDENCES_COLUMNS)


# -- changes ----------------------------------------------------------------------------------


def test_change_kinds_and_rows_of_the_real_2020_county_reform():
    changes = real(CHANGES_104)
    kinds = klass_snapshot.change_kinds([(CODES_104, real(CODES_104)), (CHANGES_104, changes)])
    assert kinds[("104", "2020-01-01", "19", "54")] == "merged"
    assert kinds[("104", "2020-01-01", "20", "54")] == "merged"
    assert set(kinds.values()) == {"merged"} and len(kinds) == 13

    rows, quarantine = klass.change_rows(CHANGES_104, changes, kinds)
    assert quarantine == []
    assert len(rows) == 13
    assert ("104", "fylke", "2020-01-01", "19", "Troms - Romsa", "54",
            "Troms og Finnmark - Romsa ja Finnmárku - Tromssa ja Finmarkku", "merged") in rows
    assert ("104", "fylke", "2020-01-01", "20", "Finnmark - Finnmárku", "54",
            "Troms og Finnmark - Romsa ja Finnmárku - Tromssa ja Finmarkku", "merged") in rows


def test_change_kinds_split_renumbered_name_and_a_merge_into_an_existing_code():
    on = "2024-01-01"
    changes = Ask("changes", "104", "2023-01-01", "2024-01-02")
    rows = [change("54", "55", on), change("54", "56", on),  # Troms og Finnmark split
            change("38", "39", on),                            # alone: renumbered
            change("18", "18", on, "Nordland", "Nordland - Nordlánnda"),  # a new name
            change("5030", "5001", on)]                        # absorbed by an existing code
    assert klass_snapshot.change_kinds([(changes, rows)]) == {
        ("104", on, "54", "55"): "split", ("104", on, "54", "56"): "split",
        ("104", on, "38", "39"): "renumbered", ("104", on, "18", "18"): "name",
        ("104", on, "5030", "5001"): "renumbered"}
    # once the codes show 5001 was in use before, taking 5030 in is a merge
    codes = (Ask("codes", "104", "2018-01-01"), [code("5001", "Trondheim", "2018-01-01")])
    kinds = klass_snapshot.change_kinds([codes, (changes, rows)])
    assert kinds[("104", on, "5030", "5001")] == "merged"
    assert kinds[("104", on, "38", "39")] == "renumbered"


def test_change_kinds_keep_classifications_apart_and_skip_appearing_codes():
    on = "2020-01-01"
    answers = [(Ask("changes", "131", "2019-01-01", "2020-01-02"),
                [change("0101", "3001", on), change(None, "3099", on)]),
               (Ask("changes", "104", "2019-01-01", "2020-01-02"), [change("0102", "3001", on)])]
    assert klass_snapshot.change_kinds(answers) == {("131", on, "0101", "3001"): "renumbered",
                                           ("104", on, "0102", "3001"): "renumbered"}


def test_change_rows_quarantine_codes_that_appear_or_disappear():
    ask = Ask("changes", "131", "2019-01-01", "2020-01-02")
    born = change(None, "3099", "2020-01-01")
    gone = change("0199", None, "2020-01-01")
    kept = change("0101", "3001", "2020-01-01", "Halden", "Halden")
    rows, quarantine = klass.change_rows(ask, [born, kept, gone],
                                         {("131", "2020-01-01", "0101", "3001"): "renumbered"})
    assert rows == [("131", "kommune", "2020-01-01", "0101", "Halden", "3001", "Halden",
                     "renumbered")]
    assert quarantine == [
        Quarantined(column="old_code", raw_value=None,
                    reason="Klass 131 change on 2020-01-01 has no old code", row=born),
        Quarantined(column="new_code", raw_value=None,
                    reason="Klass 131 change on 2020-01-01 has no new code", row=gone),
    ]
    # a classification without a level name keeps its id; an unknown kind stays None
    other, _ = klass.change_rows(Ask("changes", "999"), [kept], {})
    assert other == [("999", "999", "2020-01-01", "0101", "Halden", "3001", "Halden", None)]


# -- the snapshot -----------------------------------------------------------------------------

TODAY = date(1953, 6, 1)  # a whole history of three change years keeps the inputs small


def whole_history(skip_year: int | None = None, *, start: str | None = HISTORY_START) -> list:
    """A complete (CONSTRUCTED) crawl up to TODAY: 0102 merges into 0101 on 1952-01-01."""
    merge = [change("0102", "0101", "1952-01-01", "Sarpsborg", "Halden")]
    answers = [
        (Ask("codes", "131", start), [code("0101", "Halden", "1950-01-01"),
                                      code("0102", "Sarpsborg", "1950-01-01", "1952-01-01"),
                                      code("9999", "Uoppgitt", "1950-01-01")]),
        (Ask("codes", "104", start), [code("01", "Østfold", "1950-01-01")]),
        (Ask("codesAt", "131", "1952-06-01"), [code("0101", "Not this one", "1952-06-01")]),
    ]
    for cid in ("131", "104"):
        for year in range(1951, TODAY.year + 1):
            if cid == "131" and year == skip_year:
                continue
            # the 1 January 1952 change is in both windows that touch that day
            rows = merge if cid == "131" and year in (1952, 1953) else []
            answers.append((Ask("changes", cid, f"{year - 1}-01-01", f"{year}-01-02"), rows))
    return answers


def test_snapshot_problems_name_what_is_missing():
    assert klass_snapshot.snapshot_problems(whole_history(), TODAY) == []
    assert klass_snapshot.snapshot_problems(whole_history(skip_year=1952), TODAY) == [
        "131 changes missing for 1 year(s), e.g. [1952]"]
    assert klass_snapshot.snapshot_problems([], TODAY) == [
        "no 131 codes from 1950-01-01 with an open end",
        "no 104 codes from 1950-01-01 with an open end"]
    clipped = [(Ask("codes", "131", HISTORY_START, "2020-01-02"), []),
               (Ask("codes", "104", "2018-01-01"), [])]
    assert klass_snapshot.snapshot_problems(clipped, TODAY) == [
        "no 131 codes from 1950-01-01 with an open end",
        "no 104 codes from 1950-01-01 with an open end"]


def test_snapshot_problems_codes_without_from_report_the_gap():
    # a codes request without `from` asks for the whole history (Ask.url sends 1950-01-01)
    answers = [(Ask.from_url(f"{BASE_URL}/classifications/{cid}/codes"), []) for cid in
               ("131", "104")]
    assert answers[0][0].start is None
    assert klass_snapshot.snapshot_problems(answers, TODAY) == [
        "131 changes missing for 3 year(s), e.g. [1951, 1952, 1953]",
        "104 changes missing for 3 year(s), e.g. [1951, 1952, 1953]"]
    assert klass_snapshot.snapshot_problems(whole_history(start=None), TODAY) == []


def test_snapshot_tables_from_a_whole_history():
    tables = klass_snapshot.snapshot_tables(whole_history(), TODAY)
    source = "klass:131/104 codes from 1950-01-01, fetched 1953-06-01"
    assert tables["kommuner"] == [  # 9999 lives in special_codes; codesAt is not the history
        {"code": "0101", "name": "Halden", "valid_from": "1950-01-01", "valid_to": None,
         "source": source},
        {"code": "0102", "name": "Sarpsborg", "valid_from": "1950-01-01",
         "valid_to": "1952-01-01", "source": source}]
    assert tables["fylker"] == [{"code": "01", "name": "Østfold", "valid_from": "1950-01-01",
                                 "valid_to": None, "source": source}]
    assert tables["changes"] == [  # once, though two windows listed it
        {"changed_on": "1952-01-01", "level": "kommune", "old_code": "0102",
         "old_name": "Sarpsborg", "new_code": "0101", "new_name": "Halden", "kind": "merged",
         "source": source}]
