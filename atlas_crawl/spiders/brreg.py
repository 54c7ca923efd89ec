"""Brønnøysundregistrene: the Enhetsregisteret bulk files, its change feeds, and
Frivillighetsregisteret.

    scrapy crawl brreg_enheter                       # nightly bulk file (~1.2 M organisations)
    scrapy crawl brreg_enheter -a file=enheter.json.gz   # a saved bulk file, or a saved API page
    scrapy crawl brreg_underenheter
    scrapy crawl brreg_oppdateringer -a dato=2026-10-04   # first run: changes since that day
    scrapy crawl brreg_oppdateringer                 # later runs continue from the stored cursor
    scrapy crawl brreg_underenheter_oppdateringer -a oppdateringsid=21390730
    scrapy crawl brreg_frivillige

Bulk bodies are streamed to a temporary file by the download handler (see
atlas_crawl/fetch/streaming.py) and parsed element by element, so memory stays flat whatever
the file size. Rows are upserted by organisasjonsnummer and never deleted: deletions reach the
entity tables only through the change feeds, as `slettet`/`deleted_at`.
"""

from __future__ import annotations

from itertools import islice
from typing import ClassVar
from urllib.parse import urljoin

import scrapy

from atlas_crawl.fetch.bodies import (
    HANDLERS,
    STREAM,
    body_sha256,
    body_size,
    body_stream,
    release_body,
)
from atlas_crawl.formats import brreg
from atlas_crawl.items import Batch, Provenance, Quarantined, utc_now
from atlas_crawl.spiders import arguments
from atlas_crawl.spiders.arguments import Arg
from atlas_crawl.spiders.base import AtlasSpider
from atlas_crawl.store.earlier import FEED_CURSOR_TABLE, StoredState

VENDOR_ACCEPT = {
    "enheter": "application/vnd.brreg.enhetsregisteret.enhet.v2+gzip",
    "underenheter": "application/vnd.brreg.enhetsregisteret.underenhet.v2+gzip",
}
JSON_ACCEPT = {"Accept": "application/json"}
KEY = ["organisasjonsnummer"]
CURSOR_COLUMNS = ["feed", "oppdateringsid", "dato"]
SEARCH_CHUNK = 100


def quarantined(problems: list[brreg.BadRecord]) -> list[Quarantined]:
    return [Quarantined(p.column, p.raw_value, p.reason, {"problem": p.reason}) for p in problems]


class BrregSpider(AtlasSpider):
    """What the Brreg spiders share: error reporting that fails the run."""

    allowed_domains: ClassVar[list[str]] = ["data.brreg.no"]

    def request(self, url: str, callback, **kwargs) -> scrapy.Request:
        headers = {**JSON_ACCEPT, **kwargs.pop("headers", {})}
        return scrapy.Request(url, callback=callback, errback=self.request_failed,
                              headers=headers, **kwargs)

    def request_failed(self, failure) -> None:
        # A failed call must fail the run (and roll it back): the feed's cursor would otherwise
        # move past changes that were never applied.
        request = getattr(failure, "request", None) or getattr(failure.value, "request", None)
        response = getattr(failure.value, "response", None)
        if hasattr(response, "status"):
            status = f"HTTP {response.status}"
            detail = response.text[:300] if hasattr(response, "text") else ""
        else:
            status, detail = f"{type(failure.value).__name__}: {failure.value}", ""
        self.logger.error("%s: %s failed: %s %s", self.name,
                          request.url if request else "a request", status, detail)

    def provenance(self, response) -> Provenance:
        return Provenance(response.url, body_sha256(response), utc_now())


# --------------------------------------------------------------------------------------------
# Bulk files


