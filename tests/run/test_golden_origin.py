"""Every golden case declares where its data came from, and the declaration agrees with the
folder's README: a capture names itself real and its date, a constructed case says its values
are constructed or made up. `update --replay` publishes only captures, so a wrong declaration
would put invented numbers in front of readers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from atlas_crawl.fetch.origin import CAPTURED, DECLARED_ORIGINS
from atlas_crawl.run.golden import GOLDEN_DIR

CASES = sorted(p.parent for p in GOLDEN_DIR.glob("*/golden.json"))
CONSTRUCTED_WORDS = ("constructed", "made up", "made-up", "invented", "placeholder")
# What a README of real data never says of itself.
NOT_REAL = ("every response here is constructed", "all responses are constructed",
            "everything here is constructed", "every answer here is constructed",
            "all values are made up")
# What a README of constructed data never says of itself.
NOT_CONSTRUCTED = ("nothing here was constructed", "nothing was constructed")


def spec(folder: Path) -> dict:
    return json.loads((folder / "golden.json").read_text(encoding="utf-8"))


def readme(folder: Path) -> str:
    return (folder / "README.md").read_text(encoding="utf-8")


def test_there_are_golden_cases_of_both_origins():
    origins = [spec(f).get("data_origin") for f in CASES]
    assert len(CASES) >= 50
    assert origins.count("capture") >= 15 and origins.count("constructed") >= 30


@pytest.mark.parametrize("folder", CASES, ids=lambda f: f.name)
def test_golden_case_declares_its_origin(folder):
    s = spec(folder)
    assert s.get("data_origin") in DECLARED_ORIGINS, f"{folder.name}/golden.json: data_origin"
    if s["data_origin"] == "capture":
        assert CAPTURED.match(s.get("captured") or ""), f"{folder.name}: captured YYYY-MM-DD"
        assert len(s.get("capture_source") or "") > 20, f"{folder.name}: capture_source"
    else:
        assert "captured" not in s and "capture_source" not in s, folder.name


@pytest.mark.parametrize("folder", CASES, ids=lambda f: f.name)
def test_declared_origin_agrees_with_the_readme(folder):
    s, text = spec(folder), readme(folder)
    lower = " ".join(text.lower().split())
    if s["data_origin"] == "constructed":
        assert any(w in lower for w in CONSTRUCTED_WORDS), (
            f"{folder.name}: constructed, but the README never says so")
        assert not any(p in lower for p in NOT_CONSTRUCTED), folder.name
        return
    assert re.search(r"\breal\b", lower), f"{folder.name}: a capture's README says it is real"
    assert s["captured"] in text, f"{folder.name}: the README names the capture date"
    assert not any(p in lower for p in NOT_REAL), (
        f"{folder.name}: declared a capture, but the README says its data is constructed")
    file = (s.get("args") or {}).get("file")
    if file:  # the README's line about the very file the case reads calls it real
        name = Path(file).name
        lines = [line for line in text.splitlines() if name in line]
        assert lines, f"{folder.name}: the README does not name {name}"
        assert any(re.search(r"\breal\b", line.lower()) for line in lines), (
            f"{folder.name}: the README does not call {name} real")
        assert not any("constructed" in line.lower() for line in lines), folder.name


def test_known_cases_have_the_origin_their_readme_states():
    # spot checks, read by eye from the READMEs
    assert spec(GOLDEN_DIR / "valgresultat")["captured"] == "2025-10-20"
    assert spec(GOLDEN_DIR / "ssb_07459")["captured"] == "2022-09-14"
    assert spec(GOLDEN_DIR / "nav_helt_ledige")["data_origin"] == "constructed"
    assert spec(GOLDEN_DIR / "ssb_v0_jsonstat1")["data_origin"] == "constructed"
    assert spec(GOLDEN_DIR / "husbanken_bostotte")["data_origin"] == "capture"


def test_the_readme_s_demo_table_lists_real_captures_with_their_dates():
    from atlas_crawl import PROJECT_DIR

    text = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Where the numbers come from"):]
    rows = re.findall(r"^\| `(\w+)` \| ([\d-]+) \|", section, re.MULTILINE)
    for name, captured in rows:
        s = spec(GOLDEN_DIR / name)
        assert (s["data_origin"], s["captured"]) == ("capture", captured), name
    # exactly the cases a replayed update crawls (run/plan.py): every real capture of a spider
    # that crawls a source, its own case and those marked update_replay
    from atlas_crawl.run.plan import golden_folder, replay_skip, source_spiders
    from atlas_crawl.run.runner import project_settings

    cases = golden_folder(GOLDEN_DIR)
    replayed = {c.name for cls in source_spiders(project_settings()).values()
                for c in cases.cases(cls.name) if not replay_skip(c, samples=False)}
    assert {name for name, _ in rows} == replayed
