"""The SQLite store through real crawls: upserts on the natural key, codes as text, one
transaction per run (a failed run leaves the previous data exactly as it was), the `_runs`
ledger, and write_mode 'replace'."""

import json
import sqlite3
from pathlib import Path

import pytest
import pytest_twisted
from conftest import make_manifest, query

from atlas_crawl.items import Batch, Provenance, Quarantined
from atlas_crawl.manifests import all_manifests, register
from atlas_crawl.run.golden import crawl, crawl_settings, runs
from atlas_crawl.spiders.base import AtlasSpider
from atlas_crawl.store.writes import Store

SOURCE = "test_store_rows"
REPLACING = "test_store_replace"
COLUMNS = ["kommune", "year", "value", "status"]
KEY = ["kommune", "year"]
V1 = [["0301", "2024", 1.0, None], ["0301", "2025", 2.0, None],
      ["1103", "2024", 3.0, None], ["1103", "2025", None, ":"]]


class RowsSpider(AtlasSpider):
    """Reads `{"batches": [[row, ...], ...], "fail_at": n, "how": "raise"|"log"}` from -a file=
    and yields one Batch per inner list; at batch `fail_at` it raises or logs an error."""

    name = "test_store_rows"
    source_id = SOURCE
    spider_args = {"source_id": "the test source to write as"}  # noqa: RUF012

    def parse_file(self, response):
        spec = json.loads(response.body)
        for n, rows in enumerate(spec["batches"]):
            if n == spec.get("fail_at"):
                if spec["how"] == "raise":
                    raise RuntimeError(f"feed broke after {n} batches")
                self.logger.error("upstream answered 500 for part %d", n)
            yield from self.batches(response, COLUMNS, [tuple(r) for r in rows], KEY,
                                    types={"value": float})


def _manifest(source_id: str, tmp: Path, **fields):
    return make_manifest(source_id, tmp, **fields)


@pytest.fixture(autouse=True)
def manifests(tmp_path):
    register(_manifest(SOURCE, tmp_path))
    register(_manifest(REPLACING, tmp_path, write_mode="replace"))
    yield
    all_manifests().pop(SOURCE, None)
    all_manifests().pop(REPLACING, None)


def feed(tmp_path: Path, name: str, batches, **extra) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"batches": batches, **extra}), encoding="utf-8")
    return str(path)


async def run(db: Path, file: str, **args) -> dict:
    crawler = await crawl(RowsSpider, crawl_settings(db, replay=False), file=file, **args)
    crawler.atlas_test_stats = crawler.stats.get_stats()
    return runs(db)[-1]


