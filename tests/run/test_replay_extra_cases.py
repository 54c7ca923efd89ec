"""`update --replay` crawls a source's own recording and then its extra real recordings
(`"update_replay": true`), also when the spider has no golden/<spider>/ of its own."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from atlas_crawl.run.golden import GOLDEN_DIR
from atlas_crawl.run.plan import SAMPLE_SKIP, crawl_jobs, golden_folder, plan


def case(root, name, spider, **extra):
    (root / name).mkdir()
    spec = {"spider": spider, "data_origin": "capture", **extra}
    (root / name / "golden.json").write_text(json.dumps(spec))


class Spider:
    def __init__(self, name):
        self.name = name


def test_own_recording_first_then_the_extra_ones_by_name(tmp_path):
    case(tmp_path, "valgresultat", "valgresultat")
    case(tmp_path, "valgresultat_st2013", "valgresultat", update_replay=True)
    case(tmp_path, "valgresultat_st2009", "valgresultat", update_replay=True)
    case(tmp_path, "valgresultat_paagaar", "valgresultat")  # a test case only
    case(tmp_path, "other_st2009", "other", update_replay=True)
    jobs = crawl_jobs("valgresultat", "valgresultat", golden_folder(tmp_path))
    assert [j.name for j in jobs] == ["valgresultat", "valgresultat (valgresultat_st2009)",
                                      "valgresultat (valgresultat_st2013)"]
    assert [j.settings["ATLAS_CASSETTE"].rsplit("/", 1)[-1] for j in jobs] == [
        "valgresultat", "valgresultat_st2009", "valgresultat_st2013"]


def test_a_constructed_extra_recording_is_left_out_unless_samples_are_asked_for(tmp_path):
    case(tmp_path, "valgresultat", "valgresultat")
    case(tmp_path, "valgresultat_invented", "valgresultat", update_replay=True,
         data_origin="constructed")
    folder = golden_folder(tmp_path)
    assert [j.name for j in crawl_jobs("valgresultat", "valgresultat", folder)] == [
        "valgresultat"]
    assert [j.name for j in crawl_jobs("valgresultat", "valgresultat", folder, samples=True)] == [
        "valgresultat", "valgresultat (valgresultat_invented)"]


def test_a_spider_whose_recordings_are_all_constructed_is_skipped_with_the_reason(tmp_path):
    case(tmp_path, "nav_aap", "nav_aap", data_origin="constructed")
    planned, skipped = plan(str(tmp_path / "none.db"), {"nav_aap": Spider("nav_aap")},
                            ["nav_aap"], datetime.now(UTC), golden_folder(tmp_path))
    assert planned == []
    assert skipped == [("nav_aap", SAMPLE_SKIP)]


def test_a_spider_with_only_extra_recordings_is_planned(tmp_path):
    case(tmp_path, "nav_workbook_ledighet", "nav_workbook", update_replay=True,
         args={"file": "responses/a.xlsx"})
    folder = golden_folder(tmp_path)
    planned, skipped = plan(str(tmp_path / "none.db"),
                            {"nav_ledighet_maned": Spider("nav_workbook"),
                             "nav_aap": Spider("nav_aap")},
                            ["nav_ledighet_maned", "nav_aap"], datetime.now(UTC), folder)
    assert [p.spider for p in planned] == ["nav_workbook"]
    assert skipped == [("nav_aap", "no recording in golden/nav_aap/")]
    jobs = crawl_jobs("nav_ledighet_maned", "nav_workbook", folder)
    assert [j.name for j in jobs] == ["nav_ledighet_maned (nav_workbook_ledighet)"]
    assert jobs[0].args["file"].endswith("nav_workbook_ledighet/responses/a.xlsx")


def test_the_projects_extra_recordings_are_real_captures():
    for spec in sorted(GOLDEN_DIR.glob("*/golden.json")):
        data = json.loads(spec.read_text(encoding="utf-8"))
        if data.get("update_replay"):
            assert spec.parent.name != data["spider"], spec
            readme = (spec.parent / "README.md").read_text(encoding="utf-8").lower()
            assert "real" in readme and "made up" not in readme, spec
