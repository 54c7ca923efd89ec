"""The kommune report, `/kommune/<code or name>`: how a kommune is doing against its fylke,
kommuner of its size and Norway, and over time, in words (Norwegian; English with `?lang=en`).

Driven by what `publish` wrote into the metadata (publish/report.py), never by table names:
per table with kommune rows, the latest period of up to MAX_FIGURES indicators (those with a
declared better direction first, then totals), each with its unit and period, the fylke's and
Norway's value of the same indicator and period (published, or summed from the kommuner when
the manifest says the measure adds up: marked "computed"), the rank in the fylke, better / worse
/ about as Norway where the manifest declares a direction, a sparkline of the series (from
`<table>_today` when that view exists), the kommuner of the same size, and links to the row, the
run and the fetch. A suppressed number is said in words. Rows written by runs that are not of
real data (`_runs.data_origin` constructed or unknown: samples) are left out, and the tables that
had only such rows for the kommune are named, unless asked for (`?samples=1`); each figure says
its origin (live, or a real capture and its date).
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlencode
from urllib.parse import quote as urlquote

from datasette.database import QueryInterrupted
from datasette.utils import path_from_row_pks
from datasette.utils.asgi import Response

from atlas_crawl.publish.profile import quote
from atlas_crawl.publish.report import REPORT_KEY
from atlas_crawl.publish.site import finder
from atlas_crawl.publish.site.report_words import (
    TEXT,
    TOPIC_ORDER,
    number,
    origin_words,
    status_words,
    topic_heading,
)

log = logging.getLogger(__name__)

MAX_FIGURES = 3  # key figures per table; the rest are one link away
MANY_ROWS = 2000  # a kommune with more rows in a table: its indicators of the latest period
SIMILAR = 5  # kommuner of the same size shown beside each figure
COMPLETE = 0.95  # share of today's kommuner a computed Norway needs
ABOUT_SAME = 0.03  # within 3 % of Norway's value: "about as Norway"
SOURCE_NOTE = re.compile(r"\s+[—–-]\s+Kilde:.*$", re.IGNORECASE)
SIZE_BANDS = (0, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
# indicator codes and labels that mean "all of them" (a total), preferred as key figures
TOTAL = re.compile(r"^(0|00|000|tot\w*|i alt|alle\b.*|.*\bi alt|.*samlet|begge kjønn|"
                   r"999\w?|all\b.*|total.*)$", re.IGNORECASE)


@dataclass
class Figure:
    table: str
    title: str
    indicator: str
    period: str
    value: float | None
    unit: str
    status: str | None
    fylke: float | None = None
    fylke_computed: bool = False
    norway: float | None = None
    norway_computed: bool = False
    rank: int | None = None
    ranked: int = 0
    verdict: str | None = None  # better, worse, same
    spark: str = ""
    row_url: str = ""
    run_url: str = ""
    fetch_url: str = ""
    fetch_id: int | None = None
    source_url: str = ""
    fetched_at: str = ""
    origin: tuple[str | None, str | None] | None = None  # (data_origin, capture_date)
    neighbours: list[dict] = field(default_factory=list)
    similar: list[dict] = field(default_factory=list)


@dataclass
class TableBlock:
    table: str
    title: str
    source: str
    provider: str
    sensitive: bool
    figures: list[Figure]
    more: int  # indicators not shown
    table_url: str


def _config(datasette) -> dict:
    return datasette.plugin_config(REPORT_KEY) or {}


def _indicator_words(cfg: dict, key: tuple[str, ...], lang: str = "nb") -> str:
    """The indicator in words: each column's label of its code (English ones where publish
    wrote them), the code where there is none; columns that only say which geography's file a
    row came from (`quiet`) are left out."""
    labels = cfg.get("labels", {})
    english = cfg.get("labels_en", {}) if lang == "en" else {}
    quiet = set(cfg.get("quiet", []))
    words = []
    for column, code in zip(cfg["indicators"], key):
        if column in quiet:
            continue
        label = english.get(column, {}).get(code) or labels.get(column, {}).get(code)
        # "Tab. 17: Barn … — Kilde: SSB, …": the source is cited under every figure already
        words.append(SOURCE_NOTE.sub("", label) if label else code)
    if cfg.get("value_meaning"):
        words.insert(0, cfg["value_meaning"])
    return " · ".join(w for w in words if w) or cfg["title"]


def _unit(cfg: dict, row: dict) -> str:
    if cfg.get("unit"):
        return str(row.get(cfg["unit"]) or "")
    lookup = cfg.get("unit_lookup") or {}
    if lookup:
        return lookup["units"].get(str(row.get(lookup["column"])), "")
    return ""


def direction(cfg: dict, key: tuple[str, ...], unit: str) -> str | None:
    """The manifest's better direction for this indicator: the first rule whose words are in the
    indicator's codes, labels or unit ("*": every indicator)."""
    text = " ".join([*key, _indicator_words(cfg, key), unit]).casefold()
    for words, better in cfg.get("better", []):
        if words == "*" or words.casefold() in text:
            return better
    return None


