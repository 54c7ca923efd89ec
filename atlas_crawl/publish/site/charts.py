"""Charts and the kommune map of the catalogue, drawn as SVG on the server from all the rows asked
for (not a page of 50), so they need no chart library, no JavaScript and no network:

- a time series of one place: every period of the table in time order;
- the kommuner of one period side by side, sorted by value;
- a choropleth of the same numbers on today's kommune map: by default from the table's series on
  today's borders (`<table>_today`: former kommuner summed where the measure adds up, a reason
  where not), or the rows as published (joined on `<place>_current`) when asked.

What each table's columns are for is written by `publish` into the metadata
(`plugins: atlas-charts: tables:`), from the same profiles that describe the tables.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from atlas_crawl.publish.profile import TableProfile, quote
from atlas_crawl.publish.queries import SAMPLE_RUNS

CONFIG_KEY = "atlas-charts"
MAP_FILE = Path(__file__).resolve().parent / "data" / "kommuner_2024.json"
MAX_CHOICES = 300
# ColorBrewer YlGnBu, 5 classes (light = low)
COLOURS = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"]


# -- configuration, written at publish time -------------------------------------------------------

def table_config(prof: TableProfile, example_place: str | None,
                 today: tuple[str, list[str]] | None = None) -> dict | None:
    """What the chart pages need to know about one table, or None if it cannot be charted."""
    place = prof.place
    if not prof.period or not prof.value or place is None:
        return None
    return {
        "title": prof.manifest.upstream_title if prof.manifest else prof.table,
        "period": prof.period, "value": prof.value, "unit": prof.unit, "status": prof.status,
        "code": place.seek, "current": place.current or place.seek,
        "level": place.level_column, "indicators": list(prof.indicators),
        "key": list(prof.pk),
        "last_period": None if prof.last_period is None else str(prof.last_period),
        "example_place": example_place,
        "period_is_text": prof.period_is_text,
        # the series on today's borders: (view, its columns), when publish made one
        "today": today[0] if today else None,
        "today_columns": today[1] if today else [],
    }


def kommune_periods(conn, prof: TableProfile) -> list[str]:
    """The periods with kommune rows, newest first: read once at publish time, so a chart page
    on millions of rows does not scan for them."""
    place = prof.place
    if not place or not place.level_column or not prof.period:
        return []
    t, period, level = quote(prof.table), quote(prof.period), quote(place.level_column)
    if leads_an_index(conn, prof.table, prof.period):
        # The periods newest first, one index seek each (not a scan of every row), and each
        # kept when it has a kommune row.
        sql = (f"WITH RECURSIVE p(v) AS (SELECT max({period}) FROM {t} UNION ALL "
               f"SELECT (SELECT max({period}) FROM {t} WHERE {period} < p.v) FROM p "
               f"WHERE p.v IS NOT NULL) SELECT v FROM p WHERE v IS NOT NULL AND EXISTS "
               f"(SELECT 1 FROM {t} WHERE {period} = p.v AND {level} = 'kommune') "
               f"LIMIT {MAX_CHOICES}")
    else:
        sql = (f"SELECT DISTINCT {period} FROM {t} WHERE {level} = 'kommune' AND {period} IS "
               f"NOT NULL ORDER BY 1 DESC LIMIT {MAX_CHOICES}")
    return [str(r[0]) for r in conn.execute(sql).fetchall()]


def leads_an_index(conn, table: str, column: str) -> bool:
    """Whether `column` is the first column of an index of the table (its key included)."""
    for index in conn.execute(f"PRAGMA index_list({quote(table)})").fetchall():
        first = conn.execute(f"PRAGMA index_info({quote(index[1])})").fetchone()
        if first and first[2] == column:
            return True
    return False


def indicator_choices(conn, prof: TableProfile) -> dict[str, list[str]]:
    """Every value of each indicator column (at most MAX_CHOICES), in order: from the column's
    dimension table when it has one (a few rows), else from the table itself, once, at publish
    time. A chart page then offers them without reading one place's rows per indicator."""
    out = {}
    for column in prof.indicators:
        lookup = prof.lookups.get(column)
        if lookup:
            table, key, _ = lookup
            sql = (f"SELECT {quote(key)} FROM {quote(table)} WHERE {quote(key)} IN "
                   f"(SELECT {quote(column)} FROM {quote(prof.table)}) ORDER BY 1 "
                   f"LIMIT {MAX_CHOICES}") if prof.rows < CHOICES_FROM_DIMENSION_ROWS else (
                   f"SELECT {quote(key)} FROM {quote(table)} ORDER BY 1 LIMIT {MAX_CHOICES}")
        else:
            sql = (f"SELECT DISTINCT {quote(column)} FROM {quote(prof.table)} "
                   f"WHERE {quote(column)} IS NOT NULL ORDER BY 1 LIMIT {MAX_CHOICES}")
        out[column] = [str(r[0]) for r in conn.execute(sql)]
    return out


