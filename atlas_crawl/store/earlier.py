"""What the last committed runs left in the database, for the spiders that continue from it.

A small, read-only API: a spider never reaches into the store's connection or writes SQL. Each
call opens the database read-only (a missing database or table reads as "nothing stored yet"),
so it sees exactly what earlier runs committed, never the current run's uncommitted writes.

- :meth:`StoredState.feed_cursor`: the last change a Brreg feed applied;
- :meth:`StoredState.watch_state`: the change watch's URLs and files per provider;
- :meth:`StoredState.recrawl_needed`: the sources the `recrawl_needed` view lists.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from atlas_crawl.watch.changes import FILE_COLUMNS, URL_COLUMNS, FileRow, ProviderState, UrlRow

FEED_CURSOR_TABLE = "brreg_feed_cursor"


class StoredState:
    def __init__(self, db_path: str | Path):
        self.path = Path(db_path)

    def _connect(self) -> sqlite3.Connection | None:
        if not self.path.is_file():
            return None
        return sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)

    def _tables(self, conn: sqlite3.Connection) -> set[str]:
        return {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}

    def feed_cursor(self, feed: str) -> int | None:
        """The last oppdateringsid a previous run of this feed applied, or None."""
        conn = self._connect()
        if conn is None:
            return None
        with closing(conn):
            if FEED_CURSOR_TABLE not in self._tables(conn):
                return None
            row = conn.execute(f'SELECT oppdateringsid FROM "{FEED_CURSOR_TABLE}" WHERE feed = ?',
                               (feed,)).fetchone()
        return int(row[0]) if row else None

    def watch_state(self, providers: Iterable[str]) -> dict[str, ProviderState]:
        """The monitor's state for `providers` as the last committed run left it (empty before
        the first run: the tables are created when a run writes)."""
        state = {p: ProviderState() for p in providers}
        conn = self._connect()
        if conn is None or not state:
            return state
        with closing(conn):
            tables = self._tables(conn)
            marks = ", ".join("?" * len(state))
            names = list(state)
            if "sitemap_urls" in tables:
                for row in conn.execute(f"SELECT {', '.join(URL_COLUMNS)} FROM sitemap_urls "
                                        f"WHERE provider IN ({marks})", names):
                    record = UrlRow(*row)
                    state[record.provider].urls[record.url] = record
            if "watched_files" in tables:
                for row in conn.execute(f"SELECT {', '.join(FILE_COLUMNS)} FROM watched_files "
                                        f"WHERE provider IN ({marks})", names):
                    record = FileRow(*row)
                    state[record.provider].files[record.url] = record
        return state

    def recrawl_needed(self) -> list[tuple[str, str]] | None:
        """(source_id, reason) of every source the recrawl_needed view lists; None when the
        monitor has never run on this database."""
        conn = self._connect()
        if conn is None:
            return None
        with closing(conn):
            if "recrawl_needed" not in self._tables(conn):
                return None
            return [tuple(r) for r in conn.execute(
                "SELECT source_id, reason FROM recrawl_needed ORDER BY source_id")]
