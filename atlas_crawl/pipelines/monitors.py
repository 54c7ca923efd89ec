"""Run monitors (spidermon): is what this run is about to commit believable?

Checked per run, before its transaction commits, by the store (pipelines/store.py):

- `min_rows`: each source of the run delivered at least this many rows (default 1; not checked
  when the run read one saved file, `-a file=`);
- `max_shrink`: no table lost more than this share of its rows against the previous successful
  run (default 0.4: a table that shrinks by half is suspicious);
- `max_changed`: no table had more than this share of its existing rows' values changed
  (default 0.9: a table whose values all change is suspicious). Values are the `value` column,
  or the manifest's `monitors.value_columns`, or else every column outside the key and outside
  provenance (where and when a row was fetched: `*_url`, `*_last_modified`, `source_date`,
  `_run`, `_fetch` are not values). Only rows that carry a value in either run count: a
  suppressed cell that stays suppressed is neither changed nor unchanged;
- `finish_reason`: the crawl finished (`finished`);
- `unwanted_http_codes`: at most `max_unwanted_responses` (default 5) answers with one of these
  codes (default 401, 403, 407, 429, 500, 502, 503, 504), retried ones included;
- `max_quarantine_share`: at most this share of the rows received went to quarantine (default
  0.1), once more than `min_quarantine_rows` (default 10) were quarantined.

Thresholds come from the source manifest's optional `monitors:` block; `warn: [names]` (or
`warn: all`) makes those monitors only warn. A failed monitor fails the run (rolled back, the
previous data stays); a warning is logged and recorded. Every result goes to `_runs.monitors`
as JSON: `[{"name", "outcome": "passed"|"failed"|"warning"|"skipped", "detail"}]`.

The monitors are the test methods of one spidermon `Monitor` in a `MonitorSuite`, run with
spidermon's runner on the figures the store measured (`data.atlas`) and the crawl's stats.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from spidermon import Monitor, MonitorRunner, MonitorSuite

from atlas_crawl.manifests.monitors import DEFAULTS, MONITOR_NAMES


def thresholds_for(source_id: str) -> dict[str, Any]:
    from atlas_crawl.manifests import all_manifests

    manifest = all_manifests().get(source_id)
    return dict(manifest.monitors) if manifest is not None and manifest.monitors else dict(
        DEFAULTS)


# -- what the store measures during a run -----------------------------------------------------

# Where and when a row was fetched (the file's URL, its Last-Modified, the run and fetch that
# wrote it): provenance, not a value. The same bytes read from a file or from a recording give
# other URLs; that is not a change of the statistic.
_PROVENANCE = re.compile(r"^_|_url$|_last_modified$|^source_date$|^fetched_at$")


def is_provenance(column: str) -> bool:
    return bool(_PROVENANCE.search(column))



def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class TableChange:
    source_id: str
    before: int  # rows at the run's first write (= after the previous successful run)
    after: int = 0
    values_changed: int = 0
    valued: int = 0  # of `before`, rows with a value (not every value column NULL)
    gained: int = 0  # rows without a value before that got one in this run

    @property
    def shrink(self) -> float:
        return max(self.before - self.after, 0) / self.before if self.before else 0.0

    @property
    def with_values(self) -> int:
        """Existing rows that carry a value in either run: what a change is a share of."""
        return self.valued + self.gained

    @property
    def changed(self) -> float:
        # A row updated twice in one run counts twice: capped at every row.
        return min(self.values_changed / self.with_values, 1.0) if self.with_values else 0.0


@dataclass
class RunMeasures:
    """Rows per source and, per table, the row count before and after and how many existing
    rows had their values changed (counted by a temporary trigger on the store's connection,
    so only this run's updates are seen)."""

    rows_by_source: dict[str, int] = field(default_factory=dict)
    tables: dict[str, TableChange] = field(default_factory=dict)

    def watch(self, conn: sqlite3.Connection, table: str, source_id: str) -> None:
        """Call before the run's first write to `table`."""
        if table in self.tables:
            return
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                              (table,)).fetchone()
        if not exists:
            self.tables[table] = TableChange(source_id, 0)
            return
        before, = conn.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()
        self.tables[table] = TableChange(source_id, before)
        info = conn.execute(f"PRAGMA table_info({_quote(table)})").fetchall()
        columns = [r[1] for r in info if not is_provenance(r[1])]
        key = {r[1] for r in info if r[5]}
        wanted = thresholds_for(source_id)["value_columns"]
        values = ([c for c in wanted if c in columns] or (["value"] if "value" in columns else
                  [c for c in columns if c not in key]))
        if not values or not before:
            return
        some = " OR ".join(f"{_quote(c)} IS NOT NULL" for c in values)
        self.tables[table].valued, = conn.execute(
            f"SELECT count(*) FROM {_quote(table)} WHERE {some}").fetchone()
        condition = " OR ".join(f"OLD.{_quote(c)} IS NOT NEW.{_quote(c)}" for c in values)
        had_none = " AND ".join(f"OLD.{_quote(c)} IS NULL" for c in values)
        # The trigger calls a function instead of writing a counter table: a write would count
        # in the connection's total_changes, which the store reads as rows changed.
        conn.create_function("atlas_value_changed", 2, self._count_change)
        conn.execute(
            f"CREATE TEMP TRIGGER IF NOT EXISTS {_quote('_atlas_changed_' + table)} "
            f"AFTER UPDATE ON main.{_quote(table)} WHEN {condition} BEGIN "
            f"SELECT atlas_value_changed({_sql_text(table)}, {had_none}); END")

    def _count_change(self, table: str, had_none: int) -> None:
        change = self.tables[table]
        change.values_changed += 1
        change.gained += bool(had_none)

    def measure(self, conn: sqlite3.Connection) -> None:
        """Call after the run's last write (and replacements), before commit."""
        for table, change in self.tables.items():
            change.after, = conn.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()

    def close(self, conn: sqlite3.Connection) -> None:
        for table in self.tables:
            conn.execute(f"DROP TRIGGER IF EXISTS temp.{_quote('_atlas_changed_' + table)}")


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# -- the monitors -----------------------------------------------------------------------------


