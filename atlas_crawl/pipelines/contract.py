"""Check that a batch matches its source's manifest before anything is stored.

A drifted layout must fail the run (the previous data stays), so a violation is a ContractError,
logged as one error line naming the source, file and column (the batch is dropped); the store
pipeline then rolls the run back.
"""

from __future__ import annotations

import logging
from operator import itemgetter

from scrapy.exceptions import DropItem

from atlas_crawl.formats.numbers import SUPPRESSION_SYMBOLS
from atlas_crawl.formats.text import excerpt, garbled
from atlas_crawl.items import Batch, Quarantined, fact_table_of, is_dimension_table
from atlas_crawl.manifests import Manifest, ManifestError, get_manifest

logger = logging.getLogger(__name__)


class ContractError(ValueError):
    pass


# Bookkeeping tables any source may write a row to (keyed by source_id), besides its own.
SHARED_TABLES = frozenset({"source_status"})


def check_batch(batch: Batch) -> None:
    try:
        manifest = get_manifest(batch.source_id)
    except ManifestError as exc:
        raise ContractError(str(exc)) from None
    where = f"{batch.source_id} ({batch.provenance.url})"
    if (batch.table not in manifest.table_names and not batch.table.startswith("dim_")
            and batch.table not in SHARED_TABLES
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
    check_declared_columns_filled(batch, manifest, where)
    quarantine_garbled_text(batch)
    quarantine_undeclared_statuses(batch, manifest)


def quarantine_garbled_text(batch: Batch) -> None:
    """Text that was read in the wrong encoding (`AskÃ¸y`, U+FFFD) is never stored: its row goes
    to quarantine naming the column. File readers refuse such a file before this (naming its
    line); this is the net under every source. One regular-expression scan per text column of
    the batch; rows are looked at one by one only when a column holds garbled text."""
    rows = batch.rows
    if not rows:
        return
    suspect = []
    for n, column in enumerate(batch.columns):
        if batch.types.get(column, str) is not str:
            continue
        try:
            joined = "\x1f".join(filter(None, map(itemgetter(n), rows)))
        except TypeError:  # a number in a text column
            joined = "\x1f".join(str(v) for v in map(itemgetter(n), rows) if v is not None)
        if garbled(joined):
            suspect.append(n)
    if not suspect:
        return
    kept = []
    for number, row in enumerate(rows, start=1):
        bad = next(((n, m) for n in suspect if isinstance(row[n], str)
                    and (m := garbled(row[n]))), None)
        if bad is None:
            kept.append(row)
            continue
        n, match = bad
        batch.quarantine.append(Quarantined(
            column=batch.columns[n], raw_value=row[n],
            reason=(f"row {number} of the batch, column {batch.columns[n]}: garbled text "
                    f"{excerpt(row[n], match)!r} (read in the wrong encoding); not stored"),
            row=dict(zip(batch.columns, row))))
    batch.rows = kept


def declared_statuses(manifest: Manifest) -> frozenset[str]:
    """What may stand in place of a number: the symbols statistics publishers share (numbers.
    SUPPRESSION_SYMBOLS) and the manifest's own `status_symbols` (IMDi's "avventer vedtak")."""
    return SUPPRESSION_SYMBOLS | manifest.status_symbols


def quarantine_undeclared_statuses(batch: Batch, manifest: Manifest) -> None:
    """A cell whose text is neither a number nor a symbol the publisher declared (`ca. 1800`,
    `1 800 (foreløpig)`) is not a suppressed value: its row goes to quarantine with the column
    and the text, where the run monitor's quarantine share can fail the run."""
    if "status" not in batch.columns or "value" not in batch.columns or \
            is_dimension_table(batch.table):
        return
    at = batch.columns.index("status")
    declared = declared_statuses(manifest)
    statuses = set(map(itemgetter(at), batch.rows))
    statuses.discard(None)
    if statuses <= declared:
        return
    kept = []
    shown = ", ".join(repr(s) for s in sorted(declared))
    for n, row in enumerate(batch.rows, start=1):
        status = row[at]
        if status is None or status in declared:
            kept.append(row)
            continue
        batch.quarantine.append(Quarantined(
            column="value", raw_value=str(status),
            reason=(f"row {n} of the batch, column value: {status!r} is neither a number nor a "
                    f"symbol {manifest.publisher} declares ({shown})"),
            row=dict(zip(batch.columns, row))))
    batch.rows = kept


# A batch this small may honestly leave an optional column empty (one organisation without an
# address); from this many rows on, a declared column empty in every row is a renamed field.
EMPTY_COLUMN_MIN_ROWS = 10
# The symbol of a suppressed cell: NULL in every row of a batch with nothing suppressed.
ALWAYS_MAY_BE_EMPTY = frozenset({"status"})


def check_declared_columns_filled(batch: Batch, manifest, where: str) -> None:
    """A column the manifest declares (a dimension or a required column) that is NULL in every
    row of a batch means the source renamed the field it is read from: fail, naming it, rather
    than store a column of nothing. `may_be_empty: [col, ...]` in the manifest exempts one."""
    if len(batch.rows) < EMPTY_COLUMN_MIN_ROWS:
        return
    required = manifest.extra.get("required_columns", {})
    wanted = required.get(batch.table, []) if isinstance(required, dict) else list(required)
    declared = {d.code for d in manifest.dimensions} | set(wanted)
    exempt = ALWAYS_MAY_BE_EMPTY | set(manifest.extra.get("may_be_empty") or ())
    for n, column in enumerate(batch.columns):
        if column in declared and column not in exempt and all(
                v is None for v in map(itemgetter(n), batch.rows)):
            raise ContractError(
                f"{where}: declared column {column!r} of table {batch.table!r} is empty in all "
                f"{len(batch.rows)} rows (a renamed or missing field in the source?)")


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
            try:
                check_batch(item)
            except ContractError as exc:
                # One ERROR line (it fails and rolls back the run, and is its cause in _runs);
                # raised on, Scrapy would log "Error processing Batch(<every row>)" and a
                # traceback. The batch goes no further.
                logger.error("%s: %s", type(exc).__name__, exc)
                item.rows, item.quarantine = [], []
                raise DropItem(f"{item.source_id}: batch refused by its contract",
                               log_level="DEBUG") from None
        return item
