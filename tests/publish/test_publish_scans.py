"""Publish reads large tables without scanning them where an index or a sample answers: the
answers are the ones a full scan gives."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest

from atlas_crawl.publish import profile
from atlas_crawl.publish.site import charts


def table(index_period: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (region TEXT, level TEXT, kjonn TEXT, region_name TEXT, "
                 "tid TEXT, value REAL, PRIMARY KEY (region, kjonn, tid)) WITHOUT ROWID")
    rows = [(r, "kommune" if r != "03" else "fylke", k, f"Sted {r}", t, 1.0)
            for r in ("0301", "4601", "03") for k in ("1", "2")
            for t in ("2019", "2020", "2021")]
    rows.append(("03", "fylke", "1", "Sted 03", "2022", 2.0))  # a period with no kommune row
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", rows)
    if index_period:
        conn.execute("CREATE INDEX idx_t_tid ON t (tid)")
    return conn


def prof() -> SimpleNamespace:
    place = SimpleNamespace(level_column="level")
    return SimpleNamespace(place=place, period="tid", table="t")


@pytest.mark.parametrize("index_period", [True, False])
def test_kommune_periods_newest_first_with_or_without_an_index(index_period):
    conn = table(index_period)
    assert charts.leads_an_index(conn, "t", "tid") is index_period
    assert charts.kommune_periods(conn, prof()) == ["2021", "2020", "2019"]


def test_kommune_periods_stop_at_max_choices(monkeypatch):
    monkeypatch.setattr(charts, "MAX_CHOICES", 2)
    assert charts.kommune_periods(table(True), prof()) == ["2021", "2020"]


@pytest.mark.parametrize("sample", [1, 3, 100_000])
def test_same_as_answers_as_the_whole_table_does(monkeypatch, sample):
    monkeypatch.setattr(profile, "SAME_AS_SAMPLE", sample)
    conn = table(False)
    assert profile._same_as(conn, "t", "region_name", "region") is True
    assert profile._same_as(conn, "t", "kjonn", "region") is False
    assert profile._same_as(conn, "t", "tid", "region") is False