def verdict(better: str | None, value: float | None, norway: float | None) -> str | None:
    if better is None or value is None or norway is None:
        return None
    if abs(value - norway) <= ABOUT_SAME * max(abs(norway), 1e-9):
        return "same"
    higher = value > norway
    return "better" if higher == (better == "higher") else "worse"


def size_band(people: int | None) -> tuple[int, int | None] | None:
    if people is None:
        return None
    for low, high in zip(SIZE_BANDS, (*SIZE_BANDS[1:], None)):
        if high is None or people < high:
            return low, high
    return None


def similar_kommuner(population: dict, code: str, n: int = SIMILAR) -> list[str]:
    """Up to n kommuner of the same size band, nearest in population first."""
    people = population.get("kommuner", {})
    mine = people.get(code)
    band = size_band(mine)
    if band is None or not mine:
        return []
    same = [(abs(math.log(max(p, 1)) - math.log(mine)), c) for c, p in people.items()
            if c != code and size_band(p) == band and c in finder.kommuner()]
    return [c for _, c in sorted(same)[:n]]


def sparkline(points: list[tuple[str, float | None]], title: str) -> str:
    """A small line of the series (gaps where a value is missing), drawn on the server."""
    values = [v for _, v in points if v is not None]
    if len(points) < 2 or len(values) < 2:
        return ""
    width, height, pad = 120, 28, 3
    low, high = min(values), max(values)
    span = (high - low) or 1
    n = len(points)

    def xy(i: int, v: float) -> str:
        return (f"{pad + (width - 2 * pad) * i / (n - 1):.1f},"
                f"{height - pad - (height - 2 * pad) * (v - low) / span:.1f}")

    paths, segment = [], []
    for i, (_, v) in enumerate(points):
        if v is None:
            if segment:
                paths.append(segment)
            segment = []
        else:
            segment.append(xy(i, v))
    if segment:
        paths.append(segment)
    lines = "".join(f'<polyline points="{" ".join(s)}" fill="none" stroke="#2c7fb8" '
                    'stroke-width="1.5"/>' for s in paths if len(s) > 1)
    last = next(((i, v) for i, (_, v) in reversed(list(enumerate(points))) if v is not None))
    cx, cy = xy(*last).split(",")
    return (f'<svg class="atlas-spark" xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f"<title>{html.escape(title)}</title>{lines}"
            f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="#2c7fb8"/></svg>')


REAL_ORIGINS = ("live", "capture")


async def run_origins(db) -> dict[int, tuple[str | None, str | None]]:
    """_runs id -> (data_origin, capture_date), when the ledger records them (else empty:
    nothing is known, nothing is left out)."""
    try:
        columns = {r[1] for r in (await db.execute("PRAGMA table_info(_runs)")).rows}
        if "data_origin" not in columns:
            return {}
        date = "capture_date" if "capture_date" in columns else "NULL"
        rows = (await db.execute(f"SELECT id, data_origin, {date} FROM _runs")).rows
    except QueryInterrupted:
        return {}
    return {r[0]: (r[1], r[2]) for r in rows}


async def data_origins(db) -> dict[str, str]:
    """source_id -> data_origin (live, capture, constructed), when the sources table has it."""
    try:
        columns = {r[1] for r in (await db.execute("PRAGMA table_info(sources)")).rows}
        if "data_origin" not in columns:
            return {}
        rows = (await db.execute("SELECT source_id, data_origin FROM sources")).rows
    except Exception:  # noqa: BLE001 - no sources table: every origin unknown
        return {}
    return {r[0]: r[1] for r in rows if r[1]}


async def _dicts(db, sql: str, params: dict) -> list[dict]:
    result = await db.execute(sql, params)
    columns = result.columns
    return [dict(zip(columns, r)) for r in result.rows]


def _key(cfg: dict, row: dict) -> tuple[str, ...]:
    return tuple("" if row.get(c) is None else str(row[c]) for c in cfg["indicators"])


def _matching(cfg: dict, raws: list[tuple]) -> tuple[str, dict]:
    """SQL for "one of these indicators" (IS, so a NULL code matches NULL)."""
    if not cfg["indicators"] or not raws:
        return "1", {}
    ors, params = [], {}
    for i, raw in enumerate(raws):
        ands = []
        for j, (column, v) in enumerate(zip(cfg["indicators"], raw)):
            params[f"i{i}_{j}"] = v
            ands.append(f"{quote(column)} IS :i{i}_{j}")
        ors.append("(" + " AND ".join(ands) + ")")
    return "(" + " OR ".join(ors) + ")", params


def _candidates(cfg: dict, summary: list[dict]) -> list[dict]:
    """The kommune's indicators in the order they are shown as key figures: a declared
    direction first, then totals, then the longest series (a suppressed latest value is shown,
    in words: that it is hidden is itself worth knowing)."""
    labels = cfg.get("labels", {})

    def score(row: dict) -> tuple:
        key = _key(cfg, row)
        words = [*key, *(labels.get(c, {}).get(v, "") for c, v in zip(cfg["indicators"], key))]
        totals = sum(1 for w in words if w and TOTAL.match(w.strip())) + sum(
            cfg.get("totals", {}).get(c, {}).get(v, (0, 0))[0]
            for c, v in zip(cfg["indicators"], key))
        return (direction(cfg, key, _unit(cfg, row)) is None, -totals, -row["_n"], key)
    ranked = sorted(summary, key=score)
    # a table whose breakdowns have a total in every column (IMDi's `alle`): its totals only,
    # the breakdowns are one link away
    whole = [r for r in ranked if _all_totals(cfg, _key(cfg, r))]
    return whole or ranked


def _all_totals(cfg: dict, key: tuple[str, ...]) -> bool:
    totals = cfg.get("totals", {})
    if not totals:
        return False
    quiet = set(cfg.get("quiet", []))
    for column, code in zip(cfg["indicators"], key):
        if column in quiet:
            continue
        whole, tokens = totals.get(column, {}).get(code, (0, 1 if code else 0))
        if whole != tokens:
            return False
    return True


async def table_block(datasette, db, name: str, cfg: dict, kommune: finder.Kommune,
                      fylke_codes: list[str], similar: list[str],
                      runs: dict[int, tuple], samples: list[int],
                      lang: str = "nb") -> TableBlock | str | None:
    """The table's key figures for the kommune; "samples" when it has only rows of sample runs
    for the kommune (left out); None when it has none."""
    t = quote(name)
    cur, level, period, value = (quote(cfg[k]) for k in ("current", "level", "period", "value"))
    status = quote(cfg["status"]) if cfg.get("status") else "NULL"
    pk = cfg.get("pk") or []
    indicators = [quote(c) for c in cfg["indicators"]]
    unit = quote(cfg["unit"]) if cfg.get("unit") else None
    real = ""
    if samples and "_run" in cfg.get("provenance", []):
        real = f" AND _run NOT IN ({', '.join(str(int(r)) for r in samples)})"
    # the kommune's own rows: those of a former kommune merged into it since (geo status
    # `merged`) are a part of it, not its figure (its series on today's borders adds them up)
    own = (f" AND {quote(cfg['geo_status'])} IS NOT 'merged'" if cfg.get("geo_status") else "")
    mine = f"{cur} = :k AND {level} = 'kommune'{own}{real}"
    # the kommune's indicators, counted in SQLite; where the kommune has thousands of rows (a
    # table of millions), those of its latest period (read from the index on code and period)
    size, newest = (await db.execute(f"SELECT count(*), max({period}) FROM {t} WHERE {cur} = :k"
                                     f"{real}", {"k": kommune.code})).rows[0]
    if not size:
        if real and (await db.execute(f"SELECT 1 FROM {t} WHERE {mine.replace(real, '')} "
                                      "LIMIT 1", {"k": kommune.code})).rows:
            return "samples"
        return None
    where = mine + (f" AND {period} = :newest" if size > MANY_ROWS else "")
    select = ", ".join([*indicators, *([f"max({unit}) AS {unit}"] if unit else []),
                        "count(*) AS _n"])
    group = f" GROUP BY {', '.join(indicators)}" if indicators else ""
    summary = [r for r in await _dicts(db, f"SELECT {select} FROM {t} WHERE {where}{group}",
                                       {"k": kommune.code, "newest": newest}) if r["_n"]]
    if not summary:
        return None
    candidates = _candidates(cfg, summary)[: 2 * MAX_FIGURES]

    # their rows, every period: the figure, its row link and provenance, the sparkline
    wanted = dict.fromkeys([*cfg["indicators"], *pk, *cfg.get("provenance", []),
                            *([cfg["unit"]] if cfg.get("unit") else []),
                            *([cfg["unit_lookup"]["column"]] if cfg.get("unit_lookup") else [])])
    extra = "".join(f", {quote(c)}" for c in wanted)
    rowid = "" if pk else "rowid AS rowid, "
    which, params = _matching(cfg, [tuple(r[c] for c in cfg["indicators"]) for r in candidates])
    rows = await _dicts(db, f"SELECT {rowid}{period} AS _period, {value} AS _value, "
                            f"{status} AS _status{extra} FROM {t} WHERE {mine} AND {which} "
                            f"ORDER BY {period}", {"k": kommune.code, **params})
    series: dict[tuple, list[dict]] = {}
    for r in rows:
        series.setdefault(_key(cfg, r), []).append(r)
    latest = {}
    for key, rs in series.items():
        last = rs[-1]["_period"]
        latest[key] = [r for r in rs if r["_period"] == last]
    # one row in its latest period (more: a finer breakdown, such as per school, in the table)
    # (two groupings' totals say the same words: IMDi's avslutning_arsak_3.alle and _8.alle)
    said: set[str] = set()
    chosen = []
    for k in (_key(cfg, r) for r in candidates):
        words = _indicator_words(cfg, k)
        if len(latest.get(k, ())) == 1 and words not in said and len(chosen) < MAX_FIGURES:
            chosen.append(k)
            said.add(words)
    if not chosen:
        return None

    # the fylke's kommuner, similar kommuner, the fylke and Norway in the chosen periods
    periods = sorted({latest[k][0]["_period"] for k in chosen}, key=str)
    codes = list(dict.fromkeys([*fylke_codes, *similar, kommune.fylke, *cfg.get("land", [])]))
    marks = ", ".join(f":c{i}" for i in range(len(codes)))
    pmarks = ", ".join(f":p{i}" for i in range(len(periods)))
    which, params = _matching(cfg, [tuple(latest[k][0][c] for c in cfg["indicators"])
                                    for k in chosen])
    params.update({f"c{i}": c for i, c in enumerate(codes)})
    params.update({f"p{i}": p for i, p in enumerate(periods)})
    indicator_columns = "".join(f", {c}" for c in indicators)
    others = await _dicts(
        db, f"SELECT {cur} AS _code, {level} AS _level, {period} AS _period, {value} AS _value"
            f"{indicator_columns} FROM {t} WHERE {cur} IN ({marks}) AND {period} IN ({pmarks}) "
            f"AND {which}{real}", params)
    by: dict[tuple, list[dict]] = {}
    for r in others:
        by.setdefault((_key(cfg, r), r["_period"]), []).append(r)

    additive_norway: dict[tuple, float] = {}
    if cfg.get("additive") and not cfg.get("land"):
        additive_norway = await _norway_sums(db, name, cfg, chosen, latest)

    figures = []
    for key in chosen:
        row = latest[key][0]
        unit = _unit(cfg, row)
        group = by.get((key, row["_period"]), [])
        # a code with several rows in one period is today's kommune published as its former
        # kommuner (parts, before a merger): no part is ranked or compared as the kommune
        parts = Counter(r["_code"] for r in group if r["_level"] == "kommune")
        group = [r for r in group if r["_level"] != "kommune" or parts[r["_code"]] == 1]
        fylke_rows = [r for r in group if r["_level"] == "kommune"
                      and str(r["_code"]).startswith(kommune.fylke)]
        fylke_value = next((r["_value"] for r in group if r["_level"] == "fylke"
                            and r["_code"] == kommune.fylke), None)
        fylke_computed = False
        # computed only from every kommune of the fylke, none of them suppressed
        if fylke_value is None and cfg.get("additive") and len(fylke_rows) == len(
                fylke_codes) and all(r["_value"] is not None for r in fylke_rows):
            fylke_value, fylke_computed = sum(r["_value"] for r in fylke_rows), True
        norway = next((r["_value"] for r in group if r["_level"] == "land"), None)
        norway_computed = False
        if norway is None and (key, row["_period"]) in additive_norway:
            norway, norway_computed = additive_norway[(key, row["_period"])], True
        ranked = sorted((r for r in fylke_rows if r["_value"] is not None),
                        key=lambda r: -r["_value"])
        rank = None
        if row["_value"] is not None and len(ranked) > 1:
            rank = 1 + sum(1 for r in ranked if r["_value"] > row["_value"])
        names = finder.kommuner()
        neighbours = [{"code": r["_code"], "name": names[r["_code"]].name if r["_code"] in
                       names else r["_code"], "value": r["_value"],
                       "me": r["_code"] == kommune.code} for r in ranked]
        alike = [{"code": r["_code"], "name": names[r["_code"]].name, "value": r["_value"],
                  "me": False} for r in group if r["_level"] == "kommune"
                 and r["_code"] in similar and r["_value"] is not None]
        if row["_value"] is not None and alike:
            alike.append({"code": kommune.code, "name": kommune.name, "value": row["_value"],
                          "me": True})
        alike.sort(key=lambda s: -s["value"])
        better = direction(cfg, key, unit)
        # on today's borders where the view has the series, else as published
        points = (await _series(db, cfg, kommune.code, key) if cfg.get("series") else []) \
            or _points(series[key])
        words = _indicator_words(cfg, key, lang)
        figures.append(Figure(
            table=name, title=cfg["title"], indicator=words, period=str(row["_period"]),
            value=row["_value"], unit=unit, status=row["_status"],
            fylke=fylke_value, fylke_computed=fylke_computed, norway=norway,
            norway_computed=norway_computed, rank=rank, ranked=len(ranked),
            verdict=verdict(better, row["_value"], norway),
            spark=sparkline(points, f"{words}: {points[0][0]}–{points[-1][0]}"),
            row_url=datasette.urls.row(db.name, name, path_from_row_pks(row, pk, not pk)),
            run_url=(f"/{db.name}/_runs/{row['_run']}" if row.get("_run") is not None else ""),
            fetch_id=row.get("_fetch"), origin=runs.get(row.get("_run")),
            neighbours=_window(neighbours), similar=alike))
    table_url = f"/{db.name}/{urlquote(name)}?" + urlencode({cfg["current"]: kommune.code})
    return TableBlock(name, cfg["title"], cfg["source"], cfg.get("provider", ""),
                      cfg.get("sensitive", False), figures,
                      len(summary) - len(figures), table_url)


def _points(rows: list[dict]) -> list[tuple[str, float | None]]:
    """One point per period of the rows as published. Before a merger several former kommuner
    share today's code in a period: a gap there (only the `<table>_today` view, which knows
    whether every part was published, may add them up)."""
    by: dict[str, list] = {}
    for r in rows:
        by.setdefault(str(r["_period"]), []).append(r["_value"])
    return [(period, values[0] if len(values) == 1 else None) for period, values in by.items()]


def _window(ranked: list[dict], around: int = 2) -> list[dict]:
    """The kommune and its nearest neighbours in the fylke's ranking, with their ranks."""
    for i, r in enumerate(ranked, 1):
        r["rank"] = i
    mine = next((i for i, r in enumerate(ranked) if r["me"]), None)
    if mine is None:
        return ranked[: 2 * around + 1]
    lo = max(0, min(mine - around, len(ranked) - 2 * around - 1))
    return ranked[lo: lo + 2 * around + 1]


async def _series(db, cfg: dict, code: str, key: tuple) -> list[tuple[str, float | None]]:
    """The kommune's series on today's borders, from the `<table>_today` view (a period whose
    former kommuner cannot be put together has no value there: a gap, not a guess)."""
    src = cfg["series"]
    where = " AND ".join(f"{quote(c)} = :i{i}" for i, c in enumerate(cfg["indicators"]))
    params = {"k": code, **{f"i{i}": v for i, v in enumerate(key)}}
    rows = (await db.execute(
        f"SELECT {quote(src['period'])}, {quote(src['value'])} FROM {quote(src['table'])} "
        f"WHERE {quote(src['current'])} = :k AND {quote(src['level'])} = 'kommune'"
        f"{' AND ' + where if where else ''} ORDER BY 1", params)).rows
    return [(str(r[0]), r[1]) for r in rows]


async def _norway_sums(db, name: str, cfg: dict, chosen: list[tuple], latest: dict) -> dict:
    """Norway as the sum of its kommuner, for measures that add up and have no national row
    (only when every kommune of the period has a number)."""
    out = {}
    for key in chosen:
        p = latest[key][0]["_period"]
        where = " AND ".join(f"{quote(c)} = :i{i}" for i, c in enumerate(cfg["indicators"]))
        row = (await db.execute(
            f"SELECT sum({quote(cfg['value'])}), count(*), count({quote(cfg['value'])}) "
            f"FROM {quote(name)} "
            f"WHERE {quote(cfg['level'])} = 'kommune' AND {quote(cfg['period'])} = :p"
            f"{' AND ' + where if where else ''}",
            {"p": p, **{f"i{i}": v for i, v in enumerate(key)}})).rows[0]
        # every kommune row has a number, and (nearly) every kommune of today has a row: a
        # reform since the period may have changed the count by a few
        if row[1] and row[1] == row[2] and row[1] >= COMPLETE * len(finder.kommuner()):
            out[(key, p)] = row[0]
    return out


async def _provenance(db, blocks: list[TableBlock]) -> None:
    ids = sorted({f.fetch_id for b in blocks for f in b.figures if f.fetch_id is not None})
    if not ids or not await db.table_exists("_fetches"):
        return
    marks = ", ".join(f":f{i}" for i in range(len(ids)))
    rows = (await db.execute(f"SELECT id, url, fetched_at FROM _fetches WHERE id IN ({marks})",
                             {f"f{i}": v for i, v in enumerate(ids)})).rows
    fetches = {r[0]: (r[1], r[2]) for r in rows}
    for b in blocks:
        for f in b.figures:
            if f.fetch_id in fetches:
                f.fetch_url = f"/{db.name}/_fetches/{f.fetch_id}"
                f.source_url, f.fetched_at = fetches[f.fetch_id]


def _block_rank(block: TableBlock, tcfg: dict, cfg: dict) -> tuple:
    """A topic's tables in the order a reader wants them: the population table first, then
    tables whose manifest says which direction is better (turnout, unemployment), then the
    others; among equals, fewer breakdowns first, then as before (by name)."""
    population = (cfg.get("population") or {}).get("table")
    shown = len(block.figures) + block.more
    return (block.table != population, not tcfg.get("better"), shown > MAX_FIGURES)


async def report(datasette, kommune: finder.Kommune, show_samples: bool,
                 lang: str = "nb") -> dict:
    cfg = _config(datasette)
    db = datasette.get_database()
    runs = await run_origins(db)
    samples = [] if show_samples else sorted(r for r, (origin, _) in runs.items()
                                             if origin not in REAL_ORIGINS)
    fylke_codes = [k.code for k in finder.kommuner().values() if k.fylke == kommune.fylke]
    similar = similar_kommuner(cfg.get("population") or {}, kommune.code)
    topics: dict[str, list[TableBlock]] = {}
    hidden: list[str] = []
    slow: list[str] = []
    for name, tcfg in cfg.get("tables", {}).items():
        try:
            block = await table_block(datasette, db, name, tcfg, kommune, fylke_codes, similar,
                                      runs, samples, lang)
        except QueryInterrupted:  # over serve's time limit: the rest of the page still shows
            log.warning("kommune report: %s took too long for %s", name, kommune.code)
            slow.append(tcfg["title"])
            continue
        if block == "samples":
            hidden.append(tcfg["title"])
        elif block:
            topics.setdefault(tcfg["topic"], []).append(block)
    tables = cfg.get("tables", {})
    for blocks in topics.values():
        blocks.sort(key=lambda b: _block_rank(b, tables.get(b.table, {}), cfg))
    blocks = [b for bs in topics.values() for b in bs]
    await _provenance(db, blocks)
    order = {t: i for i, t in enumerate(TOPIC_ORDER)}
    people = (cfg.get("population") or {}).get("kommuner", {}).get(kommune.code)
    return {
        "topics": [(t, topics[t]) for t in sorted(topics, key=lambda t: (order.get(t, 99), t))],
        "hidden": sorted(set(hidden)),
        "slow": slow,
        "similar": [finder.kommuner()[c] for c in similar if c in finder.kommuner()],
        "people": people, "people_period": (cfg.get("population") or {}).get("period"),
        "band": size_band(people),
        "database": db.name,
    }


def _lang(request) -> str:
    return "en" if request.args.get("lang") == "en" else "nb"


def kommune_url(code: str, lang: str, **extra) -> str:
    args = {**({"lang": "en"} if lang == "en" else {}), **extra}
    return f"/kommune/{urlquote(code)}" + (f"?{urlencode(args)}" if args else "")


async def _render(datasette, request, context: dict, status: int = 200) -> Response:
    lang = context["lang"]
    context.update(t=TEXT[lang], number=lambda v: number(v, lang), kommune_url=kommune_url,
                   topic_heading=lambda key: topic_heading(key, lang),
                   status_words=lambda provider, symbol: status_words(provider, symbol, lang),
                   origin_words=lambda o: origin_words(o, lang),
                   other_lang=_other_lang_url(request, lang))
    body = await datasette.render_template("kommune.html", context, request=request)
    return Response.html(body, status=status)


def _other_lang_url(request, lang: str) -> str:
    args = {k: v for k, v in parse_qsl(request.query_string) if k != "lang"}
    if lang == "nb":
        args["lang"] = "en"
    return request.path + (f"?{urlencode(args)}" if args else "")


async def picker_page(datasette, request) -> Response:
    """`/kommune?q=...` (the front page's box) goes to the report; without q, a list by fylke."""
    lang = _lang(request)
    asked = (request.args.get("q") or "").strip()
    if asked:
        return Response.redirect(kommune_url(asked, lang))
    by_fylke: dict[str, list[finder.Kommune]] = {}
    for k in finder.kommuner().values():
        by_fylke.setdefault(k.fylke_name, []).append(k)
    return await _render(datasette, request, {"lang": lang, "page": "picker",
                                              "fylker": sorted(by_fylke.items())})


async def kommune_page(datasette, request) -> Response:
    lang = _lang(request)
    asked = unquote(request.url_vars.get("q", ""))
    found = finder.find(asked)
    context = {"lang": lang, "page": "report", "found": found, "asked": asked}
    if found.kommune is None:
        return await _render(datasette, request, context, status=404)
    show = request.args.get("samples") == "1"
    context.update(kommune=found.kommune, show_samples=show,
                   **await report(datasette, found.kommune, show, lang))
    return await _render(datasette, request, context)
