"""What the kommune report (`/kommune/<code or name>`, publish/site/kommune.py) needs to know
about each table, written by `publish` into the metadata (`plugins: atlas-report:`), so a page
reads only the rows of a few kommuner and never profiles a table while a reader waits:

- per table with kommune rows: its source, title, topic, provider, which columns hold the place
  (today's code, level), period, value, unit, status and indicators, its primary key (for the
  row link), the labels and units of its indicator codes, the codes of its national rows, which
  direction is better (the manifest's `better:`), whether its numbers add up over kommuner (the
  manifest's `additive: true`), and where the kommune's series on today's borders is read
  (`<table>_today` when that view exists with the same columns, else the table), and the
  fylker whose kommuner it covers;
- the population of every kommune in the latest period of the table whose manifest marks it
  `catalogue: population: {<indicator column>: <code>}`, for "kommuner of the same size".
"""

from __future__ import annotations

import re
import sqlite3

from atlas_crawl.formats import imdi_words
from atlas_crawl.geo.columns import CURRENT, GEO_STATUS
from atlas_crawl.publish.profile import TableProfile, quote, view_names

REPORT_KEY = "atlas-report"
GENERIC_VALUES = {"value", "verdi", "antall", "value_mean"}
TODAY_SUFFIX = "_today"
MAX_LABELS = 3000  # indicator codes labelled per column (more: the code is shown)


def adds_up(m) -> bool:
    """The manifest says its numbers add up over kommuner (`additive: true`), so a fylke's or
    Norway's missing figure may be computed from them."""
    if m is None:
        return False
    declared = getattr(m, "additive", None)
    if declared is None:
        declared = m.extra.get("additive")
    return declared is True


def _has_kommune_rows(conn: sqlite3.Connection, prof: TableProfile) -> bool:
    place = prof.place
    return bool(conn.execute(
        f"SELECT 1 FROM {quote(prof.table)} WHERE {quote(place.level_column)} = 'kommune' "
        "LIMIT 1").fetchone())


CODE_WORDS = re.compile(r"(?:^|[\s,|])([\w-]+) \(([^()]+)\)")


def meaning_of(prof: TableProfile, column: str) -> str | None:
    """The manifest's `dimensions` meaning of a column."""
    if prof.manifest is None:
        return None
    return next((d.meaning for d in prof.manifest.dimensions
                 if d.code.lower() == column.lower()), None)


PLACE_LEVELS = {"kommune", "bydel", "fylke", "land"}


def _codes(conn: sqlite3.Connection, prof: TableProfile, column: str) -> list[str]:
    return [str(r[0]) for r in conn.execute(
        f"SELECT DISTINCT {quote(column)} FROM {quote(prof.table)} WHERE {quote(column)} "
        f"IS NOT NULL LIMIT {MAX_LABELS}")]


def header_keys(prof: TableProfile) -> list[str]:
    """The indicator columns holding IMDi's header tokens (`innvkat_3.alle`,
    `alder_grupper.0_5, kjonn.0`): those of a source its manifest reads as IMDi exports."""
    if prof.manifest is None or "imdi_export" not in prof.manifest.extra:
        return []
    return [c for c in prof.indicators if c in ("variabel", "nedbrytning")]


def quiet(conn: sqlite3.Connection, prof: TableProfile) -> list[str]:
    """Indicator columns that only say which geography's file a row came from (every value is a
    place level: IMDi's `inndeling` kommune | bydel): nothing a reader needs beside a figure."""
    return [c for c in prof.indicators
            if (codes := _codes(conn, prof, c)) and set(codes) <= PLACE_LEVELS]


def labels(conn: sqlite3.Connection, prof: TableProfile,
           lang: str = "nb") -> dict[str, dict[str, str]]:
    """Per indicator column: code -> label, from the table the source describes its codes in,
    else IMDi's header tokens in words (atlas_crawl.formats.imdi_words), else from the
    manifest's meaning of the column when it names its codes ("NPLES (lesing) | NPREG
    (regning)", "st (stortingsvalg), k (kommunestyrevalg)")."""
    out = {}
    worded = header_keys(prof)
    for column in prof.indicators:
        if column in worded:
            out[column] = {code: imdi_words.key_words(code, lang)
                           for code in _codes(conn, prof, column)}
            continue
        if lang != "nb":
            continue
        table, key, label = prof.lookups.get(column, (None, None, None))
        if not label:
            named = dict(CODE_WORDS.findall(meaning_of(prof, column) or ""))
            if len(named) >= 2:  # a list of codes, not one remark in brackets
                out[column] = named
            continue
        out[column] = {str(code): str(text) for code, text in conn.execute(
            f"SELECT {quote(key)}, {quote(label)} FROM {quote(table)} WHERE {quote(label)} "
            f"IS NOT NULL LIMIT {MAX_LABELS}")}
    return out


def units(conn: sqlite3.Connection, prof: TableProfile) -> dict:
    """{column, units: code -> unit} when the units live in a dimension table."""
    if prof.unit or not prof.unit_lookup:
        return {}
    other, other_column, column = prof.unit_lookup
    return {"column": column, "units": {str(code): str(unit) for code, unit in conn.execute(
        f"SELECT {quote(other_column)}, unit FROM {quote(other)} WHERE unit IS NOT NULL "
        f"LIMIT {MAX_LABELS}")}}


