"""Datasette plugin, loaded by `python -m atlas_crawl serve` (`--plugins-dir`): the facets of a
large table's page with no filter, or with one click on a facet value (`?tid=2020`), come from
`_facet_counts` (written by publish) instead of a GROUP BY over millions of rows on every view.
Any other filter, a search or a facet publish did not count falls back to Datasette's own column
facet, which counts the matching rows within facet_time_limit_ms.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.facets import ArrayFacet, ColumnFacet, DateFacet
from datasette.plugins import pm
from datasette.utils import detect_json1, path_with_added_args, path_with_removed_args

FACET_COUNTS = "_facet_counts"  # atlas_crawl.publish.fast.FACET_COUNTS
# Arguments that filter rows in ways the stored counts do not cover.
FILTERING_SPECIALS = ("_search", "_where", "_through", "_filter")

# This module's column facet replaces Datasette's (both would answer every "column" facet).
if pm.get_plugin("datasette.facets") is not None:
    pm.unregister(name="datasette.facets")


class PrecomputedColumnFacet(ColumnFacet):
    async def facet_results(self):
        where = self._stored_filter()
        stored = await self._stored_counts(*where) if where is not None else None
        configs = self.get_configs()
        columns = [c["config"].get("column") or c["config"]["simple"] for c in configs]
        if not stored or any(column not in stored for column in columns):
            return await super().facet_results()
        size = self.get_facet_size()
        qs_pairs = self.get_querystring_pairs()
        results = []
        for source_and_config, column in zip(configs, columns):
            rows = stored[column][:size + 1]
            values = [value for value, _ in rows[:size]]
            expanded = await self.ds.expand_foreign_keys(self.database, self.table, column,
                                                         values)
            column_qs = f"{column}__exact" if column.startswith("_") else column
            shown = []
            for value, count in rows[:size]:
                selected = (column_qs, str(value)) in qs_pairs
                toggle = (path_with_removed_args(self.request, {column_qs: str(value)})
                          if selected else
                          path_with_added_args(self.request, {column_qs: value}))
                shown.append({"value": value, "label": expanded.get((column, value), value),
                              "count": count, "selected": selected,
                              "toggle_url": self.ds.absolute_url(self.request,
                                                                 self.ds.urls.path(toggle))})
            results.append({
                "name": column,
                "type": self.type,
                "hideable": source_and_config["source"] != "metadata",
                "toggle_url": self.ds.urls.path(
                    path_with_removed_args(self.request, {"_facet": column})),
                "results": shown,
                "truncated": len(rows) > size,
            })
        return results, []

    def _stored_filter(self) -> tuple[str, str] | None:
        """('', '') for no filter, (column, value) for one plain equality, else None."""
        if not self.table:
            return None
        args = self.request.args
        keys = list(args.keys())
        if any(k.startswith(FILTERING_SPECIALS) for k in keys):
            return None
        filters = [k for k in keys if not k.startswith("_")]
        if not filters:
            return ("", "")
        if len(filters) == 1 and "__" not in filters[0] and len(args.getlist(filters[0])) == 1:
            return (filters[0], args.get(filters[0]))
        return None

    async def _stored_counts(self, column: str, value: str) -> dict[str, list[tuple]] | None:
        db = self.ds.get_database(self.database)
        if not await db.table_exists(FACET_COUNTS):
            return None
        rows = await db.execute(
            f"SELECT column_name, value, count FROM {FACET_COUNTS} WHERE table_name = ? "
            "AND filter_column = ? AND filter_value = ? ORDER BY column_name, count DESC, value",
            [self.table, column, value])
        stored: dict[str, list[tuple]] = {}
        for name, facet_value, count in rows.rows:
            stored.setdefault(name, []).append((facet_value, count))
        return stored


@hookimpl
def register_facet_classes():
    classes = [PrecomputedColumnFacet, DateFacet]
    if detect_json1():
        classes.append(ArrayFacet)
    return classes
