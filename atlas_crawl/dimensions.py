"""Dimension tables: labels, units and other per-code facts, stored once per code.

A fact table holds codes, the value, its status and two small integers (`_run`, `_fetch`); each
coded column that has labels references a dimension table named `<table>__<column>` whose primary
key is `code` (Datasette links the two by foreign key and shows the label). The same code in two
tables may mean different things (SSB's ContentsCode), so dimension tables belong to one table.
"""

from __future__ import annotations

SEPARATOR = "__"
KEY = "code"
LABEL = "label"


def dimension_table(table: str, column: str) -> str:
    return f"{table}{SEPARATOR}{column}"


def is_dimension_table(name: str) -> bool:
    return SEPARATOR in name.strip("_")


def fact_table_of(name: str) -> str | None:
    """`ssb_07459__region` -> `ssb_07459`; None for a table that is not a dimension table."""
    if not is_dimension_table(name):
        return None
    return name.rsplit(SEPARATOR, 1)[0]