class RunMonitor(Monitor):
    """The checks, one test method each, named `test_<name>` after the manifests' `monitors:`
    keys. Reads `self.data.atlas`: {"sources": {id: thresholds}, "measures": RunMeasures,
    "received", "quarantined", "main_source"} and the crawl's `self.data.stats`."""

    @property
    def atlas(self) -> dict:
        return self.data["atlas"]

    def limits(self, source_id: str | None = None) -> dict:
        return self.atlas["sources"][source_id or self.atlas["main_source"]]

    def assert_tables_within(self, limit: str, share: str,
                             said: Callable[[str, TableChange], str]) -> None:
        """Fail naming every table whose `share` of its rows (a TableChange attribute) is over
        its source's `limit`: `said(table, change)`, then the share and the limit."""
        bad = [f"{said(table, c)} ({getattr(c, share):.0%}, more than "
               f"{self.limits(c.source_id)[limit]:.0%})"
               for table, c in sorted(self.atlas["measures"].tables.items())
               if getattr(c, share) > self.limits(c.source_id)[limit]]
        self.assertFalse(bad, msg="; ".join(bad))

    def test_min_rows(self):
        if self.atlas.get("file_run"):
            self.skipTest("one saved file (-a file=) is stored as it is")
        short = []
        for source_id in self.atlas["sources"]:
            rows = self.atlas["measures"].rows_by_source.get(source_id, 0)
            if rows < self.limits(source_id)["min_rows"]:
                short.append(f"{source_id} delivered {rows:,} rows, expected at least "
                             f"{self.limits(source_id)['min_rows']:,}")
        self.assertFalse(short, msg="; ".join(short))

    def test_max_shrink(self):
        if self.atlas.get("allow_shrink"):
            self.skipTest("-a allow_shrink=1: the user said the source really dropped rows")
        self.assert_tables_within("max_shrink", "shrink", lambda table, c: (
            f"{table} shrank from {c.before:,} to {c.after:,} rows"))

    def test_max_changed(self):
        self.assert_tables_within("max_changed", "changed", lambda table, c: (
            f"{table}: values of {c.values_changed:,} of {c.with_values:,} existing rows with a "
            "value changed"))

    def test_finish_reason(self):
        reason = self.data.stats.get("finish_reason")
        expected = self.limits()["expected_finish_reasons"]
        self.assertIn(reason, expected, msg=f"finished with {reason!r}, expected one of "
                                             f"{expected}")

    def test_unwanted_http_codes(self):
        limits = self.limits()
        counts = {code: self.data.stats.get(f"downloader/response_status_count/{code}", 0)
                  for code in limits["unwanted_http_codes"]}
        counts = {code: n for code, n in counts.items() if n}
        total = sum(counts.values())
        self.assertLessEqual(
            total, limits["max_unwanted_responses"],
            msg=f"{total} unwanted HTTP answers ("
                + ", ".join(f"{n}x {code}" for code, n in sorted(counts.items()))
                + f"), more than {limits['max_unwanted_responses']}")

    def test_max_quarantine_share(self):
        limits = self.limits()
        # Quarantined rows are taken out of the batches: the run read received + quarantined.
        quarantined = self.atlas["quarantined"]
        received = self.atlas["received"] + quarantined
        share = quarantined / received if received else 0.0
        exploded = quarantined > limits["min_quarantine_rows"] and \
            share > limits["max_quarantine_share"]
        self.assertFalse(exploded, msg=f"{quarantined:,} of {received:,} rows quarantined "
                                       f"({share:.0%}, more than "
                                       f"{limits['max_quarantine_share']:.0%})")