def land_codes(conn: sqlite3.Connection, prof: TableProfile) -> list[str]:
    place = prof.place
    return [str(r[0]) for r in conn.execute(
        f"SELECT DISTINCT {quote(place.current)} FROM {quote(prof.table)} "
        f"WHERE {quote(place.level_column)} = 'land' AND {quote(place.current)} IS NOT NULL "
        "LIMIT 5")]


def fylker(conn: sqlite3.Connection, prof: TableProfile) -> list[str]:
    """The fylker whose kommuner the table has rows for (a question can then say "this table
    covers Telemark's kommuner only")."""
    place = prof.place
    return [r[0] for r in conn.execute(
        f"SELECT DISTINCT substr({quote(place.current)}, 1, 2) FROM {quote(prof.table)} "
        f"WHERE {quote(place.level_column)} = 'kommune' AND {quote(place.current)} IS NOT NULL "
        "ORDER BY 1")]


def series_source(conn: sqlite3.Connection, prof: TableProfile) -> dict | None:
    """Where the sparkline reads the kommune's series: `<table>_today` (the series on today's
    borders, publish/today.py: `code`, `level`, the period, the indicators and `value`) when it
    exists with the table's period and indicators; None: the table itself, as published."""
    view = prof.table + TODAY_SUFFIX
    if view not in view_names(conn):
        return None
    columns = {r[1] for r in conn.execute(f"PRAGMA table_info({quote(view)})")}
    needed = {"code", "level", "value", prof.period, *prof.indicators}
    if not needed <= columns:
        return None
    return {"table": view, "current": "code", "level": "level", "period": prof.period,
            "value": "value"}


def table_entry(conn: sqlite3.Connection, prof: TableProfile) -> dict | None:
    place = prof.place
    if (place is None or not place.level_column or not place.current or not prof.period
            or not prof.value or not _has_kommune_rows(conn, prof)):
        return None
    m = prof.manifest
    return {
        "source": m.source_id if m else prof.table,
        "title": m.upstream_title if m else prof.table,
        "topic": m.tags.get("topic", "other") if m else "other",
        "provider": m.provider if m else "",
        "sensitive": bool(m and m.presentation_policy == "sensitive"),
        "better": [list(rule) for rule in m.better] if m else [],
        "additive": adds_up(m),
        "current": place.current, "level": place.level_column, "period": prof.period,
        # rows of a former kommune (merged since) are not today's kommune's figures
        "geo_status": (place.current[: -len(CURRENT)] + GEO_STATUS
                       if place.current.endswith(CURRENT)
                       and place.current[: -len(CURRENT)] + GEO_STATUS in prof.columns else None),
        "value": prof.value, "unit": prof.unit, "status": prof.status,
        "indicators": list(prof.indicators),
        "pk": list(prof.pk),
        "provenance": [c for c in ("_run", "_fetch") if c in prof.columns],
        "labels": labels(conn, prof),
        "labels_en": labels(conn, prof, "en"),
        # IMDi's totals ("alle"), preferred as key figures
        # per column: code -> [breakdowns that are totals, breakdowns]
        "totals": {c: {code: list(imdi_words.totals(code)) for code in _codes(conn, prof, c)}
                   for c in header_keys(prof)},
        "quiet": quiet(conn, prof),
        "worded": header_keys(prof),  # shown in words in the table pages too
        # what the number is, when its column says more than "value" (Turnout, percent of …)
        "value_meaning": (meaning_of(prof, prof.value)
                          if prof.value.lower() not in GENERIC_VALUES else None),
        "unit_lookup": units(conn, prof),
        "land": land_codes(conn, prof),
        "series": series_source(conn, prof),
        "fylker": fylker(conn, prof),
    }


def population(conn: sqlite3.Connection, profiles: dict[str, TableProfile],
               entries: dict[str, dict]) -> dict:
    """{table, period, kommuner: code -> people} from the table marked as population."""
    for name, prof in sorted(profiles.items()):
        spec = prof.options.get("population")
        entry = entries.get(name)
        if not isinstance(spec, dict) or entry is None:
            continue
        where = [f"{quote(entry['level'])} = 'kommune'"]
        params: list = []
        for column, code in spec.items():
            if column in prof.columns:
                where.append(f"{quote(column)} = ?")
                params.append(code)
        t, period = quote(name), quote(entry["period"])
        latest = conn.execute(f"SELECT max({period}) FROM {t} WHERE {' AND '.join(where)}",
                              params).fetchone()[0]
        if latest is None:
            continue
        counts = conn.execute(
            f"SELECT {quote(entry['current'])}, sum({quote(entry['value'])}) FROM {t} "
            f"WHERE {' AND '.join(where)} AND {period} = ? AND {quote(entry['current'])} "
            "IS NOT NULL GROUP BY 1", [*params, latest]).fetchall()
        return {"table": name, "period": str(latest),
                "kommuner": {str(code): int(n) for code, n in counts if n is not None}}
    return {}


def report_config(conn: sqlite3.Connection, profiles: dict[str, TableProfile]) -> dict:
    entries = {}
    for name, prof in sorted(profiles.items()):
        if name.startswith("dim_"):
            continue
        entry = table_entry(conn, prof)
        if entry:
            entries[name] = entry
    return {"tables": entries, "population": population(conn, profiles, entries)}
