"""The chart and map pages (`/-/atlas/chart`, `/-/atlas/map`), registered by the plugin."""

from __future__ import annotations

from urllib.parse import urlencode

from datasette.utils.asgi import Response

from atlas_crawl.publish.report import REPORT_KEY
from atlas_crawl.publish.site import charts


def _tables(datasette) -> dict[str, dict]:
    config = datasette.plugin_config(charts.CONFIG_KEY) or {}
    return config.get("tables", {})


def _labels(datasette, table: str | None) -> dict[str, dict[str, str]]:
    """Per indicator column of the table: code -> its name (the map lists "Tab. 17: Barn 0-5 år
    i husholdninger som leier bolig", not "17")."""
    tables = (datasette.plugin_config(REPORT_KEY) or {}).get("tables", {})
    return tables.get(table, {}).get("labels", {}) if table else {}


async def _render(datasette, request, context: dict) -> Response:
    context["fmt"] = charts.fmt
    context["labels"] = _labels(datasette, context.get("table"))
    return Response.html(await datasette.render_template("atlas_chart.html", context,
                                                         request=request))


async def chart_page(datasette, request) -> Response:
    """?table=T&place=CODE|NAME&<indicator>=...: a time series; ?kind=ranking&period=P: the
    kommuner of one period, sorted by value."""
    tables = _tables(datasette)
    args = request.args
    table = args.get("table")
    if table not in tables:
        return await _render(datasette, request, {"page": "chart", "tables": tables,
                                                  "error": table and f"No chart for {table}."})
    cfg = tables[table]
    db = datasette.get_database()
    sel = charts.Selection(table, cfg)
    kind = "ranking" if args.get("kind") == "ranking" and cfg["level"] else "series"
    context = {"page": "chart", "kind": kind, "table": table, "cfg": cfg, "tables": tables,
               "database": db.name}
    if kind == "series":
        asked = args.get("place") or cfg["example_place"] or ""
        code, name = await charts.resolve_place(db, cfg, table, asked)
        await charts.choose(db, sel, charts.place_scope(cfg), {"place": code}, args)
        points = await charts.series(db, sel, code) if code else []
        repeated = len(points) - len({period for period, _, _ in points})
        context.update(place=asked, place_name=name, points=points, repeated=repeated,
                       svg=charts.line_svg(points, _unit_hint(sel)),
                       heading=f"{cfg['title']}: {name or asked}")
    else:
        choices = cfg.get("periods", [])
        period = args.get("period") if args.get("period") in choices else (
            choices[0] if choices else None)
        await charts.choose(db, sel, f'"{cfg["period"]}" = :period', {"period": period}, args)
        rows = await charts.kommune_values(db, sel, period) if period else []
        context.update(period=period, periods=choices, rows=rows,
                       svg=charts.bars_svg(rows, _unit_hint(sel)),
                       heading=f"{cfg['title']}: kommuner in {period}")
    context["sel"] = sel
    return await _render(datasette, request, context)


async def map_page(datasette, request) -> Response:
    """?table=T&period=P&<indicator>=...: a choropleth of today's kommuner. Tables and rows of
    constructed fixtures (invented values) only with ?samples=1, and then under the banner."""
    args = request.args
    samples = bool(args.get("samples"))
    tables = {n: c for n, c in _tables(datasette).items()
              if c["level"] and (samples or not c.get("sample"))}
    table = args.get("table") if args.get("table") in tables else next(iter(tables), None)
    context = {"page": "map", "tables": tables, "table": table, "samples": samples,
               "attribution": charts.kommune_map()["attribution"]}
    if table is None:
        context["error"] = ("No table in this database has real kommune numbers to map"
                            + ("." if samples else " (?samples=1 shows constructed samples)."))
        return await _render(datasette, request, context)
    cfg = tables[table]
    db = datasette.get_database()
    sel = charts.Selection(table, cfg)
    choices = cfg.get("periods", [])
    period = args.get("period") if args.get("period") in choices else (
        choices[0] if choices else None)
    await charts.choose(db, sel, f'"{cfg["period"]}" = :period', {"period": period}, args)
    # today's borders by default (made without constructed runs); ?as_published=1 shows the rows
    # as the source published them
    on_today = bool(cfg.get("today")) and args.get("as_published") != "1"
    if not period:
        rows = []
    elif on_today:
        rows = await charts.today_values(db, sel, period)
    else:
        rows = await charts.kommune_values(db, sel, period, samples)
    svg, coloured = charts.map_svg(rows, _unit_hint(sel))
    asked = {k: args.get(k) for k in args}
    context.update(on_today=on_today, has_today=bool(cfg.get("today")),
                   as_published_url="?" + urlencode({**asked, "as_published": "1"}),
                   on_today_url="?" + urlencode({**asked, "as_published": "0"}))
    context.update(cfg=cfg, sel=sel, period=period, periods=choices, rows=rows, svg=svg,
                   coloured=coloured, database=db.name,
                   heading=f"{cfg['title']}: {period}")
    return await _render(datasette, request, context)


def _unit_hint(sel: charts.Selection) -> str:
    """The unit when a filter fixes it (the unit column is one of the indicators), else ''."""
    unit = sel.cfg.get("unit")
    return sel.filters.get(unit, "") if unit else ""