class BrregBulkSpider(BrregSpider):
    """`/enheter/lastned` (and `/underenheter/lastned`): the whole register in one gzipped,
    pretty-printed JSON array."""

    reads_gzip_files = True  # the bulk file is gzip upstream; read as it streams

    name = "brreg_enheter"
    source_id = "brreg_enheter"
    register = "enheter"
    custom_settings: ClassVar[dict] = {
        "DOWNLOAD_HANDLERS": HANDLERS,
        # One batch in flight at a time: a batch of 5,000 records with their JSON is ~15 MB.
        "CONCURRENT_ITEMS": 1,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    }

    batch_rows = Arg("records per stored batch (default 5000)", arguments.parse_int,
                     default=5_000)
    base_url = Arg("another Enhetsregisteret API root (tests, mirrors)", default=brreg.API)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = brreg.SPECS[self.register]
        if self.base_url != brreg.API:
            self.allowed_domains = []
        self.base_url = self.base_url.rstrip("/")

    async def start_live(self):
        url = f"{self.base_url}/{self.register}/lastned"
        yield self.request(
            url, self.parse_bulk, dont_filter=True,
            # The vendor type is required (application/json gets HTTP 400). The gzip is the
            # payload itself; ask for no transfer encoding on top of it.
            headers={"Accept": VENDOR_ACCEPT[self.register], "Accept-Encoding": "identity"},
            meta={STREAM: True, "download_timeout": 3 * 3600},
        )

    def parse_bulk(self, response):
        modified = brreg.parse_last_modified(response.headers.get("Last-Modified"))
        self.logger.info("%s bulk file: %s bytes, generated %s", self.register,
                         f"{body_size(response):,}", modified or "(no Last-Modified)")
        yield from self.record_batches(response)

    def parse_file(self, response):
        yield from self.record_batches(response)

    def record_batches(self, response):
        spec = self.spec
        provenance = self.provenance(response)
        stored = problems = 0
        try:
            with body_stream(response) as body:
                records = brreg.iter_records(body, spec, name=response.url)
                for chunk in brreg.chunks(records, spec.row, size=self.batch_rows):
                    stored += len(chunk.rows)
                    problems += len(chunk.problems)
                    yield Batch(source_id=self.source_id, columns=spec.columns, rows=chunk.rows,
                                key=KEY, provenance=provenance, types=spec.types,
                                quarantine=quarantined(chunk.problems))
        finally:
            release_body(response)
        self.logger.info("%s: %s records read, %s quarantined", response.url, f"{stored:,}",
                         f"{problems:,}")


class BrregUnderenheterSpider(BrregBulkSpider):
    name = "brreg_underenheter"
    source_id = "brreg_underenheter"
    register = "underenheter"


# --------------------------------------------------------------------------------------------
# Change feeds


