"""The views a source declares, made in one place.

A manifest names its views (`views: {name: description}`; the description goes to the
catalogue); the SQL of each lives here, keyed by view name. :func:`make_source_views` (re)creates
the views of the sources a run wrote, inside the run's transaction, once their tables exist: the
store calls it before it commits, and `publish` calls it for every source. A view whose tables are
not there yet (Lottstift's join to a Brreg register never crawled) is skipped and made by a later
run.

Each builder takes the connection (to read the columns a joined table has today) and returns the
statements to run, or None when a table it needs is missing.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable

from atlas_crawl.manifests import Manifest

logger = logging.getLogger(__name__)

Builder = Callable[[sqlite3.Connection], list[str] | None]
BUILDERS: dict[str, Builder] = {}


def view(name: str):
    def register(builder: Builder) -> Builder:
        BUILDERS[name] = builder
        return builder
    return register


def columns_of(conn: sqlite3.Connection, table: str) -> list[str] | None:
    """The columns of a table, or None when it does not exist."""
    found = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
    return found or None


def declared_views(manifest: Manifest) -> list[str]:
    return list((manifest.extra.get("views") or {}).keys())


def make_source_views(conn: sqlite3.Connection, manifests: Iterable[Manifest]) -> list[str]:
    """Create or refresh every declared view of these sources whose tables exist; returns the
    names made. A declared view without a builder is an error in the manifest."""
    made = []
    for manifest in manifests:
        for name in declared_views(manifest):
            builder = BUILDERS.get(name)
            if builder is None:
                raise KeyError(f"{manifest.path}: field 'views': no definition of {name!r} in "
                               f"atlas_crawl/store/views.py")
            statements = builder(conn)
            if statements is None:
                logger.info("view %s waits for its tables; a later run makes it", name)
                continue
            conn.execute(f'DROP VIEW IF EXISTS "{name}"')
            for statement in statements:
                conn.execute(statement)
            made.append(name)
    return made


# -- Brreg ------------------------------------------------------------------------------------


@view("brreg_frivillige_geo")
def brreg_frivillige_geo(conn: sqlite3.Connection) -> list[str] | None:
    """Each voluntary organisation joined to its enhet for name and geography (every
    ``forretningsadresse_kommunenummer*`` column the enheter table has: the geography pipeline
    adds canonical and current codes beside the raw one), and its primary ICNPO category."""
    if columns_of(conn, "brreg_frivillige") is None:
        return None
    base = ["navn", "organisasjonsform_kode", "forretningsadresse_kommune",
            "forretningsadresse_kommunenummer"]
    columns = columns_of(conn, "brreg_enheter") or base
    geo = [c for c in columns if c.startswith("forretningsadresse_kommunenummer")]
    wanted = [*dict.fromkeys([*base[:3], *geo])]
    picked = ", ".join(f'e."{c}"' for c in wanted if c in columns)
    enheter = "brreg_enheter" if columns_of(conn, "brreg_enheter") else (
        "(SELECT NULL AS organisasjonsnummer, NULL AS navn, NULL AS organisasjonsform_kode, "
        "NULL AS forretningsadresse_kommune, NULL AS forretningsadresse_kommunenummer)")
    icnpo = "brreg_frivillige_icnpo" if columns_of(conn, "brreg_frivillige_icnpo") else (
        "(SELECT NULL AS organisasjonsnummer, NULL AS rekkefoelge, NULL AS kategori, "
        "NULL AS navn)")
    return [
        (f'CREATE VIEW "brreg_frivillige_geo" AS SELECT f."organisasjonsnummer", {picked}, '
        f'f."icnpo_primaer", i."kategori" AS icnpo_primaer_kategori, '
        f'i."navn" AS icnpo_primaer_navn, f."frivilligOrganisasjonsstatus", '
        f'f."grasrotandel_deltarI" '
        f'FROM "brreg_frivillige" f '
        f'LEFT JOIN {enheter} e ON e."organisasjonsnummer" = f."organisasjonsnummer" '
        f'LEFT JOIN {icnpo} i ON i."organisasjonsnummer" = f."organisasjonsnummer" '
        f'AND i."rekkefoelge" = 1')
    ]


# -- Lottstift --------------------------------------------------------------------------------


@view("lottstift_momskompensasjon_brreg")
def lottstift_brreg(conn: sqlite3.Connection) -> list[str] | None:
    """The grants with each recipient's name and forretningsadresse kommune from Brreg's
    Enhetsregisteret. Recipients Brreg does not know keep NULLs: a LEFT JOIN, nothing dropped."""
    present = columns_of(conn, "brreg_enheter")
    if present is None or columns_of(conn, "lottstift_momskompensasjon") is None:
        return None
    wanted = ["navn", "organisasjonsform_kode", "slettet",
              *[c for c in present if c.startswith("forretningsadresse_kommune")]]
    picked = [c for c in dict.fromkeys(wanted) if c in present]
    brreg = "".join(f', e."{c}" AS "brreg_{c}"' if c == "navn" else f', e."{c}"' for c in picked)
    return [
        ('CREATE VIEW "lottstift_momskompensasjon_brreg" AS SELECT g.*, '
        f'e."organisasjonsnummer" IS NOT NULL AS in_brreg{brreg} '
        'FROM "lottstift_momskompensasjon" g '
        'LEFT JOIN "brreg_enheter" e ON e."organisasjonsnummer" = g."organisasjonsnummer"')
    ]


# -- Husbanken --------------------------------------------------------------------------------


@view("husbanken_bostotte_kommune")
def husbanken_kommune(conn: sqlite3.Connection) -> list[str] | None:
    """Kommune totals with Oslo whole: Husbanken's Oslo bydel codes 0311-0326 are added to 0301
    (whose own rows carry almost nothing). Quarantined rows (e.g. 0326, which cannot be placed)
    are not in the table, so not in the sums; `codes_summed` says how many codes made a row and
    `cells_without_value` how many of them had no value."""
    if columns_of(conn, "husbanken_bostotte") is None:
        return None
    return [
        ('CREATE VIEW "husbanken_bostotte_kommune" AS SELECT '
        "CASE WHEN kommune_nr BETWEEN '0311' AND '0326' THEN '0301' ELSE kommune_nr END "
        "AS kommune_nr, year, measure, unit, SUM(value) AS value, COUNT(*) AS codes_summed, "
        "SUM(status IS NOT NULL) AS cells_without_value "
        'FROM "husbanken_bostotte" GROUP BY 1, year, measure, unit')
    ]


# -- the change watch -----------------------------------------------------------------------


@view("watched_changes")
def watched_changes(conn: sqlite3.Connection) -> list[str] | None:
    """One row per source and change of a URL it watches (and the indexes the monitor's own
    reads of its tables use)."""
    if columns_of(conn, "site_changes") is None:
        return None
    indexes = [f'CREATE INDEX IF NOT EXISTS "{table}_by_provider" ON "{table}" ({columns})'
               for table, columns in (("sitemap_urls", "provider, gone_since"),
                                      ("watched_files", "provider"),
                                      ("site_changes", "provider, detected_at"))
               if columns_of(conn, table) is not None]
    return [
        *indexes,
        """CREATE VIEW "watched_changes" AS
        SELECT s.value AS source_id, c.detected_at, c.provider, c.url, c.event, c.evidence,
               c.detail, c.baseline
        FROM site_changes AS c, json_each(c.sources) AS s""",
    ]


@view("recrawl_needed")
def recrawl_needed(conn: sqlite3.Connection) -> list[str] | None:
    """A source needs a re-crawl when a URL it watches changed after the start of its last
    successful run (changes seen on a provider's first monitored run only tell that the URL
    exists, so they count only for sources that never ran successfully)."""
    if columns_of(conn, "site_changes") is None:
        return None
    return ["""CREATE VIEW "recrawl_needed" AS
        WITH last_ok AS (
            SELECT w.source_id,
                   (SELECT MAX(r.started) FROM _runs AS r
                    WHERE r.status = 'ok'
                      AND instr(',' || r.source_ids || ',', ',' || w.source_id || ',') > 0
                   ) AS last_ok_run
            FROM (SELECT DISTINCT source_id FROM watched_changes) AS w
        )
        SELECT w.source_id,
               l.last_ok_run,
               CASE WHEN l.last_ok_run IS NULL THEN 'never crawled successfully'
                    ELSE 'watched URLs changed since its last successful run' END AS reason,
               COUNT(*) AS changes,
               SUM(w.event = 'added') AS added,
               SUM(w.event = 'changed') AS changed,
               SUM(w.event = 'removed') AS removed,
               MIN(w.detected_at) AS first_detected,
               MAX(w.detected_at) AS last_detected,
               group_concat(DISTINCT w.url) AS urls
        FROM watched_changes AS w JOIN last_ok AS l USING (source_id)
        WHERE l.last_ok_run IS NULL OR (w.baseline = 0 AND w.detected_at > l.last_ok_run)
        GROUP BY w.source_id, l.last_ok_run
        ORDER BY w.source_id"""]