#: From this many rows on, an indicator's choices are its dimension table's codes as they are
#: (every code a JSON-stat cube has is used); below, only the codes the table holds.
CHOICES_FROM_DIMENSION_ROWS = 200_000


def chart_config(conn, profiles: dict[str, TableProfile],
                 example_places: dict[str, str | None],
                 today_views: dict[str, str] | None = None) -> dict:
    """`today_views` maps a table to its `<table>_today` view."""
    tables = {}
    for name, prof in sorted(profiles.items()):
        if name.startswith("dim_"):
            continue
        view = (today_views or {}).get(name)
        today = (view, [r[1] for r in conn.execute(f"PRAGMA table_info({quote(view)})")]) \
            if view else None
        cfg = table_config(prof, example_places.get(name), today)
        if cfg:
            cfg["periods"] = kommune_periods(conn, prof)
            cfg["choices"] = indicator_choices(conn, prof)
            tables[name] = cfg
    return {"tables": tables}


def chart_links_html(database: str, table: str, cfg: dict | None) -> str:
    """The links a table page shows to its charts and map."""
    if not cfg:
        return ""
    from urllib.parse import urlencode

    links = []
    if cfg["example_place"]:
        q = urlencode({"table": table, "place": cfg["example_place"]})
        links.append(f'<a class="atlas-chart" href="/-/atlas/chart?{html.escape(q)}">Time series '
                     f"for one place</a>")
    if cfg["level"]:
        q = urlencode({"table": table, "kind": "ranking"})
        links.append(f'<a class="atlas-ranking" href="/-/atlas/chart?{html.escape(q)}">The '
                     "kommuner of one period, ranked</a>")
        q = urlencode({"table": table})
        links.append(f'<a class="atlas-map" href="/-/atlas/map?{html.escape(q)}">Map</a>')
    return "<p>Charts from all rows: " + " · ".join(links) + "</p>" if links else ""


# -- data ----------------------------------------------------------------------------------------

@dataclass
class Selection:
    """A table and the filters a chart is drawn for."""

    table: str
    cfg: dict
    filters: dict[str, str] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)

    def where(self) -> tuple[list[str], dict]:
        sql, params = [], {}
        for i, (column, value) in enumerate(self.filters.items()):
            sql.append(f"{quote(column)} = :f{i}")
            params[f"f{i}"] = value
        return sql, params


async def resolve_place(db, cfg: dict, table: str, asked: str) -> tuple[str | None, str | None]:
    """(code, name) for a code or a name; today's kommune wins over a former one of that name."""
    asked = (asked or "").strip()
    if not asked:
        return None, None
    rows = (await db.execute(
        "SELECT code, name FROM dim_place WHERE code = :a OR lower(name) = lower(:a) "
        "ORDER BY code = :a DESC, valid_to IS NULL DESC, level = 'kommune' DESC LIMIT 1",
        {"a": asked})).rows
    if rows:
        return rows[0][0], rows[0][1]
    return asked, asked


