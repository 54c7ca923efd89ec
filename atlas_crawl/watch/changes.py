"""Upstream change watching: watch patterns, watch tables and views, and one run's diff.

The sitemap_watch spider fetches; everything it decides lives here, without Scrapy:

- `WatchList`: the manifests' `watch` patterns (syntax below) and each provider's site root;
- the watch's tables (`TABLES`) and the rows of its state (`UrlRow`, `FileRow`); the state
  is read through `atlas_crawl.store.earlier`, the views are declared in its manifest;
- `files_to_fetch` / `conditional_headers`: which watched files a run fetches, and with which
  validators;
- `Observation` (what one run saw for one provider) and `reconcile` (the rows it writes:
  current URLs, direct checks, and one `site_changes` row per changed URL).

Watch pattern syntax: a shell-style glob matched against the whole URL, case-sensitive: `*` is
any run of characters *including* `/`, `?` one character, `[...]` a character class. A URL matches
when its text as listed, or its percent-decoded form, matches. A pattern without `*`, `?` or `[`
is a literal URL: it is fetched on every run, whether or not a sitemap lists it.

    https://www.imdi.no/bosetting/bosettingstall/nokkeltall-bosetting-*/
    https://www.nav.no/_/attachment/*/*PST302*.xlsx
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from fnmatch import translate
from pathlib import Path
from urllib.parse import unquote, urlsplit

from atlas_crawl.formats.sitemap import is_file_url
from atlas_crawl.items import Batch, Provenance
from atlas_crawl.manifests import Dimension, Manifest, all_manifests, register
from atlas_crawl.manifests.monitors import parse_monitors

WATCH_SOURCE = "sitemap_watch"

# Where each provider's robots.txt lives (the site root). A provider not listed here gets the
# host of its manifests' landing page. Files on other hosts (Bufdir's Strapi CDN, Husbanken's
# Qlik app) are reached through literal watch URLs or links on watched pages, not sitemaps.
SITE_ROOTS = {
    "bufdir": "https://www.bufdir.no",
    "dsb": "https://www.dsb.no",
    "husbanken": "https://www.husbanken.no",
    "imdi": "https://www.imdi.no",
    "lottstift": "https://lottstift.no",
    "nav": "https://www.nav.no",
    "udir": "https://www.udir.no",
}

# A complete run that would mark more than this share of a provider's URLs removed at once is
# taken for a truncated or moved sitemap: nothing is marked removed (a site redesign or a broken
# sitemap generator looks exactly like that). Small removals (up to the floor) always pass.
MAX_REMOVED_SHARE = 0.5
REMOVAL_FLOOR = 10

# -- watch patterns ---------------------------------------------------------------------------

GLOB_CHARACTERS = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Watch:
    source_id: str
    provider: str
    pattern: str

    @property
    def literal(self) -> bool:
        return not GLOB_CHARACTERS.search(self.pattern)


class WatchList:
    """Every watch pattern of a set of manifests, compiled once."""

    def __init__(self, watches: Iterable[Watch], roots: dict[str, str] | None = None):
        self.watches = list(watches)
        self.roots = dict(roots or {})
        self._compiled = [(w, re.compile(translate(w.pattern), re.DOTALL)) for w in self.watches]

    @classmethod
    def from_manifests(cls, manifests: Iterable[Manifest]) -> WatchList:
        watches, roots = [], {}
        for m in manifests:
            for pattern in m.watch:
                watches.append(Watch(m.source_id, m.provider, pattern.strip()))
            if m.watch and m.provider not in SITE_ROOTS and m.provider not in roots:
                page = urlsplit(m.upstream_landing_page or m.upstream_url)
                roots[m.provider] = f"{page.scheme}://{page.netloc}"
        return cls(watches, roots)

    @property
    def providers(self) -> list[str]:
        return sorted({w.provider for w in self.watches})

    def site_root(self, provider: str) -> str:
        root = SITE_ROOTS.get(provider) or self.roots.get(provider)
        if not root:
            raise KeyError(f"no site root known for provider {provider!r}: add it to "
                           f"atlas_crawl.watch.changes.SITE_ROOTS")
        return root

    def matching(self, url: str) -> list[Watch]:
        decoded = unquote(url)
        return [w for w, rx in self._compiled
                if rx.match(url) or (decoded != url and rx.match(decoded))]

    def matches(self, url: str) -> bool:
        return bool(self.matching(url))

    def sources_for(self, url: str) -> list[str]:
        return sorted({w.source_id for w in self.matching(url)})

    def literals(self, provider: str) -> list[str]:
        return list(dict.fromkeys(w.pattern for w in self.watches
                                  if w.provider == provider and w.literal))

    def unmatched(self, provider: str, urls: Iterable[str]) -> list[Watch]:
        """Glob patterns of `provider` that no URL of this run matched."""
        left = [(w, rx) for w, rx in self._compiled if w.provider == provider and not w.literal]
        for url in urls:
            if not left:
                break
            decoded = unquote(url)
            left = [(w, rx) for w, rx in left if not (rx.match(url) or rx.match(decoded))]
        return [w for w, _ in left]


def load_watch_list(manifest_dir: str | Path | None = None) -> WatchList:
    """The watch patterns of the project's manifests, or of the manifests in another folder."""
    manifests = all_manifests(Path(manifest_dir)) if manifest_dir else all_manifests()
    return WatchList.from_manifests(manifests.values())