def dump(db: Path, table: str = SOURCE) -> list[tuple]:
    """Every stored value of the table, bookkeeping columns included, in key order."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f'SELECT * FROM "{table}" ORDER BY kommune, year').fetchall()
    finally:
        conn.close()



# -- crawls -------------------------------------------------------------------------------------

@pytest_twisted.ensureDeferred
async def test_same_data_twice_leaves_the_table_identical(tmp_path):
    db = tmp_path / "atlas.db"
    file = feed(tmp_path, "v1", [V1[:2], V1[2:]])
    first = await run(db, file)
    assert (first["status"], first["rows_received"], first["rows_written"]) == ("ok", 4, 4)
    assert first["error"] is None and first["spider"] == "test_store_rows"
    assert json.loads(first["arguments"]) == {"file": file}
    before = dump(db)
    assert {row[4] for row in before} == {first["id"]}
    # Every row traces to the response it came from: row -> _fetches (URL, sha256, time).
    assert query(db, f'SELECT DISTINCT f.run_id, f.url, length(f.sha256) FROM "{SOURCE}" AS t '
                     "JOIN _fetches AS f ON f.id = t._fetch") == [
        (first["run_id"], Path(file).as_uri(), 64)]

    second = await run(db, file)
    assert (second["status"], second["rows_received"], second["rows_written"]) == ("ok", 4, 0)
    assert dump(db) == before  # _run still names the run that wrote the rows
    # Two batches of one response are one fetch of 4 rows, per run.
    assert query(db, "SELECT run_id, rows FROM _fetches ORDER BY rowid") == [
        (first["run_id"], 4), (second["run_id"], 4)]


@pytest_twisted.ensureDeferred
async def test_codes_stay_text_and_values_real(tmp_path):
    db = tmp_path / "atlas.db"
    await run(db, feed(tmp_path, "v1", [V1]))
    types = {r[1]: r[2] for r in query(db, f'PRAGMA table_info("{SOURCE}")')}
    assert types == {"kommune": "TEXT", "year": "TEXT", "value": "REAL", "status": "TEXT",
                     "_run": "INTEGER", "_fetch": "INTEGER"}
    assert query(db, f'SELECT typeof(kommune), kommune, typeof(value), value FROM "{SOURCE}" '
                     "ORDER BY kommune, year LIMIT 1") == [("text", "0301", "real", 1.0)]
    assert query(db, f'SELECT value, status FROM "{SOURCE}" WHERE kommune = ? AND year = ?',
                 "1103", "2025") == [(None, ":")]
    pk = [r[1] for r in sorted(query(db, f'PRAGMA table_info("{SOURCE}")'), key=lambda r: r[5])
          if r[5]]
    assert pk == KEY


@pytest_twisted.ensureDeferred
async def test_a_changed_value_rewrites_only_its_row(tmp_path):
    db = tmp_path / "atlas.db"
    first = await run(db, feed(tmp_path, "v1", [V1]))
    changed = [list(r) for r in V1]
    changed[1][2] = 2.5
    second = await run(db, feed(tmp_path, "v2", [changed]))
    assert second["rows_written"] == 1
    stored = {(r[0], r[1]): (r[2], r[4]) for r in dump(db)}
    assert stored[("0301", "2025")] == (2.5, second["id"])
    assert stored[("0301", "2024")] == (1.0, first["id"])


@pytest.mark.parametrize(("how", "message", "received"), [
    ("raise", "RuntimeError: feed broke after 2 batches", 4),  # the third batch never came
    ("log", "upstream answered 500 for part 2", 5),  # it came, after the error was logged
])
@pytest_twisted.ensureDeferred
async def test_a_run_failing_half_way_is_rolled_back(tmp_path, how, message, received):
    db = tmp_path / "atlas.db"
    good = await run(db, feed(tmp_path, "v1", [V1[:2], V1[2:]]))
    before = dump(db)
    fetches = query(db, "SELECT * FROM _fetches")

    # Every value changes and a row is added; two batches are written before the failure.
    bad_rows = [[k, y, (v or 0) + 100, None] for k, y, v, _ in V1] + [["5001", "2024", 9.0, None]]
    bad = await run(db, feed(tmp_path, "v2", [bad_rows[:2], bad_rows[2:4], bad_rows[4:]],
                             fail_at=2, how=how))
    assert bad["status"] == "failed"
    assert message in bad["error"]
    assert bad["rows_written"] == 0 and bad["rows_received"] == received
    assert dump(db) == before
    assert query(db, "SELECT * FROM _fetches") == fetches
    assert [r["status"] for r in runs(db)] == ["ok", "failed"]
    assert runs(db)[0]["run_id"] == good["run_id"]


@pytest_twisted.ensureDeferred
async def test_a_first_run_that_fails_leaves_no_table(tmp_path):
    db = tmp_path / "atlas.db"
    bad = await run(db, feed(tmp_path, "v1", [V1[:2], V1[2:]], fail_at=1, how="raise"))
    assert bad["status"] == "failed" and "feed broke after 1 batches" in bad["error"]
    assert query(db, "SELECT name FROM sqlite_master WHERE name = ?", SOURCE) == []


@pytest_twisted.ensureDeferred
async def test_write_mode_replace_removes_rows_not_delivered(tmp_path):
    db = tmp_path / "atlas.db"
    first = await run(db, feed(tmp_path, "v1", [V1[:2], V1[2:]]), source_id=REPLACING)
    assert first["rows_written"] == 4 and len(dump(db, REPLACING)) == 4

    # 1103/2025 is no longer published; the rest is unchanged. One row of four is more than the
    # share a replace run may remove unasked (ATLAS_MAX_SHRINK_SHARE), so the run says it means it.
    second = await run(db, feed(tmp_path, "v2", [V1[:2], V1[2:3]]), source_id=REPLACING,
                       allow_shrink="1")
    assert second["status"] == "ok"
    assert second["rows_written"] == 1  # the removal is a change
    assert [(r[0], r[1], r[4]) for r in dump(db, REPLACING)] == [
        ("0301", "2024", first["id"]), ("0301", "2025", first["id"]),
        ("1103", "2024", first["id"])]

    third = await run(db, feed(tmp_path, "v2", [V1[:2], V1[2:3]]), source_id=REPLACING)
    assert third["rows_written"] == 0 and len(dump(db, REPLACING)) == 3

    # A failed replace run removes nothing.
    failed = await run(db, feed(tmp_path, "v3", [V1[:1], []], fail_at=1, how="raise"),
                       source_id=REPLACING)
    assert failed["status"] == "failed" and len(dump(db, REPLACING)) == 3


def test_replace_by_replaces_only_the_partitions_a_run_delivered(tmp_path):
    store = Store(tmp_path / "atlas.db")

    def write(rows, run):
        run_id = store.start_run("manual", {"run": run})
        batch = Batch(REPLACING, COLUMNS, [tuple(r) for r in rows], KEY, PROV,
                      types={"value": float})
        store.write_batch(batch, run_id, replace=True, replace_by=["year"])
        return store.commit()

    assert write(V1, 1) == 0
    # A run of the 2025 file alone, where 1103 is no longer listed: only 2025 is replaced.
    assert write([V1[1]], 2) == 1
    assert query(tmp_path / "atlas.db", f'SELECT kommune, year FROM "{REPLACING}" '
                 "ORDER BY kommune, year") == [("0301", "2024"), ("0301", "2025"),
                                               ("1103", "2024")]
    store.close()


def test_replace_by_must_name_key_columns(tmp_path):
    store = Store(tmp_path / "atlas.db")
    run_id = store.start_run("manual", {})
    batch = Batch(REPLACING, COLUMNS, [tuple(V1[0])], KEY, PROV, types={"value": float})
    with pytest.raises(ValueError, match=r"replace_by \['status'\] must be key columns"):
        store.write_batch(batch, run_id, replace=True, replace_by=["status"])
    store.rollback()
    store.close()


# -- the Store itself ---------------------------------------------------------------------------

PROV = Provenance("https://example.org/t1.json", "cd" * 32, "2026-01-01T00:00:00Z")


def test_quarantine_and_fetches_are_written_with_the_run(tmp_path):
    store = Store(tmp_path / "atlas.db")
    run_id = store.start_run("manual", {"x": "1"})
    batch = Batch(SOURCE, COLUMNS, [tuple(r) for r in V1[:2]], KEY, PROV, types={"value": float},
                  quarantine=[Quarantined("kommune", "Atlantis", "kommune 'Atlantis': unknown",
                                          {"kommune": "Atlantis", "value": 4})])
    assert store.write_batch(batch, run_id) == 2
    store.commit()
    store.finish_run(run_id, status="ok", source_ids=[SOURCE], received=2, written=2,
                     quarantined=1, error=None)
    store.close()
    db = tmp_path / "atlas.db"
    assert query(db, "SELECT run_id, source_id, table_name, column_name, raw_value, reason, "
                     "row_json, source_url FROM quarantine") == [
        (run_id, SOURCE, SOURCE, "kommune", "Atlantis", "kommune 'Atlantis': unknown",
         '{"kommune": "Atlantis", "value": 4}', PROV.url)]
    assert query(db, "SELECT url, sha256, fetched_at, rows FROM _fetches") == [
        (PROV.url, PROV.sha256, PROV.fetched_at, 2)]
    ledger = runs(db)[0]
    assert (ledger["status"], ledger["rows_quarantined"], ledger["source_ids"]) == (
        "ok", 1, SOURCE)


def test_rollback_drops_everything_the_run_wrote(tmp_path):
    store = Store(tmp_path / "atlas.db")
    first = store.start_run("manual", {})
    store.write_batch(Batch(SOURCE, COLUMNS, [tuple(r) for r in V1], KEY, PROV,
                            types={"value": float}), first)
    store.commit()
    second = store.start_run("manual", {})
    rows = [("0301", "2024", 7.0, None), ("9999", "2024", 1.0, None)]
    assert store.write_batch(Batch(SOURCE, COLUMNS, rows, KEY, PROV,
                                   quarantine=[Quarantined("kommune", "x", "r", {})]),
                             second) == 2
    assert store.in_transaction
    store.rollback()
    assert not store.in_transaction
    store.close()
    db = tmp_path / "atlas.db"
    assert [r[:3] for r in dump(db)] == [tuple(r[:3]) for r in V1]
    assert query(db, "SELECT count(*) FROM quarantine") == [(0,)]
    assert query(db, "SELECT DISTINCT run_id FROM _fetches") == [(first,)]


def test_a_new_column_is_added_to_an_existing_table(tmp_path):
    store = Store(tmp_path / "atlas.db")
    first = store.start_run("manual", {})
    store.write_batch(Batch(SOURCE, COLUMNS, [tuple(r) for r in V1[:1]], KEY, PROV), first)
    store.commit()
    second = store.start_run("manual", {})
    wider = [*COLUMNS, "unit"]
    assert store.write_batch(Batch(SOURCE, wider, [("0301", "2025", 2.0, None, "personer")],
                                   KEY, PROV), second) == 1
    store.commit()
    store.close()
    assert query(tmp_path / "atlas.db",
                 f'SELECT kommune, year, unit FROM "{SOURCE}" ORDER BY year') == [
        ("0301", "2024", None), ("0301", "2025", "personer")]


def test_complete_for_removes_what_a_delivered_key_no_longer_has(tmp_path):
    # An organisation's categories are its whole list: one it dropped goes, others stay.
    store = Store(tmp_path / "atlas.db")
    columns, key = ["orgnr", "rank", "category"], ["orgnr", "rank"]

    def write(rows, orgnrs):
        run_id = store.start_run("manual", {})
        written = store.write_batch(
            Batch("cats", columns, rows, key, PROV, types={"rank": int},
                  complete_for=("orgnr", tuple(orgnrs))), run_id)
        store.commit()
        return written

    assert write([("1", 1, "a"), ("1", 2, "b"), ("2", 1, "c")], ["1", "2"]) == 3
    assert write([("1", 1, "a")], ["1"]) == 1  # org 1 dropped its second category
    assert query(tmp_path / "atlas.db", "SELECT orgnr, rank, category FROM cats "
                 "ORDER BY orgnr, rank") == [("1", 1, "a"), ("2", 1, "c")]
    assert write([], ["2"]) == 1  # org 2 delivered with no category at all
    assert query(tmp_path / "atlas.db", "SELECT orgnr FROM cats") == [("1",)]
    store.close()


def test_complete_for_must_name_a_key_column():
    with pytest.raises(ValueError, match="complete_for column 'category' is not a key column"):
        Batch("cats", ["orgnr", "category"], [], ["orgnr"], PROV,
              complete_for=("category", ("a",)))


def test_references_link_codes_to_their_dimension_table(tmp_path):
    db = tmp_path / "atlas.db"
    store = Store(db)
    run_id = store.start_run("manual", {})
    dim = f"{SOURCE}__kommune"
    store.write_batch(Batch(SOURCE, ["code", "label"], [("0301", "Oslo")], ["code"], PROV,
                            table=dim), run_id)
    store.write_batch(Batch(SOURCE, COLUMNS, [tuple(r) for r in V1[:1]], KEY, PROV,
                            references={"kommune": dim}), run_id)
    store.commit()
    store.close()
    assert sorted((r[3], r[2], r[4]) for r in query(db, f'PRAGMA foreign_key_list("{SOURCE}")')
                  ) == [("_fetch", "_fetches", "id"), ("_run", "_runs", "id"),
                        ("kommune", dim, "code")]
    # Clustered on the natural key: no rowid, no second copy of the key in an index.
    assert query(db, "SELECT sql LIKE '%WITHOUT ROWID' FROM sqlite_master WHERE name = ?",
                 SOURCE) == [(1,)]
    assert query(db, f'SELECT t.kommune, d.label FROM "{SOURCE}" AS t '
                     f'JOIN "{dim}" AS d ON d.code = t.kommune') == [("0301", "Oslo")]