async def choose(db, sel: Selection, scope_sql: str, scope: dict, args) -> None:
    """Fill each indicator's choices and its chosen value (asked or first).

    The choices written at publish time are offered when the scope (a place, a period) has a
    row for the chosen values: one indexed lookup instead of reading every row of the scope
    once per indicator. Otherwise (a place without the first values) the choices are the
    values found within the scope, as they are read."""
    known = sel.cfg.get("choices") or {}
    columns = sel.cfg["indicators"]
    if columns and all(known.get(c) for c in columns):
        picked = {c: args.get(c) if args.get(c) in known[c] else known[c][0] for c in columns}
        where = " AND ".join(f"{quote(c)} = :c{i}" for i, c in enumerate(columns))
        params = {**scope, **{f"c{i}": picked[c] for i, c in enumerate(columns)}}
        for part in scope_parts(scope_sql):
            found = (await db.execute(f"SELECT 1 FROM {quote(sel.table)} WHERE {part} AND "
                                      f"{where} LIMIT 1", params)).rows
            if found:
                sel.choices.update({c: list(known[c]) for c in columns})
                sel.filters.update(picked)
                return
    for column in columns:
        rows = (await db.execute(
            f"SELECT DISTINCT {quote(column)} FROM {quote(sel.table)} WHERE {scope_sql} "
            f"AND {quote(column)} IS NOT NULL ORDER BY 1 LIMIT {MAX_CHOICES}", scope)).rows
        values = [str(r[0]) for r in rows]
        sel.choices[column] = values
        asked = args.get(column)
        if asked in values:
            sel.filters[column] = asked
        elif values:
            sel.filters[column] = values[0]


def place_scope(cfg: dict) -> str:
    """Rows of one place (`:place`), today's code or the code valid then, as two disjoint parts
    joined by OR: each part reads one index, and only the place's rows (`scope_parts`)."""
    code, current = quote(cfg["code"]), quote(cfg["current"])
    if code == current:
        return f"({current} = :place)"
    return f"({current} = :place OR ({code} = :place AND {code} IS NOT {current}))"


def scope_parts(scope_sql: str) -> list[str]:
    """The disjoint parts of a `place_scope` (each on its own index), or the scope itself."""
    inner = scope_sql[1:-1] if scope_sql.startswith("(") and scope_sql.endswith(")") else ""
    if " OR (" in inner and inner.endswith(")"):
        first, second = inner.split(" OR (", 1)
        return [first, "(" + second]
    return [scope_sql]


async def series(db, sel: Selection, place: str) -> list[tuple[str, float | None, str | None]]:
    cfg = sel.cfg
    where, params = sel.where()
    status = quote(cfg["status"]) if cfg["status"] else "NULL"
    # One SELECT per part of the place's scope, each on its own index.
    key = cfg.get("key") or []
    filters = "".join(" AND " + w for w in where)
    if key and set(where_columns(sel)) <= set(key):
        # The indicator filters are key columns, which every index entry holds: the place's
        # entries are read from the index alone (MATERIALIZED: not merged into the join), and
        # the table only for the chosen series' rows. A part's test of a column the index
        # lacks (the code valid then against today's) is made on those rows only.
        table, keys = quote(sel.table), ", ".join(map(quote, key))
        on = " AND ".join(f"t.{quote(k)} = k{{n}}.{quote(k)}" for k in key)
        ctes, selects = [], []
        for n, part in enumerate(scope_parts(place_scope(cfg))):
            seek, _, later = part.strip("()").partition(" AND ")
            ctes.append(f"k{n} AS MATERIALIZED (SELECT {keys} FROM {table} WHERE {seek}"
                        f"{filters})")
            selects.append(f"SELECT t.{quote(cfg['period'])} AS period, t.{quote(cfg['value'])}, "
                           f"{'t.' + status if cfg['status'] else status} FROM k{n} JOIN "
                           f"{table} t ON {on.format(n=n)}"
                           + (f" WHERE {qualified(later)}" if later else ""))
        sql = f"WITH {', '.join(ctes)} " + " UNION ALL ".join(selects) + " ORDER BY 1"
    else:
        parts = [f"SELECT {quote(cfg['period'])} AS period, {quote(cfg['value'])}, {status} "
                 f"FROM {quote(sel.table)} WHERE {part}{filters}"
                 for part in scope_parts(place_scope(cfg))]
        sql = " UNION ALL ".join(parts) + " ORDER BY 1"
    rows = (await db.execute(sql, {**params, "place": place})).rows
    return [(str(r[0]), r[1], r[2]) for r in rows]