class BrregFeedSpider(BrregSpider):
    """Walks `/oppdateringer/enheter` by `oppdateringsid` (never by `_links.next`, whose `page`
    stops at 20), fetches changed organisations 100 at a time through the search API, records
    deletions as `slettet`/`deleted_at`, and stores the cursor so the next run continues where
    this one ended. The feed is caught up when a page has no `_embedded` at all."""

    name = "brreg_oppdateringer"
    source_id = "brreg_oppdateringer"
    feed = brreg.FEEDS["enheter"]
    entity_source = "brreg_enheter"

    dato = Arg("first run: changes since this day (YYYY-MM-DD, e.g. the bulk file's day)",
               arguments.parse_day)
    start_id = Arg("first run: changes after this update id", arguments.whole_number(low=0),
                   name="oppdateringsid")
    size = Arg("changes per page, 1 to 10000 (default 10000)",
               arguments.whole_number(high=10_000), default=10_000)
    max_changes = Arg("at most this many changes in one run (default 100000)",
                      arguments.parse_int, default=100_000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.applied = 0

    # -- the cursor ---------------------------------------------------------------------------

    def stored_cursor(self) -> int | None:
        """The last oppdateringsid a previous run applied, from the database."""
        return StoredState(self.settings.get("ATLAS_DB")).feed_cursor(self.feed.name)

    async def start_live(self):
        cursor = self.stored_cursor()
        if cursor is not None:
            if self.start_id or self.dato:
                self.logger.warning("%s: a cursor is stored (%d); -a oppdateringsid/dato only "
                                    "seed a first run and are ignored", self.name, cursor)
            self.logger.info("%s: continuing after oppdateringsid %d", self.name, cursor)
            yield self.feed_request(cursor + 1)
        elif self.start_id:
            yield self.feed_request(self.start_id)
        elif self.dato:
            yield self.request(brreg.feed_seed_url(self.feed, self.dato), self.parse_seed)
        else:
            raise ValueError(
                f"{self.name}: no cursor stored yet. Seed the first run with -a dato=YYYY-MM-DD "
                f"(the day of the bulk file you loaded) or -a oppdateringsid=N.")

    def parse_seed(self, response):
        page = brreg.read_feed_page(response.body, self.feed, name=response.url)
        if not page.changes:
            self.logger.info("%s: no changes since %s yet; nothing to do", self.name, self.dato)
            return
        first = page.changes[0].oppdateringsid
        self.logger.info("%s: first change on or after %s is %d", self.name, self.dato, first)
        yield self.feed_request(first)

    def feed_request(self, start: int) -> scrapy.Request:
        return self.request(brreg.feed_url(self.feed, start, self.size), self.parse_feed,
                            meta={"start": start})

    # -- pages --------------------------------------------------------------------------------

    def parse_feed(self, response):
        page = brreg.read_feed_page(response.body, self.feed, name=response.url)
        if page.caught_up:
            self.logger.info("%s: caught up (nothing at or after %s)", self.name,
                             response.meta.get("start"))
            return
        if not page.changes:
            yield from self.change_batches(response, page, fetch=False)
            self.logger.error("%s: no usable change on %s (%d unreadable items, see quarantine);"
                              " the cursor cannot move past them", self.name, response.url,
                              len(page.problems))
            return
        yield from self.change_batches(response, page, fetch=True)
        last = max(c.oppdateringsid for c in page.changes)
        self.applied += len(page.changes)
        self.logger.info("%s: %d changes up to oppdateringsid %d (%s left from this page on)",
                         self.name, len(page.changes), last, page.total)
        if self.applied >= self.max_changes:
            self.logger.info("%s: stopping after %d changes (-a max_changes); the next run "
                             "continues after %d", self.name, self.applied, last)
            return
        yield self.feed_request(last + 1)

    def parse_file(self, response):
        """One saved feed page: the change log and deletions. Changed organisations are not
        fetched and the cursor does not move."""
        page = brreg.read_feed_page(response.body, self.feed, name=response.url)
        yield from self.change_batches(response, page, fetch=False)

    def change_batches(self, response, page: brreg.FeedPage, *, fetch: bool):
        provenance = self.provenance(response)
        yield Batch(source_id=self.source_id, columns=brreg.FEED_COLUMNS,
                    rows=[c.row() for c in page.changes], key=["oppdateringsid"],
                    provenance=provenance, types=brreg.FEED_TYPES,
                    quarantine=quarantined(page.problems))
        plan = brreg.plan_changes(page.changes)
        if plan.deletions:
            yield Batch(source_id=self.source_id, table=self.entity_source,
                        columns=brreg.DELETION_COLUMNS, key=KEY, provenance=provenance,
                        rows=[brreg.deletion_row(c) for c in plan.deletions],
                        types=brreg.DELETION_TYPES)
        if not fetch:
            if plan.fetch:
                self.logger.warning("%s: %d new or changed organisations in %s were not "
                                    "fetched (a saved page is read on its own)", self.name,
                                    len(plan.fetch), response.url)
            return
        numbers = iter(plan.fetch)
        while chunk := list(islice(numbers, SEARCH_CHUNK)):
            # Searches go before the next feed page, so the queue stays short.
            yield self.request(brreg.search_url(self.feed.name, chunk), self.parse_entities,
                               meta={"wanted": chunk}, priority=10)
        last = max(c.oppdateringsid for c in page.changes)
        dato = max(c.dato for c in page.changes if c.oppdateringsid == last)
        yield Batch(source_id=self.source_id, table=FEED_CURSOR_TABLE, columns=CURSOR_COLUMNS,
                    rows=[(self.feed.name, last, dato)], key=["feed"], provenance=provenance,
                    types={"oppdateringsid": int})

    def parse_entities(self, response):
        spec = self.feed.spec
        rows, problems = [], []
        for raw, rec in brreg.page_records(response.body, spec.embedded, name=response.url):
            try:
                rows.append((*spec.row(raw, rec), 0, None, None))
            except brreg.BadRecord as bad:
                problems.append(bad)
        missing = sorted(set(response.meta["wanted"]) - {r[0] for r in rows})
        if missing:
            self.logger.info("%s: %d changed organisations are no longer searchable "
                             "(deleted since?): %s", self.name, len(missing),
                             ", ".join(missing[:10]))
        yield Batch(source_id=self.entity_source,
                    columns=[*spec.columns, *brreg.DELETION_COLUMNS[1:]], rows=rows, key=KEY, provenance=self.provenance(response),
                    types={**spec.types, **brreg.DELETION_TYPES},
                    quarantine=quarantined(problems))


class BrregUnderenheterFeedSpider(BrregFeedSpider):
    name = "brreg_underenheter_oppdateringer"
    source_id = "brreg_underenheter_oppdateringer"
    feed = brreg.FEEDS["underenheter"]
    entity_source = "brreg_underenheter"


# --------------------------------------------------------------------------------------------
# Frivillighetsregisteret


class BrregFrivilligeSpider(BrregSpider):
    """`frivillige-organisasjoner`, walked by following `_links.next` (it carries
    `searchAfter`; `page=` is refused). ICNPO categories go to their own table keyed by
    (organisasjonsnummer, rekkefoelge); the view `brreg_frivillige_geo` joins each organisation
    to its enhet for name and kommune."""

    name = "brreg_frivillige"
    source_id = "brreg_frivillige"
    icnpo_table = "brreg_frivillige_icnpo"

    size = Arg("organisations per page, 1 to 100", arguments.whole_number(high=100), default=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.url = brreg.frivillige_url(self.size)  # refuses sizes over 100
        self.pages = 0
        self.seen_pages: set[str] = set()

    async def start_live(self):
        yield self.request(self.url, self.parse_page)

    def parse_page(self, response):
        yield from self.page_batches(response)
        page = brreg.read_page(response.body, name=response.url)
        following = brreg.next_link(page)
        self.seen_pages.add(response.url)
        if following:
            following = urljoin(response.url, following)
            if following in self.seen_pages:
                # The walk would go round in circles (and Scrapy would silently drop the repeat).
                self.logger.error("%s: the next link of %s leads back to %s; the walk stopped "
                                  "there", self.name, response.url, following)
                return
            yield self.request(following, self.parse_page)
        else:
            self.logger.info("%s: last page reached after %d pages", self.name, self.pages)

    def parse_file(self, response):
        yield from self.page_batches(response)

    def page_batches(self, response):
        self.pages += 1
        rows, categories, problems = [], [], []
        records = brreg.page_records(response.body, brreg.FRIVILLIG.embedded, name=response.url)
        for raw, rec in records:
            try:
                row, cats, bad = brreg.frivillig_rows(raw, rec)
            except brreg.BadRecord as exc:
                problems.append(exc)
                continue
            rows.append(row)
            categories.extend(cats)
            problems.extend(bad)
        provenance = self.provenance(response)
        yield Batch(source_id=self.source_id, columns=brreg.FRIVILLIG_COLUMNS, rows=rows,
                    key=KEY, provenance=provenance,
                    types={**brreg.FRIVILLIG.types, "icnpo_primaer": str},
                    quarantine=quarantined(problems))
        yield Batch(source_id=self.source_id, table=self.icnpo_table,
                    columns=brreg.ICNPO_COLUMNS, rows=categories,
                    key=["organisasjonsnummer", "rekkefoelge"], provenance=provenance,
                    types=brreg.ICNPO_TYPES,
                    # an organisation's categories are its whole list: ones it dropped go
                    complete_for=("organisasjonsnummer", tuple(r[0] for r in rows)))
