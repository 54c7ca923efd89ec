"""Words beside codes in the table pages: a cell of a column whose codes publish put into words
(`worded` in the report config, publish/report.py: IMDi's `variabel` and `nedbrytning`) reads
"innvandrerkategori: alle" with its code, `innvkat_3.alle`, after it in small type."""

from __future__ import annotations

import weakref

from markupsafe import Markup, escape

from atlas_crawl.publish.report import REPORT_KEY

# per Datasette: table -> column -> code -> words (the plugin config is read once, not per cell)
_WORDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _words(datasette) -> dict[str, dict[str, dict[str, str]]]:
    if datasette not in _WORDS:
        tables = (datasette.plugin_config(REPORT_KEY) or {}).get("tables", {})
        _WORDS[datasette] = {
            name: {c: cfg.get("labels", {}).get(c, {}) for c in cfg.get("worded", [])}
            for name, cfg in tables.items() if cfg.get("worded")}
    return _WORDS[datasette]


def worded_cell(datasette, table: str | None, column: str, value) -> Markup | None:
    """The cell in words with its code, or None (Datasette shows the value as it is)."""
    if not table or not isinstance(value, str) or not value:
        return None
    words = _words(datasette).get(table, {}).get(column, {}).get(value)
    if not words or words == value:
        return None
    return Markup(f'{escape(words)} <small class="atlas-code">{escape(value)}</small>')