def where_columns(sel: Selection) -> list[str]:
    return list(sel.filters)


def qualified(condition: str) -> str:
    """`"a" IS NOT "b"` -> `t."a" IS NOT t."b"` (a part's test, on the joined table)."""
    return condition.replace('"', 't."', 1).replace(' IS NOT "', ' IS NOT t."', 1)


async def kommune_values(db, sel: Selection, period: str,
                         samples: bool = True) -> list[dict]:
    """Every kommune row of the period, today's code first, sorted by value (highest first);
    without `samples`, none of a run of constructed (invented) data or of unknown origin (the
    map leaves them out unless asked)."""
    cfg = sel.cfg
    where, params = sel.where()
    if not samples and cfg.get("has_run"):
        where = [*where, f"_run NOT IN ({SAMPLE_RUNS})"]
    status = quote(cfg["status"]) if cfg["status"] else "NULL"
    current, value = quote(cfg["current"]), f"t.{quote(cfg['value'])}"
    return await ranked_kommuner(
        db, f"SELECT t.{current}, coalesce(p.name, t.{current}), {value}, t.{status} "
            f"FROM {quote(sel.table)} t LEFT JOIN dim_place p ON p.code = t.{current}",
        [f"t.{quote(cfg['level'])} = 'kommune'", f"t.{quote(cfg['period'])} = :period",
         *(f"t.{w}" for w in where)],
        {**params, "period": period}, value, ("code", "name", "value", "status"))


async def today_values(db, sel: Selection, period: str) -> list[dict]:
    """Every today's kommune of the period from the table's series on today's borders, sorted by
    value; a kommune without a value carries the reason (split, part suppressed, ...) as its
    status. A filter on a column the series does not have is translated through the table
    (`x_label` = label -> `x` in the codes with that label) or, failing that, left out."""
    cfg = sel.cfg
    columns = set(cfg["today_columns"])
    where, params = [], {}
    for i, (column, value) in enumerate(sel.filters.items()):
        if column in columns:
            where.append(f"t.{quote(column)} = :f{i}")
        elif column.endswith("_label") and column[:-6] in columns:
            code = quote(column[:-6])
            where.append(f"t.{code} IN (SELECT {code} FROM {quote(sel.table)} "
                         f"WHERE {quote(column)} = :f{i})")
        else:
            continue
        params[f"f{i}"] = value
    asked = period if cfg.get("period_is_text", True) else _number(period)
    return await ranked_kommuner(
        db, "SELECT t.code, t.name, t.value, CASE WHEN t.value IS NULL THEN "
            f"coalesce(t.reason, t.how) END, t.how, t.parts FROM {quote(cfg['today'])} t",
        ["t.level = 'kommune'", f"t.{quote(cfg['period'])} = :period", *where],
        {**params, "period": asked}, "t.value",
        ("code", "name", "value", "status", "how", "parts"))


async def ranked_kommuner(db, select: str, where: list[str], params: dict, value: str,
                          keys: tuple[str, ...]) -> list[dict]:
    """The rows of `select` (columns and FROM) that meet every condition of `where`, highest
    `value` first, those without one last, then by name (the second column): one dict a row,
    keyed by `keys`."""
    sql = f"{select} WHERE {' AND '.join(where)} ORDER BY {value} IS NULL, {value} DESC, 2"
    rows = (await db.execute(sql, params)).rows
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _number(text: str) -> int | float | str:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


# -- drawing -------------------------------------------------------------------------------------

