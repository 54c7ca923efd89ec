"""The chart pages' choices: the publish-time lists when the place has the chosen values (one
lookup), the place's own values when it does not; the series of one place read by its two
codes (today's, and the one valid then where it differs)."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest

from atlas_crawl.publish.site import charts


class Db:
    def __init__(self, conn):
        self.conn = conn
        self.sql: list[str] = []

    async def execute(self, sql, params=None):
        self.sql.append(sql)
        return SimpleNamespace(rows=self.conn.execute(sql, params or {}).fetchall())


def database():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (region TEXT, region_canonical TEXT, region_current TEXT, "
                 "kjonn TEXT, tid TEXT, value REAL, status TEXT, "
                 "PRIMARY KEY (region, kjonn, tid)) WITHOUT ROWID")
    rows = [("0301", "0301", "0301", k, y, float(y) + (k == "2"), None)
            for k in ("1", "2") for y in ("2019", "2020")]
    # Bergen's old code, stored before the reform; only women there
    rows += [("1201", "1201", "4601", "2", "2019", 5.0, None),
             ("4601", "4601", "4601", "2", "2020", 6.0, None)]
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return Db(conn)


CFG = {"code": "region_canonical", "current": "region_current", "period": "tid",
       "value": "value", "status": "status", "indicators": ["kjonn"],
       "choices": {"kjonn": ["1", "2"]}}


def drive(coroutine):
    """Run a coroutine that never waits (the database here answers at once)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("the coroutine waited")


def run(db, place, args, cfg=CFG):
    sel = charts.Selection("t", cfg)
    drive(charts.choose(db, sel, charts.place_scope(cfg), {"place": place}, args))
    return sel, drive(charts.series(db, sel, place))


KEYED = {**CFG, "key": ["region", "kjonn", "tid"]}


@pytest.mark.parametrize("cfg", [CFG, KEYED], ids=["by rows", "by index entries"])
@pytest.mark.parametrize(("place", "args", "expected"), [
    ("0301", {"kjonn": "2"}, [("2019", 2020.0, None), ("2020", 2021.0, None)]),
    ("4601", {}, [("2019", 5.0, None), ("2020", 6.0, None)]),
    ("1201", {"kjonn": "2"}, [("2019", 5.0, None)]),
    ("0301", {"kjonn": "1"}, [("2019", 2019.0, None), ("2020", 2020.0, None)]),
])
def test_the_series_is_the_same_read_either_way(cfg, place, args, expected):
    db = database()
    assert run(db, place, args, cfg)[1] == expected
    if cfg is KEYED:
        assert any("MATERIALIZED" in sql for sql in db.sql)


def test_the_publish_time_choices_serve_a_place_that_has_them():
    db = database()
    sel, points = run(db, "0301", {"kjonn": "2"})
    assert sel.filters == {"kjonn": "2"} and sel.choices == {"kjonn": ["1", "2"]}
    assert points == [("2019", 2020.0, None), ("2020", 2021.0, None)]
    assert not any("DISTINCT" in sql for sql in db.sql)


def test_a_place_without_the_first_choice_gets_its_own_values():
    db = database()
    sel, points = run(db, "4601", {})
    assert sel.filters == {"kjonn": "2"} and sel.choices == {"kjonn": ["2"]}
    # today's code and the code valid then: the series spans the reform
    assert points == [("2019", 5.0, None), ("2020", 6.0, None)]


def test_the_old_code_alone_finds_its_own_rows():
    _, points = run(database(), "1201", {"kjonn": "2"})
    assert points == [("2019", 5.0, None)]


def test_place_scope_parts_are_disjoint_and_cover_both_codes():
    scope = charts.place_scope(CFG)
    assert charts.scope_parts(scope) == [
        '"region_current" = :place',
        '("region_canonical" = :place AND "region_canonical" IS NOT "region_current")']
    assert charts.scope_parts('"tid" = :period') == ['"tid" = :period']