class RunMonitorSuite(MonitorSuite):
    monitors: ClassVar[list] = [RunMonitor]


def run_monitor_suite(stats: dict, measures: RunMeasures, main_source: str,
                      received: int, quarantined: int, file_run: bool = False,
                      allow_shrink: bool = False) -> list[dict]:
    """Run the suite; one result per monitor: name, outcome (passed / failed / warning /
    skipped), detail. `file_run`: the run read one saved file (-a file=), so min_rows is not
    checked; `allow_shrink`: -a allow_shrink=1 was given, so max_shrink is not checked."""
    source_ids = set(measures.rows_by_source) | {main_source}
    sources = {s: thresholds_for(s) for s in sorted(source_ids)}
    runner = MonitorRunner()
    result = runner.run(RunMonitorSuite(), stats=stats, atlas={
        "sources": sources, "measures": measures, "main_source": main_source,
        "received": received, "quarantined": quarantined, "file_run": file_run,
        "allow_shrink": allow_shrink})
    warn = set(sources[main_source]["warn"])
    out = []
    for item in result.monitor_results:
        name = item.monitor.method_name.removeprefix("test_")
        if item.status == "OK":
            outcome, detail = "passed", None
        elif item.status == "SKIPPED":
            outcome, detail = "skipped", item.reason
        else:
            outcome = "warning" if name in warn else "failed"
            detail = _assertion_message(item.error)
        out.append({"name": name, "outcome": outcome, "detail": detail})
    return sorted(out, key=lambda r: MONITOR_NAMES.index(r["name"])
                  if r["name"] in MONITOR_NAMES else len(MONITOR_NAMES))


def _assertion_message(error: str | None) -> str:
    """The message of an assertion in a unittest traceback text, on one line."""
    text = (error or "").strip().splitlines()
    last = text[-1] if text else "failed"
    last = last.removeprefix("AssertionError: ")
    # unittest prefixes the message with its own comparison ("True is not false : ...").
    return last.split(" : ", 1)[-1]


def ensure_monitors_column(conn: sqlite3.Connection) -> None:
    columns = {r[1] for r in conn.execute("PRAGMA table_info(_runs)")}
    if columns and "monitors" not in columns:
        conn.execute("ALTER TABLE _runs ADD COLUMN monitors TEXT")


def record(conn: sqlite3.Connection, run_id: str, results: list[dict]) -> None:
    conn.execute("UPDATE _runs SET monitors = ? WHERE run_id = ?",
                 (json.dumps(results, ensure_ascii=False), run_id))


def monitor_results(db: str, run_id: str | None = None) -> dict[str, list[dict]]:
    """Monitor results per run (run id -> list of {name, outcome, detail}), for `status`: every
    run that has them, or the one named."""
    conn = sqlite3.connect(db)
    try:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(_runs)")}
        if "monitors" not in columns:
            return {}
        sql = "SELECT run_id, monitors FROM _runs WHERE monitors IS NOT NULL"
        params: tuple = ()
        if run_id:
            sql += " AND run_id = ?"
            params = (run_id,)
        return {rid: json.loads(text) for rid, text in conn.execute(sql + " ORDER BY rowid",
                                                                       params)}
    finally:
        conn.close()


def summary(results: list[dict]) -> str:
    """'ok' or the monitors that did not pass, e.g. 'max_shrink failed, min_rows warning'."""
    bad = [f"{r['name']} {r['outcome']}" for r in results if r["outcome"] != "passed"]
    return ", ".join(bad) or "ok"
