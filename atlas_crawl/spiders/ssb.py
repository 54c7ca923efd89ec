"""SSB PxWebApi v2 tables: `scrapy crawl ssb_table -a table=07459`, or a named spider per table.

Flow: /config (limits) -> /tables/<id>/metadata -> planned data queries (formats/pxweb.py), paced
to the API's call limit on the host's one download slot. A 429 waits for Retry-After or a full
time window (fetch/politeness.py); a query the API refuses as too large is split in two
and retried; any other refusal is logged as an error with the problem+json detail, so the run
fails and the previous data stays.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar
from urllib.parse import urlsplit

import scrapy

from atlas_crawl.formats import jsonstat, pxweb
from atlas_crawl.manifests import (
    Dimension,
    Manifest,
    ManifestError,
    Place,
    all_manifests,
    register,
)
from atlas_crawl.spiders.arguments import Arg, one_of, ssb_table_id
from atlas_crawl.spiders.base import AtlasSpider, spiders_from_manifests

REGION_DIMENSIONS = ("Region", "KOKkommuneregion0000", "Gjerningssted", "Bydel")
# One row per SSB table crawled live: is it closed, and by what is it replaced (publish reads it).
SOURCE_STATUS = "source_status"
# The languages PxWebApi v2 answers SSB's tables in (`?lang=`).
LANGUAGES = ("no", "en")
STATUS_COLUMNS = ["source_id", "table_id", "discontinued", "replaced_by", "note"]
# A query refused as too large is halved at most this many times (1024 pieces): a 403 that is
# not about cells must not turn into a flood of ever smaller calls.
MAX_SPLIT_DEPTH = 10


class SsbTableSpider(AtlasSpider):
    """Any PxWebApi v2 table. Named subclasses below fix `table_id` from their manifest."""

    name = "ssb_table"
    title = "Any SSB PxWebApi v2 table by number (-a table=NNNNN)"
    file_kind = "a saved JSON-stat answer of an SSB table (2.0, or 1.0 from the v0 API)"
    allowed_domains: ClassVar[list[str]] = ["data.ssb.no"]
    custom_settings: ClassVar[dict] = {
        # The spider paces itself to the API's published limit; AutoThrottle would fight it.
        # Until /config and the rate-limit header are read, keep SSB's documented pace.
        # One request in the downloader at a time: a 429's pause must hold back every later
        # call, and a call already waiting in the host's slot would not see it.
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS": 1,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": pxweb.ApiLimits().delay,
        "DOWNLOAD_DELAY_JITTER": 0,
    }

    table_id = Arg("SSB table id, five digits such as 05803 (ssb_table only)",
                   lambda _, text: ssb_table_id(text), name="table", default="")
    select = Arg("codes per dimension, e.g. \"ContentsCode=Personer;Tid=2025,2026\"",
                 lambda _, text: parse_select(text), default={})
    lang = Arg("no or en (default no)", one_of(*LANGUAGES), default="no")
    base_url = Arg("another PxWebApi v2 root (tests, mirrors)", default=pxweb.BASE_URL)
    dataset = Arg("with -a file= of a JSON-stat 1.0 bundle: the dataset to read")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.table_id and not self.file:
            raise ValueError("ssb_table needs -a table=<id> (e.g. 07459) or -a file=<saved response>")
        self.base_url = self.base_url.rstrip("/")
        self.host = urlsplit(self.base_url).hostname or ""
        if self.base_url != pxweb.BASE_URL.rstrip("/"):
            self.allowed_domains = [self.host]  # e.g. a local PxWebApi (tests)
        self.config: pxweb.ConfigLimits | None = None
        self.policy: tuple[int, float] | None = None
        self.limits = pxweb.ApiLimits()
        self.meta: pxweb.TableMetadata | None = None
        self.planned = self.done = 0
        if self.table_id:
            self.source_id = f"ssb_{self.table_id}"

    # -- live crawl ---------------------------------------------------------------------------

    async def start_live(self):
        yield scrapy.Request(f"{self.base_url}/config", callback=self.parse_config,
                             meta=self._meta(), dont_filter=True)

    def parse_config(self, response):
        self._apply_rate_headers(response)
        if response.status != 200:
            self._refused(response, "/config")
            return
        self.config = pxweb.parse_config(response.body)
        self._update_limits()
        self.logger.info("PxWebApi limits: %s cells per call, %s calls per %s s (from %s)",
                         f"{self.limits.max_cells:,}", self.limits.max_calls,
                         self.limits.time_window, self.limits.source)
        yield scrapy.Request(
            f"{self.base_url}/tables/{self.table_id}/metadata?lang={self.lang}",
            callback=self.parse_metadata, meta=self._meta(),
        )

    def parse_metadata(self, response):
        self._apply_rate_headers(response)
        if response.status != 200:
            self._refused(response, f"metadata of table {self.table_id}")
            return
        self.meta = pxweb.parse_metadata(response.body, self.table_id)
        ensure_manifest(self.source_id, self.table_id, self.meta)
        yield from self.status_batch(response, self.meta.status)
        overrides = {**table_selection(self.source_id), **self.select}
        queries = pxweb.plan(self.meta, self.limits.max_cells, overrides)
        self.planned = len(queries)
        self.crawler.stats.set_value("atlas/pxweb/planned_calls", self.planned)
        self.logger.info("table %s: %s cells in %d planned call(s)", self.table_id,
                         f"{sum(q.cells for q in queries):,}", len(queries))
        for query in queries:
            yield self.data_request(query)

    def data_request(self, query: pxweb.Query, depth: int = 0) -> scrapy.Request:
        meta = {**self._meta(), "query": query, "split_depth": depth}
        if query.fits_in_url(self.base_url, self.lang):
            return scrapy.Request(query.get_url(self.base_url, self.lang),
                                  callback=self.parse_data, meta=meta, dont_filter=True)
        return scrapy.Request(
            query.post_url(self.base_url, self.lang), method="POST",
            body=json.dumps(query.post_body()), callback=self.parse_data, meta=meta,
            headers={"Content-Type": "application/json"}, dont_filter=True,
        )

    def parse_data(self, response):
        self._apply_rate_headers(response)
        query: pxweb.Query = response.meta["query"]
        if response.status != 200:
            depth = response.meta.get("split_depth", 0)
            if pxweb.too_many_cells(response.status, response.body) and depth < MAX_SPLIT_DEPTH \
                    and query.cells > 1:
                halves = pxweb.halve(self.meta, query)
                self.planned += len(halves) - 1
                self.crawler.stats.inc_value("atlas/pxweb/split_calls")
                self.logger.warning("HTTP %s for %s cells (%s): %s; splitting the query in two",
                                    response.status, f"{query.cells:,}", query.summary(),
                                    pxweb.problem_detail(response.body))
                for part in halves:
                    yield self.data_request(part, depth + 1)
                return
            self._refused(response, f"data call {query.summary()}")
            return
        self.done += 1
        self.logger.info("table %s: call %d/%d done (%s cells)", self.table_id, self.done,
                         self.planned, f"{query.cells:,}")
        yield from self.dataset_batches(response)

    def _refused(self, response, what: str) -> None:
        """A response nothing can be done about: an error names it, and the run fails."""
        self.logger.error("HTTP %s for %s (%s %s): %s", response.status, what,
                          response.request.method, response.url,
                          pxweb.problem_detail(response.body))

    # -- one saved response -------------------------------------------------------------------

    def status_batch(self, response, status: pxweb.TableStatus, *, announce: bool = True):
        """Whether SSB has closed the table (and its replacement), for the catalogue's sources;
        a closed table is still stored as far as it goes."""
        if status.discontinued and announce:
            self.logger.warning(
                "table %s is discontinued by SSB%s; storing what it holds", self.table_id,
                f" (replaced by table {status.replaced_by})" if status.replaced_by else "")
        yield from self.batches(
            response, STATUS_COLUMNS,
            [(self.source_id, self.table_id, int(status.discontinued), status.replaced_by,
              status.note)],
            ["source_id"], table=SOURCE_STATUS, types={"discontinued": int})

    def parse_file(self, response):
        # A large answer is read as a stream, its values into a compact array.
        try:
            doc = jsonstat.load(response.body, name=Path(self.file or response.url).name)
        except jsonstat.JsonStatError:
            summary = pxweb.text_summary(response.body)
            if summary.startswith("an HTML page"):
                raise jsonstat.JsonStatError(summary) from None
            raise
        if pxweb.is_problem(doc):
            self.logger.error("%s: an error answer of the PxWebApi, not data: %s",
                              Path(self.file or response.url).name,
                              pxweb.problem_detail(response.body))
            return
        if isinstance(doc, dict) and isinstance(doc.get("tables"), list) and "page" in doc:
            self.logger.error("%s: a PxWebApi v2 table catalogue page (/tables), not data: "
                              "it lists tables, it holds no figures",
                              Path(self.file or response.url).name)
            return
        if pxweb.is_table_info(doc):
            yield from self.table_info(response, doc)
            return
        if pxweb.is_table_metadata(doc):
            status = pxweb.table_status(doc, self.table_id)
            closed = "discontinued" + (f", replaced by table {status.replaced_by}"
                                       if status.replaced_by else "")
            table = ((doc.get("extension") or {}).get("px") or {}).get("tableid") or self.table_id
            self.logger.error(
                "%s: PxWebApi table metadata of table %s (%s), not data: it holds no figures",
                Path(self.file or response.url).name, table,
                closed if status.discontinued else "not discontinued")
            return
        dataset = jsonstat.decode(doc, name=self.dataset)
        if self.table_id and dataset.table_id and dataset.table_id != self.table_id:
            # Stored as table 07459, the cells would miss its columns (or worse, fit them).
            other = f"ssb_{dataset.table_id}"
            raise ValueError(
                f"the file holds SSB table {dataset.table_id}"
                + (f" ({dataset.label.removeprefix(dataset.table_id + ': ')})"
                   if dataset.label else "")
                + f", not table {self.table_id}; read it with `scrapy crawl "
                + (other if other in all_manifests() else "ssb_table")
                + f" -a file={Path(self.file or response.url).name}`")
        if not self.table_id:
            self.table_id = dataset.table_id or ""
            if not self.table_id:
                raise ValueError(f"{response.url}: no table id in the file; pass -a table=<id>")
            self.source_id = f"ssb_{self.table_id}"
        ensure_manifest(self.source_id, self.table_id, dataset)
        if isinstance((doc.get("extension") or {}).get("discontinued"), bool):
            # A v2 data answer says whether the table is closed, as its metadata does.
            yield from self.status_batch(response, pxweb.table_status(doc, self.table_id))
        yield from self.dataset_batches(response, dataset)

    def table_info(self, response, doc: dict):
        """A saved `/tables/{id}` answer: no figures, but it says whether SSB has closed the
        table; that is recorded in source_status as a live crawl records it from /metadata."""
        name = Path(self.file or response.url).name
        table = str(doc["id"])
        if self.table_id and ssb_table_id(self.table_id) != table:
            self.logger.error("%s: PxWebApi table info of table %s, not of -a table=%s", name,
                              table, self.table_id)
            return
        self.table_id = table
        self.source_id = f"ssb_{table}"
        ensure_manifest(self.source_id, table, SimpleNamespace(
            label=str(doc.get("label") or ""), dimensions=[]))
        status = pxweb.table_status(doc, table)
        if status.discontinued:
            self.logger.warning(
                "%s: PxWebApi table info (/tables/%s), no figures: SSB has discontinued table "
                "%s%s (last period %s); recorded in source_status", name, table, table,
                f", replaced by table {status.replaced_by}" if status.replaced_by else "",
                doc.get("lastPeriod") or "not given")
        else:
            self.logger.info("%s: PxWebApi table info (/tables/%s), no figures: the table is "
                             "not discontinued; recorded in source_status", name, table)
        yield from self.status_batch(response, status, announce=False)

    def dataset_batches(self, response, dataset: jsonstat.Dataset | None = None):
        yield from self.jsonstat_batches(response, dataset or jsonstat.decode(response.body))

    # -- pacing -------------------------------------------------------------------------------

    def _meta(self) -> dict:
        # Every status reaches the callback: one that is not handled there is logged as an
        # error, never dropped as an ignored response. 429s are retried before that.
        return {"atlas_429_wait": self.limits.time_window, "handle_httpstatus_all": True}

    def _apply_rate_headers(self, response) -> None:
        policy = pxweb.parse_ratelimit_policy(response.headers.get("x-ratelimit-policy"))
        if policy and policy != self.policy:
            self.policy = policy
            self._update_limits()

    def _update_limits(self) -> None:
        limits = pxweb.effective_limits(self.config, self.policy)
        if limits.delay != self.limits.delay or limits.source != self.limits.source:
            self.logger.info("pacing %s: one call every %.2f s (%d calls per %g s, from %s)",
                             self.host, limits.delay, limits.max_calls, limits.time_window,
                             limits.source)
        self.limits = limits
        self.set_delay(limits.delay)

    def set_delay(self, delay: float) -> None:
        """Pace the API host's download slot: one call every timeWindow / maxCallsPerTimeWindow
        seconds. The slot exists once /config was fetched; DOWNLOAD_SLOTS covers a slot the
        downloader creates again after it sat idle (e.g. through a long Retry-After)."""
        downloader = self.crawler.engine.downloader
        downloader.per_slot_settings[self.host] = {
            **downloader.per_slot_settings.get(self.host, {}), "delay": delay, "jitter": 0}
        slot = downloader.slots.get(self.host)
        if slot is not None:
            slot.delay = delay
            slot.jitter = 0


def parse_select(text: str) -> dict[str, list[str]]:
    """`-a select="ContentsCode=Personer,Skilsmisse;Tid=2025,2026"` -> codes per dimension."""
    selection = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        dim_id, sep, codes = part.partition("=")
        if not sep or not codes.strip():
            raise ValueError(f"-a select={text}: {part!r} is not Dimension=code,code (e.g. "
                             "\"ContentsCode=Personer;Tid=2025,2026\")")
        selection[dim_id.strip()] = [c.strip() for c in codes.split(",") if c.strip()]
    return selection


def table_selection(source_id: str) -> dict[str, list[str]]:
    manifest = all_manifests().get(source_id)
    pxcfg = (manifest.extra.get("pxweb") or {}) if manifest else {}
    return {k: [str(c) for c in (v if isinstance(v, list) else [v])]
            for k, v in (pxcfg.get("selection") or {}).items()}


def ensure_manifest(source_id: str, table_id: str, described) -> Manifest:
    """The table's manifest; for a table named only on the command line, one built from SSB's
    own description (the catalogue shows it as such)."""
    known = all_manifests().get(source_id)
    if known and not str(known.path).startswith("<runtime:"):
        return known
    # built afresh each time: an earlier crawl in this process may have seen another shape
    dims = described.dimensions
    manifest = Manifest(
        path=Path(f"<runtime:{source_id}>"),
        source_id=source_id, upstream_id=table_id,
        upstream_url=f"https://www.ssb.no/statbank/table/{table_id}",
        upstream_title=described.label or f"SSB table {table_id}",
        description=f"SSB table {table_id}, fetched by name without a curated manifest.",
        publisher="Statistisk sentralbyrå", license="CC BY 4.0",
        license_url="https://creativecommons.org/licenses/by/4.0/deed.no",
        periodicity="irregular", eu_theme="SOCI",
        attribution=f"Kilde: Statistisk sentralbyrå, tabell {table_id}",
        tags={"provider": "ssb", "topic": "demographics", "geo": "national",
              "cadence": "irregular"},
        dimensions=tuple(Dimension(d.id, d.label) for d in dims),
        presentation_policy="standard", methodology_version="unversioned",
        places=tuple(Place(jsonstat.column_name(d.id)) for d in dims
                     if d.id in REGION_DIMENSIONS),
    )
    register(manifest)
    return manifest


def _named_table(manifest: Manifest) -> tuple[str, dict]:
    table_id = (manifest.extra["pxweb"] or {}).get("table")
    if not isinstance(table_id, str) or not table_id.isdigit():
        # YAML reads 01234 as the octal number 668: a table number must be quoted.
        raise ManifestError(f"{manifest.path}: field 'pxweb.table': {table_id!r} must be a "
                            f"quoted table number such as '07459'")
    return f"Ssb{table_id}Spider", {
        "table_id": table_id, "__doc__": f"SSB table {table_id}: {manifest.upstream_title}"}


spiders_from_manifests(globals(), "pxweb", SsbTableSpider, _named_table)
