"""`scrapy crawl sitemap_watch [-a provider=imdi,nav] [-a manifests=DIR]`: what changed upstream.

For every provider whose manifests declare `watch` patterns (or the providers named): read
robots.txt (its `Sitemap:` lines, else /sitemap.xml), every sitemap and sitemap index (plain or
gzip), and every literal watched page (for links to watched URLs). Then fetch every watched file
(xlsx, xls, csv, zip, pdf) and every other literal watched URL, conditionally (If-None-Match /
If-Modified-Since; 304 = unchanged) when its hash is known, and hash what is downloaded. Finally
write the provider's state and its changes (atlas_crawl.watch.changes.reconcile) as batches through the
normal pipelines, in the run's one transaction: a failed run leaves the state as it was.

`-a manifests=DIR` reads the watch patterns from the manifests in DIR instead of the project's.
`-a file=SITEMAP -a provider=P` records one saved sitemap (no removals are inferred from it).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from atlas_crawl import PROJECT_DIR
from atlas_crawl import signals as atlas_signals
from atlas_crawl.formats import sitemap
from atlas_crawl.items import Provenance, utc_now
from atlas_crawl.manifests import PROVIDERS
from atlas_crawl.spiders import arguments
from atlas_crawl.spiders.arguments import Arg
from atlas_crawl.spiders.base import AtlasSpider
from atlas_crawl.store.earlier import StoredState
from atlas_crawl.watch.changes import (
    Check,
    Document,
    Observation,
    Outcome,
    ProviderState,
    conditional_headers,
    files_to_fetch,
    load_watch_list,
    reconcile,
    register_watch_manifest,
)

MAX_DEPTH = 3  # robots.txt -> index -> index -> sitemap
ROBOTS_MAXSIZE = 5 * 1024 * 1024


def providers(name: str, text: str) -> list[str]:
    """`-a provider=imdi,nav`: providers the project knows."""
    chosen = arguments.parse_words(name, text) or []
    unknown = [p for p in chosen if p not in PROVIDERS]
    if unknown:
        raise ValueError(f"-a {name}={text}: unknown {unknown}; known: {sorted(PROVIDERS)}")
    return chosen


def resolve_path(name: str, text: str) -> Path:
    """A path given on the command line: as given, else relative to the project folder."""
    path = Path(text).expanduser()
    if not path.exists() and not path.is_absolute() and (PROJECT_DIR / path).exists():
        path = PROJECT_DIR / path
    if not path.is_dir():
        raise ValueError(f"-a {name}={text}: no such folder")
    return path.resolve()


class SitemapWatchSpider(AtlasSpider):
    name = "sitemap_watch"
    title = "Change watch: robots.txt, sitemaps and watched files of every provider"
    source_id = "sitemap_watch"
    # A browser check on one provider's site makes that provider incomplete (see what_it_is);
    # it must not close the spider and cost every other provider its monitoring run.
    custom_settings: ClassVar[dict] = {
        # A host that stays down after the retries makes its provider incomplete (the errbacks
        # record it); logged as an error it would fail the run for every other provider too.
        "RETRY_GIVE_UP_LOG_LEVEL": "WARNING",
        # Likewise a host whose name does not resolve (middlewares/politeness.py).
        "ATLAS_UNREACHABLE_LOG_LEVEL": "WARNING",
    }

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
        middlewares["atlas_crawl.fetch.browser_check.BrowserCheckMiddleware"] = None
        settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="spider")

    only = Arg("providers to watch, like imdi,nav (default: every one with watch lists)",
               providers, name="provider", default=())
    manifests = Arg("a folder of manifests whose watch lists to use", resolve_path)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        register_watch_manifest()
        self.watch = load_watch_list(self.manifests)
        for p in self.only:
            try:
                self.watch.site_root(p)
            except KeyError as exc:
                raise ValueError(f"-a provider={p}: {exc.args[0]}") from None
        if self.file and len(self.only) != 1:
            raise ValueError("sitemap_watch -a file=... needs exactly one -a provider=")
        self.phase = "discover"
        self.now = ""
        self.obs: dict[str, Observation] = {}
        self.state: dict[str, ProviderState] = {}
        self.outcomes: dict[str, Outcome] = {}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.summarise, signal=atlas_signals.run_finished)
        settings = crawler.settings
        spider.limits = sitemap.Limits(
            settings.getint("ATLAS_SITEMAP_MAX_BYTES", sitemap.PROTOCOL_MAX_BYTES),
            settings.getint("ATLAS_SITEMAP_MAX_URLS", sitemap.PROTOCOL_MAX_URLS))
        spider.max_documents = settings.getint("ATLAS_SITEMAP_MAX_DOCUMENTS", 1000)
        spider.max_file_bytes = settings.getint("ATLAS_WATCH_MAX_FILE_BYTES", 200 * 2**20)
        spider.max_removed_share = settings.getfloat("ATLAS_WATCH_MAX_REMOVED_SHARE", 0.5)
        return spider

    # -- start --------------------------------------------------------------------------------

    async def start(self):
        self.prepare()
        async for request in super().start():
            yield request

    def prepare(self) -> None:
        """Read the state as the last committed run left it. The run's write transaction starts
        only in finish(), so other crawls can write to the database while this one fetches."""
        self.now = self.settings.get("ATLAS_WATCH_NOW") or utc_now()
        providers = self.only or self.watch.providers
        self.state = StoredState(self.settings.get("ATLAS_DB")).watch_state(providers)
        for p in providers:
            if not any(w.provider == p for w in self.watch.watches):
                self.logger.warning("no manifest of provider %s declares watch patterns: "
                                    "recording its sitemaps only", p)
            self.obs[p] = Observation(p, self.watch.site_root(p))
        if not providers:
            self.logger.warning("no manifest declares watch patterns: nothing to watch")

    async def start_live(self):
        for obs in self.obs.values():
            yield scrapy.Request(
                obs.robots_url, callback=self.parse_robots, errback=self.discovery_failed,
                dont_filter=True, meta=self._meta(obs, "robots", obs.robots_url,
                                                  dont_obey_robotstxt=True,
                                                  download_maxsize=ROBOTS_MAXSIZE))
            for url in self.watch.literals(obs.provider):
                if not sitemap.is_file_url(url):
                    yield self.check_request(obs, url, page=True)

    @staticmethod
    def _meta(obs: Observation, kind: str, url: str, **extra) -> dict:
        return {"provider": obs.provider, "kind": kind, "atlas_url": url,
                "handle_httpstatus_all": True, **extra}

    # -- robots.txt and sitemaps --------------------------------------------------------------

    def parse_robots(self, response):
        obs = self.obs[response.meta["provider"]]
        url = response.meta["atlas_url"]
        digest = obs.read(url, response.body)
        if response.status == 200:
            found = sitemap.robots_sitemaps(response.body, response.url)
            obs.documents[url] = Document(url, "robots", "", "ok",
                                          f"{len(found)} Sitemap: line(s)", len(found), digest)
        elif response.status in (404, 410):
            found = []
            obs.documents[url] = Document(url, "robots", "", f"http {response.status}",
                                          "no robots.txt", None, digest)
        else:
            self._fail(obs, url, "robots", "", f"http {response.status}",
                       f"{url} answered HTTP {response.status}{what_it_is(response)}")
            return
        if not found:
            request = self.sitemap_request(obs, obs.root + "/sitemap.xml", url, 0, fallback=True)
            if request:
                yield request
        for child in found:
            request = self.sitemap_request(obs, child, url, 0)
            if request:
                yield request

    def sitemap_request(self, obs: Observation, url: str, parent: str, depth: int,
                        fallback: bool = False) -> scrapy.Request | None:
        url = urljoin(parent, url)  # the protocol wants absolute URLs; be lenient
        if url in obs.documents or url == obs.robots_url:
            return None
        if urlsplit(url).scheme not in ("http", "https"):
            self._fail(obs, url, "sitemap", parent, "refused",
                       f"{url}: not an http(s) URL (listed in {parent})")
            return None
        if depth > MAX_DEPTH:
            self._fail(obs, url, "sitemap", parent, "refused",
                       f"{url}: sitemap indexes nested deeper than {MAX_DEPTH} levels; refused")
            return None
        if sum(d.kind != "robots" for d in obs.documents.values()) >= self.max_documents:
            self._fail(obs, url, "sitemap", parent, "refused",
                       f"{obs.provider}: more than {self.max_documents} sitemap files "
                       f"(ATLAS_SITEMAP_MAX_DOCUMENTS); {url} and the rest are not read")
            return None
        obs.documents[url] = Document(url, "sitemap", parent, "requested")
        return scrapy.Request(
            url, callback=self.parse_sitemap, errback=self.discovery_failed, dont_filter=True,
            meta=self._meta(obs, "sitemap", url, parent=parent, depth=depth, fallback=fallback,
                            download_maxsize=self.limits.max_bytes))

    def parse_sitemap(self, response):
        meta = response.meta
        obs, url, parent = self.obs[meta["provider"]], meta["atlas_url"], meta["parent"]
        digest = obs.read(url, response.body)
        if response.status != 200:
            if meta.get("fallback") and response.status in (404, 410):
                obs.documents[url] = Document(url, "sitemap", parent, f"http {response.status}",
                                              "no sitemap: robots.txt names none and "
                                              "/sitemap.xml is missing", None, digest)
                obs.notes.append(f"{obs.provider}: no sitemap ({url} answered "
                                 f"HTTP {response.status})")
                return
            self._fail(obs, url, "sitemap", parent, f"http {response.status}",
                       f"{url} answered HTTP {response.status}{what_it_is(response)}")
            return
        try:
            doc = sitemap.parse_sitemap(response.body, url, self.limits)
        except sitemap.SitemapRefused as exc:
            self._fail(obs, url, "sitemap", parent, "refused", str(exc))
            return
        obs.documents[url] = Document(url, doc.kind, parent, "ok", doc.skipped_summary(),
                                      len(doc.entries), digest)
        if doc.kind == "sitemapindex":
            for entry in doc.entries:
                request = self.sitemap_request(obs, entry.loc, url, meta["depth"] + 1)
                if request:
                    yield request
        else:
            for entry in doc.entries:
                obs.list(entry.loc, entry.lastmod, url, "sitemap")

    def discovery_failed(self, failure):
        request = failure.request
        meta = request.meta
        obs = self.obs[meta["provider"]]
        kind = meta["kind"]
        self._fail(obs, meta["atlas_url"], kind, meta.get("parent", ""), "failed",
                   f"{meta['atlas_url']}: {describe(failure)}")

    def _fail(self, obs: Observation, url: str, kind: str, parent: str, status: str,
              message: str) -> None:
        self.logger.warning("%s: %s", obs.provider, message)
        obs.failures.append(message)
        obs.documents[url] = Document(url, kind, parent, status, message)

    # -- direct checks ------------------------------------------------------------------------

    def check_request(self, obs: Observation, url: str, page: bool = False) -> scrapy.Request:
        prior = self.state.get(obs.provider, ProviderState()).files.get(url)
        headers = {} if page else conditional_headers(prior)
        return scrapy.Request(
            url, callback=self.parse_check, errback=self.check_failed, dont_filter=True,
            headers=headers,
            meta=self._meta(obs, "page" if page else "file", url, conditional=bool(headers),
                            download_maxsize=self.max_file_bytes))

    def parse_check(self, response):
        meta = response.meta
        obs, url = self.obs[meta["provider"]], meta["atlas_url"]
        body = response.body if response.status == 200 else None
        digest = obs.read(url, response.body) if body is not None else None
        header = response.headers.get
        obs.checks[url] = Check(
            url, response.status,
            etag=_text(header("ETag")), last_modified=_text(header("Last-Modified")),
            sha256=digest, bytes=len(body) if body is not None else None,
            content_type=_text(header("Content-Type")), conditional=meta["conditional"],
            error=None if response.status in (200, 304, 404, 410) else f"HTTP {response.status}")
        if meta["kind"] == "page":
            if response.status != 200:
                message = f"watched page {url} answered HTTP {response.status}"
                message += what_it_is(response)
                obs.failures.append(message)
                self.logger.warning("%s: %s", obs.provider, message)
                return
            for link in sitemap.page_links(response.body, response.url):
                if link != url and self.watch.matches(link):
                    obs.list(link, None, url, "page")
        elif response.status not in (200, 304, 404, 410):
            obs.notes.append(f"{obs.provider}: {url} answered HTTP {response.status}")

    def check_failed(self, failure):
        meta = failure.request.meta
        obs, url = self.obs[meta["provider"]], meta["atlas_url"]
        message = describe(failure)
        obs.checks[url] = Check(url, None, error=message, conditional=meta["conditional"])
        if meta["kind"] == "page":
            obs.failures.append(f"watched page {url}: {message}")
        else:
            obs.notes.append(f"{obs.provider}: {url}: {message}")
        self.logger.warning("%s: %s: %s", obs.provider, url, message)

    def file_requests(self):
        for obs in self.obs.values():
            for url in files_to_fetch(obs, self.watch):
                yield self.check_request(obs, url)

    # -- one saved sitemap --------------------------------------------------------------------

    def parse_file(self, response):
        obs = self.obs[self.only[0]]
        obs.failures.append(f"read from a saved file ({self.file}): removals are not inferred")
        digest = obs.read(self.file, response.body)
        doc = sitemap.parse_sitemap(response.body, self.file, self.limits)
        obs.documents[self.file] = Document(self.file, doc.kind, "", "ok", "saved file",
                                            len(doc.entries), digest)
        if doc.kind == "sitemapindex":
            self.logger.info("%s is a sitemap index of %d sitemaps; only the index is recorded",
                             self.file, len(doc.entries))
        for entry in doc.entries:
            obs.list(entry.loc, entry.lastmod, self.file, "sitemap")

    # -- phases -------------------------------------------------------------------------------

    def on_idle(self):
        """Sitemaps and pages read -> fetch the watched files -> write the diff -> close."""
        if self.phase == "discover":
            self.phase = "files"
            requests = [] if self.file else list(self.file_requests())
            if requests:
                for request in requests:
                    self.crawler.engine.crawl(request)
                raise DontCloseSpider
        if self.phase == "files":
            self.phase = "finish"
            self.crawler.engine.crawl(scrapy.Request("data:,", callback=self.finish,
                                                     dont_filter=True))
            raise DontCloseSpider

    def finish(self, response):
        for provider, obs in self.obs.items():
            outcome = reconcile(obs, self.state.get(provider, ProviderState()), self.watch,
                                self.now, max_removed_share=self.max_removed_share)
            self.outcomes[provider] = outcome
            for note in outcome.notes:
                self.logger.warning(note)
            for note in outcome.unmatched:
                self.logger.info(note)
            provenance = Provenance(obs.robots_url, obs.digest(), self.now)
            yield from outcome.batches(provenance, self.source_id)

    def summarise(self, run_id: str, status: str) -> None:
        """After the store committed the run: what changed, and which sources need a re-crawl
        (the recrawl_needed view now includes this run's findings)."""
        if status != "ok" or not self.outcomes:
            self.logger.info("sitemap_watch run %s %s: no changes recorded", run_id, status)
            return
        lines = [f"  {o.summary()}" for o in self.outcomes.values()]
        try:
            recrawl = StoredState(self.settings.get("ATLAS_DB")).recrawl_needed()
        except sqlite3.Error as exc:
            self.logger.warning("could not read recrawl_needed: %s", exc)
            recrawl = None
        if recrawl is None:
            lines.append("  re-crawl: unknown (no recrawl_needed view)")
        else:
            lines.append("  sources needing a re-crawl: "
                         + (", ".join(f"{s} ({why})" for s, why in recrawl) or "none"))
        self.logger.info("sitemap_watch summary at %s:\n%s", self.now, "\n".join(lines))
        self.report_incomplete()

    def report_incomplete(self) -> None:
        """A provider whose robots.txt, sitemap or watched page could not be read (a dead host,
        a 5xx after the retries, a challenge page) does not fail the run, which records every
        other provider; it is said loudly here and by the crawl command's closing line."""
        incomplete = {}
        for provider, obs in self.obs.items():
            if not obs.complete:
                more = len(obs.failures) - 1
                incomplete[provider] = obs.failures[0] + (f" (and {more} more)" if more else "")
        if incomplete:
            self.crawler.atlas_incomplete = incomplete
            self.logger.warning(
                "INCOMPLETE: %d of %d providers could not be read in full, so no removals were "
                "inferred for them and they are read again next run: %s", len(incomplete),
                len(self.obs), "; ".join(f"{p}: {why}" for p, why in sorted(incomplete.items())))


def describe(failure) -> str:
    value = failure.value
    text = str(value) or type(value).__name__
    return f"{type(value).__name__}: {text}" if type(value).__name__ not in text else text


def what_it_is(response) -> str:
    """' (a Cloudflare challenge page)' when the body is one (DSB answers with those)."""
    kind = sitemap.describe_non_sitemap(response.body)
    return f" ({kind})" if "Cloudflare" in kind else ""


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1").strip() if value else None