def fmt(value: float | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", " ")
    return f"{value:,.2f}".replace(",", " ").rstrip("0").rstrip(".")


def ticks(low: float, high: float, n: int = 5) -> list[float]:
    if high <= low:
        high = low + 1
    step = 10 ** math.floor(math.log10((high - low) / n))
    for m in (1, 2, 5, 10):
        if (high - low) / (step * m) <= n:
            step *= m
            break
    first = math.floor(low / step) * step
    out = [first]
    while out[-1] < high - step * 1e-9:
        out.append(first + len(out) * step)
    return out


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def line_svg(points: list[tuple[str, float | None, str | None]], unit: str = "") -> str:
    """A line through every period in order; a suppressed period breaks the line and shows its
    symbol on the axis."""
    width, height, left, right, top, bottom = 900, 360, 70, 20, 20, 60
    values = [v for _, v, _ in points if v is not None]
    if not values:
        return '<p class="atlas-note">No values to draw for this selection.</p>'
    low, high = min(0.0, min(values)), max(values)
    marks = ticks(low, high)
    low, high = min(low, marks[0]), max(high, marks[-1])
    span = (high - low) or 1
    n = len(points)

    def x(i: int) -> float:
        return left + (width - left - right) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - (v - low) / span)

    out = [(f'<svg class="atlas-line" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} '
           f'{height}" width="{width}" height="{height}" role="img">')]
    for m in marks:
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(m):.1f}" y2="{y(m):.1f}" '
                   f'stroke="#ddd"/><text x="{left - 6}" y="{y(m) + 4:.1f}" text-anchor="end" '
                   f'font-size="12">{_e(fmt(m))}</text>')
    every = max(1, math.ceil(n / 16))
    path, segment = [], []
    for i, (period, value, status) in enumerate(points):
        if i % every == 0 or i == n - 1:
            out.append(f'<text x="{x(i):.1f}" y="{height - bottom + 18}" font-size="12" '
                       f'text-anchor="end" transform="rotate(-40 {x(i):.1f} '
                       f'{height - bottom + 18})">{_e(period)}</text>')
        if value is None:
            if segment:
                path.append(segment)
            segment = []
            out.append(f'<text class="atlas-status" x="{x(i):.1f}" y="{height - bottom - 4}" '
                       f'font-size="11" text-anchor="middle" fill="#b00">{_e(status or "")}'
                       f'<title>{_e(period)}: {_e(status or "no value")}</title></text>')
            continue
        segment.append((x(i), y(value)))
        out.append(f'<circle class="atlas-point" cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5" '
                   f'fill="#2c7fb8"><title>{_e(period)}: {_e(fmt(value))} {_e(unit)}</title>'
                   "</circle>")
    if segment:
        path.append(segment)
    for seg in path:
        d = "M" + "L".join(f"{px:.1f},{py:.1f}" for px, py in seg)
        out.insert(1, f'<path class="atlas-series" d="{d}" fill="none" stroke="#2c7fb8" '
                      'stroke-width="2"/>')
    out.append("</svg>")
    return "".join(out)


