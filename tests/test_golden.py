"""Every golden folder: replay its responses through spider, parsers, pipelines and SQLite, and
compare the stored rows with golden/<case>/expected/ exactly. Then crawl again: nothing changes.

`pytest tests/test_golden.py --update-golden` rewrites the expectations; review the diff.
"""

import pytest
import pytest_twisted

from atlas_crawl.run.golden import (
    crawl_case,
    first_difference,
    golden_cases,
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
    assert first["status"] == "ok", first["error"]
    assert crawler.stats.get_value("atlas/replay/not_recorded") is None

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
    await crawl_case(case, db)
    second = runs(db)[-1]
    assert second["status"] == "ok", second["error"]
    assert second["rows_written"] == 0, "a re-run of the same responses changed rows"
    assert {t: table_rows(db, t) for t in case.tables} == before