# -- tables and views -------------------------------------------------------------------------

URL_COLUMNS = ["url", "provider", "lastmod", "first_seen", "last_seen", "gone_since",
               "listed_in", "via"]
FILE_COLUMNS = ["url", "provider", "sources", "status", "etag", "last_modified", "sha256",
                "bytes", "content_type", "error", "first_seen", "checked_at", "changed_at",
                "gone_since"]
CHANGE_COLUMNS = ["detected_at", "url", "provider", "event", "evidence", "detail",
                  "lastmod_before", "lastmod_after", "sha256_before", "sha256_after", "sources",
                  "baseline"]
DOCUMENT_COLUMNS = ["url", "provider", "kind", "parent", "status", "detail", "entries",
                    "sha256", "checked_at"]
INTEGER_COLUMNS = {"status", "bytes", "baseline", "entries"}

TABLES = {
    "sitemap_urls": (URL_COLUMNS, ["url"]),
    "watched_files": (FILE_COLUMNS, ["url"]),
    "site_changes": (CHANGE_COLUMNS, ["detected_at", "url"]),
    "watch_documents": (DOCUMENT_COLUMNS, ["url"]),
}

# -- state ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UrlRow:
    url: str
    provider: str
    lastmod: str | None
    first_seen: str
    last_seen: str
    gone_since: str | None
    listed_in: str
    via: str  # "sitemap" or "page"

    def values(self) -> tuple:
        return tuple(getattr(self, c) for c in URL_COLUMNS)


@dataclass(frozen=True)
class FileRow:
    url: str
    provider: str
    sources: str
    status: int | None
    etag: str | None
    last_modified: str | None
    sha256: str | None
    bytes: int | None
    content_type: str | None
    error: str | None
    first_seen: str
    checked_at: str
    changed_at: str | None
    gone_since: str | None

    def values(self) -> tuple:
        return tuple(getattr(self, c) for c in FILE_COLUMNS)


@dataclass
class ProviderState:
    urls: dict[str, UrlRow] = field(default_factory=dict)
    files: dict[str, FileRow] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.urls and not self.files


