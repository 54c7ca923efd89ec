"""`python -m atlas_crawl status`: freshness counted from live runs only, rows, the last error and
the change watch's verdict, per source; and the command line around it."""

from __future__ import annotations

import copy
import socket
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import run_python

from atlas_crawl import PROJECT_DIR
from atlas_crawl.manifests import parse_manifest
from atlas_crawl.run.cli import build_parser, demo_cases
from atlas_crawl.run.status import NO_WATCH, format_table, source_status

NOW = datetime(2026, 11, 1, tzinfo=UTC)
BASE = {
    "upstream_id": "x", "upstream_url": "https://example.test/api", "publisher": "Testbyrå",
    "license": "CC BY 4.0", "license_url": "https://creativecommons.org/licenses/by/4.0/",
    "eu_theme": "SOCI", "methodology_version": "1", "presentation_policy": "standard",
    "periodicity": "P1Y", "dimensions": [{"code": "x", "meaning": "x"}],
    "tags": {"provider": "ssb", "topic": "income", "geo": "kommune", "cadence": "annual"},
}


def manifest(source_id: str, **fields):
    data = copy.deepcopy(BASE)
    data.update(source_id=source_id, upstream_title=source_id, description=source_id,
                attribution=source_id, **fields)
    return parse_manifest(Path(f"{source_id}.yml"), data)


MANIFESTS = {m.source_id: m for m in (
    manifest("live_one"), manifest("replayed"), manifest("from_file"), manifest("broken"),
    manifest("never"), manifest("monthly", periodicity="P1M"))}


def build(path: Path, monitor: bool) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("""
    CREATE TABLE _runs (run_id TEXT PRIMARY KEY, spider TEXT NOT NULL, source_ids TEXT,
        arguments TEXT, started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL,
        rows_received INTEGER, rows_written INTEGER, rows_quarantined INTEGER, error TEXT);
    CREATE TABLE live_one (k TEXT PRIMARY KEY, value REAL);
    INSERT INTO live_one VALUES ('a', 1), ('b', 2), ('c', 3);
    CREATE TABLE replayed (k TEXT PRIMARY KEY, value REAL);
    INSERT INTO replayed VALUES ('a', 1);
    CREATE TABLE monthly (k TEXT PRIMARY KEY, value REAL);
    """)
    conn.executemany("INSERT INTO _runs VALUES (?,?,?,?,?,?,?,0,0,0,?)", [
        ("r1", "live_one", "live_one", "{}", "2026-10-01T10:00:00Z", "2026-10-01T10:05:00Z",
         "ok", None),
        ("r2", "replayed", "replayed", '{"atlas_replay": true}', "2026-10-31T10:00:00Z",
         "2026-10-31T10:01:00Z", "ok", None),
        ("r3", "from_file", "from_file", '{"file": "/tmp/x/05803.json"}',
         "2026-10-31T11:00:00Z", "2026-10-31T11:01:00Z", "ok", None),
        ("r4", "broken", "broken", "{}", "2026-10-30T10:00:00Z", "2026-10-30T10:01:00Z",
         "failed", "blocked by a browser check at https://example.test/x"),
        # an old live success, then replays: freshness still comes from the live run
        ("r5", "monthly", "monthly", "{}", "2026-08-01T10:00:00Z", "2026-08-01T10:01:00Z",
         "ok", None),
        ("r6", "monthly", "monthly", '{"atlas_replay": true}', "2026-10-31T10:00:00Z",
         "2026-10-31T10:01:00Z", "ok", None),
    ])
    if monitor:
        conn.execute("CREATE TABLE watched (source_id TEXT, reason TEXT)")
        conn.execute("INSERT INTO watched VALUES ('live_one', 'watched URLs changed since its "
                     "last successful run')")
        conn.execute("CREATE VIEW recrawl_needed AS SELECT source_id, reason FROM watched")
    conn.commit()
    conn.close()


@pytest.fixture(params=[True, False], ids=["monitored", "unmonitored"])
def statuses(request, tmp_path):
    db = tmp_path / "atlas.db"
    build(db, monitor=request.param)
    return request.param, {s.source_id: s for s in source_status(db, MANIFESTS, now=NOW)}


def test_freshness_counts_live_runs_only(statuses):
    _, s = statuses
    assert (s["live_one"].freshness, s["live_one"].mode, s["live_one"].rows) == (
        "fresh", "live", 3)
    assert (s["replayed"].freshness, s["replayed"].mode, s["replayed"].rows) == (
        "not live (replay)", "replay of recorded responses", 1)
    assert (s["from_file"].freshness, s["from_file"].mode, s["from_file"].rows) == (
        "not live (file)", "file 05803.json", None)
    # monthly: live 2026-08-01 is three months old, whatever the later replays say
    assert (s["monthly"].freshness, s["monthly"].last_success) == (
        "overdue", "2026-10-31T10:01:00Z")
    assert (s["never"].freshness, s["never"].last_success, s["never"].rows) == (
        "never crawled", None, None)


def test_last_error_and_recrawl(statuses):
    monitored, s = statuses
    assert s["broken"].last_error == "blocked by a browser check at https://example.test/x"
    assert s["broken"].freshness == "never crawled" and s["live_one"].last_error is None
    if monitored:
        assert s["live_one"].recrawl == ("yes: watched URLs changed since its last successful "
                                         "run")
        assert s["replayed"].recrawl == "no"
    else:
        assert {x.recrawl for x in s.values()} == {NO_WATCH}


def test_table_has_one_line_per_source(statuses):
    _, s = statuses
    lines = format_table(list(s.values())).splitlines()
    assert lines[0].split()[:3] == ["source", "last", "success"]
    live = next(line for line in lines if line.startswith("live_one "))
    assert live.split()[:6] == ["live_one", "2026-10-01T10:05:00", "live", "live", "3", "fresh"]


def python(*args: str) -> subprocess.CompletedProcess:
    return run_python("-m", *args)


def test_no_subcommand_prints_usage_and_exits_2():
    result = python("atlas_crawl")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: python -m atlas_crawl")
    for command in ("replay-all", "publish", "serve", "status", "check-port"):
        assert command in result.stderr


def test_every_subcommand_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == {"update", "replay-all", "publish", "serve", "status",
                                "check-port", "migrate"}
    for name, command in sub.choices.items():
        assert command.description and len(command.description) > 20, name
        for action in command._actions:
            assert action.help, (name, action.dest)


def test_status_command_prints_every_source(tmp_path):
    db = tmp_path / "atlas.db"
    build(db, monitor=False)
    result = python("atlas_crawl", "status", "--db", str(db))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("source")
    assert any(line.startswith("ssb_07459 ") and "never crawled" in line for line in lines)
    missing = python("atlas_crawl", "status", "--db", str(tmp_path / "nothing.db"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_check_port_reports_a_busy_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = python("atlas_crawl", "check-port", "--port", str(port))
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr


def test_demo_leaves_out_cases_run_on_test_manifests():
    names = {c.name for c in demo_cases()}
    assert "sitemap_watch" not in names
    assert {"ssb_07459", "imdi_bosetting", "nav_helt_ledige"} <= names


def test_demo_checks_the_port_before_the_replay():
    script = (PROJECT_DIR / "scripts" / "demo.sh").read_text(encoding="utf-8")
    assert script.index("check-port") < script.index("update --replay")