def bars_svg(rows: list[dict], unit: str = "") -> str:
    """Horizontal bars, one per kommune, in the order given (highest value first)."""
    drawn = [r for r in rows if r["value"] is not None]
    if not drawn:
        return '<p class="atlas-note">No values to draw for this selection.</p>'
    width, label, bar_h, top = 900, 190, 14, 24
    low = min(0.0, min(r["value"] for r in drawn))
    high = max(r["value"] for r in drawn) or 1
    span = (high - low) or 1
    height = top + bar_h * len(rows) + 10

    def x(v: float) -> float:
        return label + (width - label - 80) * (v - low) / span

    out = [(f'<svg class="atlas-bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} '
           f'{height}" width="{width}" height="{height}" role="img">')]
    for m in ticks(low, high):
        if m <= high:
            out.append(f'<line x1="{x(m):.1f}" x2="{x(m):.1f}" y1="{top - 4}" y2="{height - 10}"'
                       f' stroke="#eee"/><text x="{x(m):.1f}" y="{top - 8}" font-size="11" '
                       f'text-anchor="middle">{_e(fmt(m))}</text>')
    for i, r in enumerate(rows):
        yy = top + i * bar_h
        out.append(f'<text x="{label - 6}" y="{yy + 11}" font-size="11" text-anchor="end">'
                   f'{_e(r["name"])}</text>')
        if r["value"] is None:
            out.append(f'<text x="{label + 4}" y="{yy + 11}" font-size="11" fill="#b00">'
                       f'{_e(r["status"] or "no value")}</text>')
            continue
        x0, x1 = x(max(low, 0.0)), x(r["value"])
        out.append(f'<rect class="atlas-bar" x="{min(x0, x1):.1f}" y="{yy + 1}" '
                   f'width="{abs(x1 - x0):.1f}" height="{bar_h - 3}" fill="#2c7fb8">'
                   f'<title>{_e(r["name"])}: {_e(fmt(r["value"]))} {_e(unit)}</title></rect>'
                   f'<text x="{max(x0, x1) + 4:.1f}" y="{yy + 11}" font-size="10">'
                   f'{_e(fmt(r["value"]))}</text>')
    out.append("</svg>")
    return "".join(out)


@cache
def kommune_map() -> dict:
    return json.loads(MAP_FILE.read_text(encoding="utf-8"))


def classes(values: list[float], n: int = len(COLOURS)) -> list[float]:
    """Upper bounds of n quantile classes (fewer when there are few distinct values)."""
    ordered = sorted(values)
    bounds = sorted({ordered[min(len(ordered) - 1, math.ceil(len(ordered) * (i + 1) / n) - 1)]
                     for i in range(n)})
    return bounds


def colour(value: float, bounds: list[float]) -> str:
    for i, bound in enumerate(bounds):
        if value <= bound:
            return COLOURS[round(i * (len(COLOURS) - 1) / max(len(bounds) - 1, 1))]
    return COLOURS[-1]


def map_svg(rows: list[dict], unit: str = "") -> tuple[str, int]:
    """Today's kommuner coloured by value (quantile classes); grey where there is no number.
    Returns the SVG and how many kommuner were coloured."""
    geo = kommune_map()
    by_code = {r["code"]: r for r in rows if r["code"]}
    values = [r["value"] for r in rows if r["value"] is not None and r["code"] in geo["kommuner"]]
    bounds = classes(values) if values else []
    width, height = geo["width"], geo["height"]
    out = [(f'<svg class="atlas-map-svg" xmlns="http://www.w3.org/2000/svg" viewBox="-5 -5 '
           f'{width + 10} {height + 10}" width="640" height="{640 * height / width:.0f}" '
           'role="img">')]
    coloured = 0
    for code, k in sorted(geo["kommuner"].items()):
        r = by_code.get(code)
        if r is not None and r["value"] is not None:
            coloured += 1
            fill = colour(r["value"], bounds)
            label = f"{k['name']} ({code}): {fmt(r['value'])} {unit}".strip()
            cls = "kommune"
        else:
            fill = "#dddddd"
            label = f"{k['name']} ({code}): " + ((r and r["status"]) or "no value")
            cls = "kommune novalue"
        out.append(f'<a href="/kommune/{code}"><path class="{cls}" data-kommune="{code}" '
                   f'd="{k["d"]}" fill="{fill}"><title>{_e(label)}</title></path></a>')
    out.append("</svg>")
    legend = ['<ul class="atlas-map-legend">']
    lower = min(values) if values else None
    for i, bound in enumerate(bounds):
        legend.append(f'<li><span style="background:{colour(bound, bounds)}"></span>'
                      f"{_e(fmt(lower))} – {_e(fmt(bound))}</li>")
        lower = bound
    legend.append('<li><span style="background:#dddddd"></span>no number</li></ul>')
    return "".join(out) + "".join(legend), coloured