def conditional_headers(prior: FileRow | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a file whose content is known and not gone."""
    headers = {}
    if prior is not None and prior.sha256 and prior.gone_since is None:
        if prior.etag:
            headers["If-None-Match"] = prior.etag
        if prior.last_modified:
            headers["If-Modified-Since"] = prior.last_modified
    return headers


# -- one run's observations -------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    url: str
    lastmod: str | None
    listed_in: str
    via: str  # "sitemap" or "page"


@dataclass(frozen=True)
class Check:
    """A direct fetch of a watched URL: status None means it failed before any response."""

    url: str
    status: int | None
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    bytes: int | None = None
    content_type: str | None = None
    error: str | None = None
    conditional: bool = False

    @property
    def present(self) -> bool:
        return self.status in (200, 304)

    @property
    def gone(self) -> bool:
        return self.status in (404, 410)


@dataclass(frozen=True)
class Document:
    url: str
    kind: str  # robots, sitemapindex, urlset, sitemap (when unread)
    parent: str
    status: str  # ok, http NNN, refused, failed
    detail: str = ""
    entries: int | None = None
    sha256: str | None = None


@dataclass
class Observation:
    """What one run saw for one provider."""

    provider: str
    root: str
    listed: dict[str, Listed] = field(default_factory=dict)
    checks: dict[str, Check] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # make the run incomplete
    notes: list[str] = field(default_factory=list)
    bodies: dict[str, str] = field(default_factory=dict)  # url -> sha256 of every body read

    @property
    def robots_url(self) -> str:
        return self.root + "/robots.txt"

    @property
    def complete(self) -> bool:
        """Every robots.txt, sitemap and watched page was read: absence means removal."""
        return not self.failures

    def list(self, url: str, lastmod: str | None, listed_in: str, via: str) -> None:
        known = self.listed.get(url)
        if known is None or (known.via == "page" and via == "sitemap"):
            self.listed[url] = Listed(url, lastmod, listed_in, via)

    def read(self, url: str, body: bytes) -> str:
        digest = hashlib.sha256(body).hexdigest()
        self.bodies[url] = digest
        return digest

    def digest(self) -> str:
        """sha256 over every body this run read for the provider: the provenance of its rows."""
        lines = "".join(f"{u} {h}\n" for u, h in sorted(self.bodies.items()))
        return hashlib.sha256(lines.encode()).hexdigest()


def files_to_fetch(obs: Observation, watch: WatchList) -> list[str]:
    """The watched files to fetch directly, each once: listed files a watch pattern matches,
    then the provider's literal watched files, less those already fetched."""
    wanted = [u for u in obs.listed if is_file_url(u) and watch.matches(u)]
    wanted += [u for u in watch.literals(obs.provider) if is_file_url(u)]
    return [u for u in dict.fromkeys(wanted) if u not in obs.checks]


# -- the diff ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    provider: str
    url_rows: list[tuple] = field(default_factory=list)
    file_rows: list[tuple] = field(default_factory=list)
    change_rows: list[tuple] = field(default_factory=list)
    document_rows: list[tuple] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings
    unmatched: list[str] = field(default_factory=list)  # watch patterns that matched nothing
    counts: dict[str, int] = field(default_factory=lambda: {"added": 0, "changed": 0,
                                                             "removed": 0})
    complete: bool = True
    listed: int = 0
    checked: int = 0

    def batches(self, provenance: Provenance, source_id: str = WATCH_SOURCE) -> list[Batch]:
        out = []
        for table, rows in (("sitemap_urls", self.url_rows), ("watched_files", self.file_rows),
                            ("site_changes", self.change_rows),
                            ("watch_documents", self.document_rows)):
            if rows:
                columns, key = TABLES[table]
                out.append(Batch(source_id=source_id, table=table, columns=list(columns),
                                 rows=rows, key=list(key), provenance=provenance,
                                 types={c: int for c in columns if c in INTEGER_COLUMNS}))
        return out

    def summary(self) -> str:
        """One line for the run's log: what was seen and what changed."""
        state = "complete" if self.complete else "incomplete, removals not inferred"
        return (f"{self.provider}: {self.listed} URLs listed, {self.checked} fetched directly; "
                f"{self.counts['added']} added, {self.counts['changed']} changed, "
                f"{self.counts['removed']} removed ({state})")


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "none"


def _is_html(check: Check, prior: FileRow | None) -> bool:
    content_type = check.content_type or (prior.content_type if prior else None) or ""
    return content_type.split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml")


def reconcile(obs: Observation, prior: ProviderState, watch: WatchList, now: str, *,
              max_removed_share: float = MAX_REMOVED_SHARE,
              removal_floor: int = REMOVAL_FLOOR) -> Outcome:
    """The rows one run writes for one provider, and its change events.

    One event at most per URL and run:
    - added: listed or fetched now, and not known before (or known as gone);
    - changed: for a directly fetched non-HTML URL with a known hash, the content's sha256
      differs (the content decides, whatever lastmod says); otherwise the sitemap's lastmod
      differs (both known);
    - removed: a direct fetch answered 404/410, or a URL listed before is listed by none of the
      provider's sitemaps and watched pages, on a complete run that passes the removal guard.
    On an incomplete run (a sitemap or page could not be read) a known URL seen only as a page
    link, or without a lastmod, keeps its stored row as it was.
    HTML pages fetched directly are read for links; their own bytes are not compared, because
    templates change on every render.
    """
    out = Outcome(obs.provider, complete=obs.complete)
    out.notes = list(obs.notes)
    baseline = int(prior.empty)
    listed, checks = obs.listed, obs.checks

    vanished = [u for u, r in prior.urls.items() if r.gone_since is None and u not in listed]
    remove_listing = obs.complete
    if vanished and not obs.complete:
        out.notes.append(f"{obs.provider}: incomplete run, so the {len(vanished)} URL(s) not "
                         "listed this time are not marked removed")
    elif vanished:
        before = sum(1 for r in prior.urls.values() if r.gone_since is None)
        if len(vanished) > removal_floor and len(vanished) > max_removed_share * before:
            remove_listing = False
            out.notes.append(
                f"{obs.provider}: {len(vanished)} of {before} known URLs are missing from the "
                "sitemaps at once; that looks like a truncated or moved sitemap, so none is "
                "marked removed this run")

    candidates = set(listed) | set(checks)
    candidates |= {u for u, r in prior.urls.items() if r.gone_since is None}
    candidates |= {u for u, f in prior.files.items() if f.gone_since is None}
    for url in sorted(candidates):
        pu, pf = prior.urls.get(url), prior.files.get(url)
        li, ck = listed.get(url), checks.get(url)
        sources = watch.sources_for(url)
        known_url = pu is not None and pu.gone_since is None
        known_file = pf is not None and pf.gone_since is None
        known = known_url or known_file
        present = li is not None or (ck is not None and ck.present)

        # rows of the current state
        if li is not None and known_url and not obs.complete and (
                li.lastmod is None or (li.via == "page" and pu.via == "sitemap")):
            # An incomplete provider keeps every stored field as it was: a URL its unread
            # sitemap listed with a lastmod, seen now only as a link on a page, keeps that
            # lastmod and listing (no event either: nothing is known to have changed).
            li = None
        if li is not None:
            first = pu.first_seen if pu else now
            out.url_rows.append(UrlRow(url, obs.provider, li.lastmod, first, now, None,
                                       li.listed_in, li.via).values())
        elif known_url and remove_listing:
            out.url_rows.append(replace(pu, gone_since=now).values())
        if ck is not None:
            out.file_rows.append(_file_row(obs.provider, sources, pf, ck, now).values())

        # the event, if any
        event = evidence = detail = None
        if present and not known:
            event = "added"
            if li is not None:
                evidence, detail = li.via, f"listed in {li.listed_in}"
            else:
                evidence, detail = "fetch", f"fetched: HTTP {ck.status}"
            gone = (pu.gone_since if pu else None) or (pf.gone_since if pf else None)
            if gone:
                detail += f"; back after being gone since {gone}"
        elif present:
            content_decides = (ck is not None and ck.present and not _is_html(ck, pf)
                               and pf is not None and pf.sha256 is not None)
            if content_decides:
                if ck.status == 200 and ck.sha256 != pf.sha256:
                    event, evidence = "changed", "fetch"
                    detail = f"content sha256 {_short(pf.sha256)} -> {_short(ck.sha256)}"
                    if li is not None and pu is not None and li.lastmod == pu.lastmod:
                        detail += f" (sitemap lastmod still {li.lastmod})"
            elif (li is not None and known_url and pu.lastmod and li.lastmod
                  and pu.lastmod != li.lastmod):
                event, evidence = "changed", li.via
                detail = f"lastmod {pu.lastmod} -> {li.lastmod}"
        elif known:
            if ck is not None and ck.gone:
                event, evidence, detail = "removed", "fetch", f"HTTP {ck.status}"
            elif known_url and remove_listing:
                event, evidence = "removed", pu.via
                detail = (f"no longer listed by {obs.provider}'s sitemaps or watched pages "
                          f"(last listed in {pu.listed_in})")
        if event:
            out.counts[event] += 1
            out.change_rows.append((
                now, url, obs.provider, event, evidence, detail,
                pu.lastmod if pu else None, li.lastmod if li else None,
                pf.sha256 if pf else None,
                (ck.sha256 if ck.status == 200 else pf.sha256 if pf else None) if ck else None,
                json.dumps(sources), baseline,
            ))

    for doc in obs.documents.values():
        out.document_rows.append((doc.url, obs.provider, doc.kind, doc.parent, doc.status,
                                  doc.detail, doc.entries, doc.sha256, now))
    out.document_rows.sort()
    out.listed, out.checked = len(listed), len(checks)
    for w in watch.unmatched(obs.provider, list(listed) + list(checks)):
        out.unmatched.append(f"{obs.provider}: watch pattern {w.pattern!r} of {w.source_id} "
                             "matched no URL in the sitemaps or on the watched pages")
    return out


def _file_row(provider: str, sources: list[str], pf: FileRow | None, ck: Check,
              now: str) -> FileRow:
    keep = pf or FileRow("", provider, "[]", None, None, None, None, None, None, None, now,
                         now, None, None)
    if ck.status == 200:
        content = (ck.etag, ck.last_modified, ck.sha256, ck.bytes, ck.content_type)
    else:
        content = (ck.etag or keep.etag, ck.last_modified or keep.last_modified, keep.sha256,
                   keep.bytes, keep.content_type)
    if ck.present:
        gone = None
    elif ck.gone:
        gone = keep.gone_since or now
    else:
        gone = keep.gone_since
    changed_at = (now if ck.status == 200 and (pf is None or pf.sha256 != ck.sha256)
                  else keep.changed_at)
    return FileRow(ck.url, provider, json.dumps(sources), ck.status, *content, ck.error,
                   pf.first_seen if pf else now, now, changed_at, gone)


# -- the watch's own manifest ---------------------------------------------------------------

WATCH_MANIFEST = Manifest(
    path=Path("<atlas_crawl.watch.changes>"),
    source_id=WATCH_SOURCE,
    upstream_id="sitemaps",
    upstream_url="https://www.sitemaps.org/protocol.html",
    upstream_title="Upstream changes: sitemaps and watched files",
    description=(
        "What the HTML and Excel-drop providers published, and when it changed: every URL of "
        "their sitemaps (sitemap_urls), every watched URL fetched directly with its ETag, "
        "Last-Modified and sha256 (watched_files), one row per added, changed or removed URL "
        "and run (site_changes), and the robots.txt and sitemap files read (watch_documents). "
        "The view recrawl_needed lists the sources whose watched URLs changed after their last "
        "successful run."
    ),
    publisher="atlas_crawl, from the providers' robots.txt, sitemaps and files",
    license="NLOD 2.0",
    license_url="https://data.norge.no/nlod/no/2.0",
    periodicity="P1D",
    eu_theme="GOVE",
    attribution="URLs and dates as published by each provider's website",
    tags={"provider": "atlas_crawl", "topic": "reference", "geo": "national",
          "cadence": "daily"},
    dimensions=tuple(Dimension(code, meaning) for code, meaning in (
        ("url", "URL as listed in the sitemap or page, or as watched"),
        ("provider", "Provider whose robots.txt, sitemaps or manifests led to the URL"),
        ("lastmod", "Sitemap <lastmod>: YYYY-MM-DD, or UTC YYYY-MM-DDTHH:MM:SSZ"),
        ("first_seen", "First run that saw the URL (UTC)"),
        ("last_seen", "Last run that saw the URL listed (UTC)"),
        ("gone_since", "Run since which the URL is no longer listed, or answers 404/410"),
        ("listed_in", "Sitemap or watched page that listed the URL"),
        ("via", "sitemap or page"),
        ("sources", "JSON list of the sources whose watch patterns match the URL"),
        ("status", "HTTP status of the last direct fetch (304 = not modified)"),
        ("sha256", "sha256 of the body of the last full download"),
        ("event", "added, changed or removed"),
        ("evidence", "sitemap (listing or lastmod), page (link), fetch (content hash, HTTP)"),
        ("baseline", "1 on a provider's first watched run: the URL was found, not changed"),
        ("detected_at", "Run that noticed the change (UTC)"),
    )),
    presentation_policy="standard",
    methodology_version="1",
    tables=tuple(TABLES),
    extra={"views": {
        "watched_changes": "One row per source and change of a URL it watches.",
        "recrawl_needed": "Sources whose watched URLs changed after their last successful run "
                          "(or that never ran successfully).",
    }},
    # Run monitors: checked_at / last_seen change on every run (every row "changes"), a quiet
    # day adds nothing, removals have their own guard (ATLAS_WATCH_MAX_REMOVED_SHARE), and a
    # refused sitemap (4xx) makes a provider incomplete, not the run failed.
    monitors=parse_monitors({"min_rows": 0, "max_changed": 1.0, "max_shrink": 1.0,
                             "unwanted_http_codes": [429, 500, 502, 503, 504]}),
)


def register_watch_manifest() -> Manifest:
    """Make the watch's tables known to the contract check (its batches come from no file)."""
    known = all_manifests().get(WATCH_SOURCE)
    if known is None:
        register(WATCH_MANIFEST)
        known = WATCH_MANIFEST
    return known
