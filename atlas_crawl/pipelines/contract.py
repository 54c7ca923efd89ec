"""Check that a batch matches its source's manifest before anything is stored.

A drifted layout must fail the run (the previous data stays), so a violation raises
ContractError, which Scrapy logs as an error; the store pipeline then rolls the run back.
"""

from __future__ import annotations

from operator import itemgetter

from atlas_crawl.dimensions import fact_table_of
from atlas_crawl.items import Batch
from atlas_crawl.manifests import ManifestError, get_manifest


class ContractError(ValueError):
    pass


def check_batch(batch: Batch) -> None:
    try:
        manifest = get_manifest(batch.source_id)
    except ManifestError as exc:
        raise ContractError(str(exc)) from None
    where = f"{batch.source_id} ({batch.provenance.url})"
    if (batch.table not in manifest.table_names and not batch.table.startswith("dim_")
            and fact_table_of(batch.table) not in manifest.table_names):
        raise ContractError(
            f"{where}: table {batch.table!r} is not declared in {manifest.path.name} "
            f"(declared: {list(manifest.table_names)})"
        )
    if len(set(batch.columns)) != len(batch.columns):
        raise ContractError(f"{where}: duplicate column names in {batch.columns}")
    required = manifest.extra.get("required_columns", {})
    wanted = required.get(batch.table, []) if isinstance(required, dict) else required
    missing = [c for c in wanted if c not in batch.columns]
    if missing:
        raise ContractError(
            f"{where}: table {batch.table!r} lacks expected columns {missing}; "
            f"found {batch.columns}"
        )
    if batch.table == batch.source_id:
        absent = [p.column for p in manifest.places if p.column not in batch.columns]
        if absent:
            raise ContractError(f"{where}: place columns {absent} not in {batch.columns}")
    check_rows(batch, where)


def check_rows(batch: Batch, where: str) -> None:
    """Every row has one value per column and no empty key value.

    The scan runs in C (map/len, `None in`) because it touches every row of every batch; only
    when something is wrong does a Python loop look for the first offending row to name it.
    """
    rows = batch.rows
    width = len(batch.columns)
    key_positions = [batch.columns.index(k) for k in batch.key]
    widths = set(map(len, rows))
    bad_width = bool(widths - {width})
    # `None in ...` checks identity before equality, and no code or label equals None.
    empty_key = not bad_width and any(None in map(itemgetter(p), rows) for p in key_positions)
    if not (bad_width or empty_key):
        return
    for n, row in enumerate(rows):
        if len(row) != width:
            raise ContractError(
                f"{where}: row {n} has {len(row)} values for {width} columns: {row!r}"
            )
        if any(row[p] is None for p in key_positions):
            raise ContractError(
                f"{where}: row {n} has an empty key column ({batch.key}): {row!r}"
            )


class ContractPipeline:
    def process_item(self, item):
        if isinstance(item, Batch):
            check_batch(item)
        return item
