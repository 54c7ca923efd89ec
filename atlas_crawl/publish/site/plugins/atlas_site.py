"""Datasette plugin of the atlas_crawl catalogue, loaded with `--plugins-dir` by
`python -m atlas_crawl serve`. Thin: the work is in atlas_crawl/publish/site/."""

from __future__ import annotations

from datasette import hookimpl
from markupsafe import Markup, escape

from atlas_crawl.publish.site import STATIC_MOUNT, finder, front, guard, kommune, pages, questions

PROVENANCE = {"_run": "_runs", "_fetch": "_fetches"}


@hookimpl
def startup(datasette):
    # the kommune finder's name index (every name and form of every kommune), built once
    finder.warm()


@hookimpl
def extra_css_urls():
    return [f"/{STATIC_MOUNT}/atlas.css"]


@hookimpl
def extra_js_urls():
    return [f"/{STATIC_MOUNT}/atlas.js"]


@hookimpl
def render_cell(value, column, table, database, datasette):
    # A count stored as REAL reads 9925, not 9925.0 (the JSON keeps the stored number).
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    # a row names the run and the response it came from: link them
    if column in PROVENANCE and isinstance(value, int) and table not in PROVENANCE.values():
        return Markup(f'<a href="/{escape(database)}/{PROVENANCE[column]}/{value}">{value}</a>')
    if column == "link" and isinstance(value, str) and value.startswith("/"):
        return Markup(f'<a href="{escape(value)}">{escape(value)}</a>')
    if table == "sources" and column == "tables" and isinstance(value, str) and value:
        return Markup(", ".join(f'<a href="/{escape(database)}/{escape(t)}">{escape(t)}</a>'
                                for t in value.split(", ")))
    return None


@hookimpl
def extra_template_vars(template, database, request, datasette):
    if template == "query.html" and database and request is not None:
        async def inner():
            return await questions.question_vars(datasette, database, request)
        return inner
    return None


@hookimpl
def register_routes():
    return [
        (r"^/$", front.index_page),
        (r"^/-/atlas/chart$", pages.chart_page),
        (r"^/-/atlas/map$", pages.map_page),
        (r"^/kommune/?$", kommune.picker_page),
        (r"^/kommune/(?P<q>[^/]+)$", kommune.kommune_page),
    ]


@hookimpl
def asgi_wrapper(datasette):
    return guard.read_only


@hookimpl
def handle_exception(datasette, request, exception):
    return guard.sort_mistake(request, exception)
