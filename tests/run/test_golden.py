"""Every golden folder: replay its responses through spider, parsers, pipelines and SQLite, and
compare the stored rows with golden/<case>/expected/ exactly. Then crawl again: nothing changes.

`pytest tests/test_golden.py --update-golden` rewrites the expectations; review the diff.
"""

import pytest
import pytest_twisted

from atlas_crawl.run.golden import (
    GOLDEN_DIR,
    crawl_case,
    first_difference,
    golden_cases,
    not_cases,
    read_expected,
    runs,
    table_rows,
    to_jsonl,
)

CASES = golden_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest_twisted.ensureDeferred
async def test_golden(case, tmp_path, update_golden):
    db = tmp_path / "atlas.db"
    crawler = await crawl_case(case, db)
    first = runs(db)[-1]
    assert crawler.stats.get_value("atlas/replay/not_recorded") is None
    if case.outcome == "failed":
        assert first["status"] == "failed" and case.error, f"{case.name}: {first}"
        assert case.error in first["error"], first["error"]
        assert first["rows_written"] == 0
        return
    assert first["status"] == "ok", first["error"]
    if not case.tables:  # an answer that holds nothing to store
        assert first["rows_written"] == 0, f"{case.name} stored rows"

    for table in case.tables:
        actual = to_jsonl(table_rows(db, table))
        if update_golden:
            case.write_expected(table, actual)
        path = case.expected_path(table)
        assert path.exists(), f"{path} missing: run pytest --update-golden and review it"
        assert actual, f"{case.name}: table {table} is empty"
        difference = first_difference(actual, read_expected(path))
        assert difference is None, f"{table} differs from {path}: {difference}"

    before = {t: table_rows(db, t) for t in case.tables}
    await crawl_case(case, db, first=False)
    second = runs(db)[-1]
    assert second["status"] == "ok", second["error"]
    assert second["rows_written"] == 0, "a re-run of the same responses changed rows"
    assert {t: table_rows(db, t) for t in case.tables} == before


def test_every_folder_under_golden_is_a_case():
    assert not_cases() == []


def test_a_folder_without_golden_json_is_named(tmp_path):
    (tmp_path / "a_case").mkdir()
    (tmp_path / "a_case" / "golden.json").write_text("{}")
    (tmp_path / "stray_recordings").mkdir()
    assert not_cases(tmp_path) == ["stray_recordings"]


def test_a_case_replayed_after_another_names_a_case():
    names = {c.name for c in CASES}
    assert {c.name: c.after for c in CASES if c.after and c.after not in names} == {}
    assert GOLDEN_DIR.is_dir()
