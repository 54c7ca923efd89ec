"""SSB Klass reference geography: `scrapy crawl ssb_klass`.

Live, by default: `codes` of 131 (kommuner), 104 (fylker), 103 (bydeler) and 1 (grunnkretser)
from 1950-01-01 with `includeFuture=true`; `changes` of 131 and 104 year by year (the changes of 1
January of year Y are asked as `from=(Y-1)-01-01&to=Y-01-02`: `to` is exclusive); and the
correspondences 104->131, 103->131 and 131->128 (sentralitet). Stored as `dim_kommune` (with
`fylke` and `sentralitet`), `dim_fylke`, `dim_bydel`, `dim_grunnkrets`, `geo_changes` and
`geo_correspondences`. Parsing lives in atlas_crawl.formats.klass.

Every dim row keeps Klass's own validity *within the window that was asked for*: `valid_from` /
`valid_to` are `validFromInRequestedRange` / `validToInRequestedRange`, and `window_from` /
`window_to` say what was asked, so `valid_to = window_to` means "still valid when the window
ended", not an end. A `codesAt?date=D` answer is stored as valid on that one day
(`valid_from = window_from = D`, `valid_to = window_to = D + 1 day`).

Arguments (all optional):

- `codes=131,104:2018-01-01..2020-01-02` classifications, each with an optional window
  (default `since..until`, i.e. `1950-01-01..` open); `since=`, `until=` change the default.
- `at=131:2023-03-02` also ask `codesAt` for those dates.
- `changes=131,104` and `change_years=1951-2026` (a range or a list).
- `correspondences=104>131,103>131,131>128`, each with an optional window.
- `include_future=0` leaves `includeFuture=true` out of codes and changes requests.
- `refresh_snapshot=1` rewrites the geography snapshot shipped in the package
  (`atlas_crawl/geo/data/{fylker,kommuner,changes}.csv`, or `snapshot_dir=`) from this crawl,
  only if the crawl covered the whole history (131 and 104 codes from 1950 with an open end,
  their changes for every year since) and finished without an error.
- `file=SAVED.json url=KLASS_URL`: read one saved response; the URL says what it is.

With `-s ATLAS_REPLAY=1` and no plan arguments the spider asks for exactly the Klass requests
its cassette (golden/ssb_klass/) holds, so replay fills the dims from the real captures there.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

import scrapy
from scrapy import signals

from atlas_crawl.formats import klass
from atlas_crawl.items import Batch, Provenance, Quarantined
from atlas_crawl.spiders.base import AtlasSpider

BASE_URL = "https://data.ssb.no/api/klass/v1"
LEVELS = {"131": "kommune", "104": "fylke", "103": "bydel", "1": "grunnkrets",
          "128": "sentralitet"}
DIM_TABLES = {"131": "dim_kommune", "104": "dim_fylke", "103": "dim_bydel", "1": "dim_grunnkrets"}
DIM_COLUMNS = ["code", "name", "short_name", "parent_code", "valid_from", "valid_to",
               "window_from", "window_to", "notes"]
DIM_EXTRA = {"dim_kommune": ["fylke", "sentralitet"], "dim_fylke": [],
             "dim_bydel": ["kommune"], "dim_grunnkrets": ["kommune"]}
DIM_KEY = ["code", "valid_from", "window_from"]
CHANGE_COLUMNS = ["classification", "level", "changed_on", "old_code", "old_name", "new_code",
                  "new_name", "kind"]
CHANGE_KEY = ["classification", "changed_on", "old_code", "new_code"]
CORR_COLUMNS = ["source_classification", "target_classification", "source_code", "source_name",
                "target_code", "target_name", "valid_from", "valid_to"]
CORR_KEY = ["source_classification", "target_classification", "source_code", "target_code",
            "valid_from"]
DEFAULT_CODES = "131,104,103,1"
DEFAULT_CHANGES = "131,104"
DEFAULT_CORRESPONDENCES = "104>131,103>131,131>128"
HISTORY_START = "1950-01-01"
_PLAN_ARGS = ("codes", "at", "changes", "change_years", "correspondences", "since", "until")


@dataclass(frozen=True)
class Ask:
    """One Klass request: what it asks, and therefore how its answer is read."""

    kind: str  # codes | codesAt | changes | corresponds
    classification: str
    start: str | None = None  # from, or the date of codesAt
    end: str | None = None  # to (exclusive); None = open
    target: str | None = None  # corresponds: targetClassificationId
    include_future: bool = False

    def url(self, base: str = BASE_URL) -> str:
        query: list[tuple[str, str]] = []
        if self.kind == "codesAt":
            query.append(("date", self.start or ""))
        else:
            if self.kind == "corresponds":
                query.append(("targetClassificationId", self.target or ""))
            query.append(("from", self.start or HISTORY_START))
            if self.end:
                query.append(("to", self.end))
            if self.include_future and self.kind in ("codes", "changes"):
                query.append(("includeFuture", "true"))
        return f"{base}/classifications/{self.classification}/{self.kind}?{urlencode(query)}"

    @classmethod
    def from_url(cls, url: str) -> Ask:
        parts = urlsplit(url)
        m = re.search(r"/classifications/(\d+)/(codesAt|codes|changes|corresponds)(?:\.json)?$",
                      parts.path)
        if not m:
            raise ValueError(f"{url} is not a Klass codes/codesAt/changes/corresponds URL")
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        kind = m.group(2)
        return cls(kind=kind, classification=m.group(1),
                   start=q.get("date") if kind == "codesAt" else q.get("from"),
                   end=q.get("to"), target=q.get("targetClassificationId"),
                   include_future=q.get("includeFuture", "").lower() == "true")

    @property
    def window(self) -> tuple[str | None, str | None]:
        if self.kind == "codesAt":
            return self.start, _next_day(self.start)
        return self.start, self.end


def _next_day(day: str | None) -> str | None:
    return None if day is None else (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _window(text: str, since: str, until: str | None) -> tuple[str, str | None]:
    if not text:
        return since, until
    start, sep, end = text.partition("..")
    if not sep:
        raise ValueError(f"window {text!r} is not FROM..TO (TO may be empty)")
    for d in (start, end):
        if d:
            date.fromisoformat(d)
    return start or since, end or None


def _years(text: str) -> list[int]:
    years: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        lo, sep, hi = part.partition("-")
        years.extend(range(int(lo), int(hi) + 1) if sep else [int(lo)])
    return years


def plan(*, codes: str = DEFAULT_CODES, at: str = "", changes: str = DEFAULT_CHANGES,
         change_years: str = "", correspondences: str = DEFAULT_CORRESPONDENCES,
         since: str = HISTORY_START, until: str | None = None,
         include_future: bool = True, today: date | None = None) -> list[Ask]:
    """The requests a crawl makes, from the spider's arguments."""
    today = today or date.today()
    asks: list[Ask] = []
    for item in filter(None, (c.strip() for c in codes.split(","))):
        cid, _, win = item.partition(":")
        start, end = _window(win, since, until)
        asks.append(Ask("codes", cid, start, end, include_future=include_future))
    for item in filter(None, (c.strip() for c in at.split(","))):
        cid, _, day = item.partition(":")
        date.fromisoformat(day)
        asks.append(Ask("codesAt", cid, day))
    years = _years(change_years) if change_years else list(
        range(int(since[:4]) + 1, today.year + 1))
    for cid in filter(None, (c.strip() for c in changes.split(","))):
        for start, end in klass.change_windows(min(years), max(years)) if years else []:
            if int(end[:4]) in years:
                asks.append(Ask("changes", cid, start, end, include_future=include_future))
    for item in filter(None, (c.strip() for c in correspondences.split(","))):
        pair, _, win = item.partition(":")
        source, sep, target = pair.partition(">")
        if not sep:
            raise ValueError(f"correspondence {item!r} is not SOURCE>TARGET[:FROM..TO]")
        start, end = _window(win, since, until)
        asks.append(Ask("corresponds", source, start, end, target))
    return asks


class SsbKlassSpider(AtlasSpider):
    name = "ssb_klass"
    source_id = "ssb_klass"
    allowed_domains: ClassVar[list[str]] = ["data.ssb.no"]

    def __init__(self, *args, url: str | None = None, base_url: str = BASE_URL,
                 refresh_snapshot: str = "0", snapshot_dir: str = "", include_future: str = "1",
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.file_url = url
        self.base_url = base_url.rstrip("/")
        self.refresh = refresh_snapshot.lower() in ("1", "true", "yes")
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir else None
        self.include_future = include_future.lower() not in ("0", "false", "no")
        for name, value in (("url", url), ("refresh_snapshot", refresh_snapshot if self.refresh
                                           else None), ("snapshot_dir", snapshot_dir or None),
                            ("include_future", include_future if not self.include_future
                             else None)):
            if value:
                self.arguments[name] = value
        self.plan_args = {k: kwargs[k] for k in _PLAN_ARGS if k in kwargs}
        self.pending = 0
        self.failed: list[str] = []
        self.collected: list[tuple[Ask, Provenance, list[dict]]] = []
        self.snapshot_tables: dict[str, list[dict]] | None = None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.write_snapshot, signal=signals.spider_closed)
        return spider

    # -- requests -----------------------------------------------------------------------------

    def asks(self) -> list[Ask]:
        if self.settings.getbool("ATLAS_REPLAY") and not self.plan_args:
            from atlas_crawl.replay import Cassette, golden_dir

            cassette = Cassette(golden_dir(self.settings, self.name))
            recorded = [Ask.from_url(r.url) for r in cassette.recordings.values()
                        if "/classifications/" in r.url]
            self.logger.info("replay: asking for the %d Klass responses the cassette holds",
                             len(recorded))
            return recorded
        return plan(include_future=self.include_future, **self.plan_args)

    async def start_live(self):
        asks = self.asks()
        self.pending = len(asks)
        for ask in asks:
            yield scrapy.Request(ask.url(self.base_url), callback=self.parse_klass,
                                 errback=self.request_failed, cb_kwargs={"ask": ask},
                                 headers={"Accept": "application/json"},
                                 meta={"handle_httpstatus_all": True}, dont_filter=True)

    def parse_file(self, response):
        if not self.file_url:
            raise ValueError("ssb_klass -a file= needs -a url=<the Klass URL it came from>")
        self.pending = 1
        yield from self.parse_klass(response, Ask.from_url(self.file_url))

    # -- responses ----------------------------------------------------------------------------

    def parse_klass(self, response, ask: Ask):
        if response.status != 200:
            self.logger.error("HTTP %s for Klass %s %s (%s)", response.status, ask.kind,
                              ask.classification, response.url)
            self.failed.append(response.url)
        else:
            self.collected.append((ask, self.provenance(response), self.read(ask, response.body)))
        self.pending -= 1
        if self.pending == 0:
            yield from self.finish()

    def request_failed(self, failure):
        request = failure.request
        self.logger.error("Klass request failed: %s (%s)", request.url, failure.value)
        self.failed.append(request.url)
        self.pending -= 1
        if self.pending == 0:
            yield from self.finish()

    @staticmethod
    def read(ask: Ask, body: bytes) -> list[dict]:
        if ask.kind == "codes":
            return klass.parse_codes(body)
        if ask.kind == "codesAt":
            rows = klass.parse_codes_at(body, ask.start)
            for r in rows:
                r["valid_to"] = _next_day(ask.start)
            return rows
        if ask.kind == "changes":
            return klass.parse_changes(body)
        return klass.parse_corresponds(body)

    # -- batches ------------------------------------------------------------------------------

    def finish(self):
        sentralitet = self._intervals("131", "128")
        bydel_kommune = self._intervals("103", "131")
        kinds = self._change_kinds()
        for ask, prov, rows in self.collected:
            if ask.kind in ("codes", "codesAt"):
                yield from self._dim_batch(ask, prov, rows, sentralitet, bydel_kommune)
            elif ask.kind == "changes":
                yield self._changes_batch(ask, prov, rows, kinds)
            else:
                yield Batch(source_id=self.source_id, table="geo_correspondences",
                            columns=CORR_COLUMNS, key=CORR_KEY, provenance=prov,
                            rows=[(ask.classification, ask.target, r["source_code"],
                                   r["source_name"], r["target_code"], r["target_name"],
                                   r["valid_from"], r["valid_to"]) for r in rows])
        if self.refresh:
            self.snapshot_tables = self._snapshot_tables()

    def _intervals(self, source: str, target: str) -> dict[str, list[tuple]]:
        out: dict[str, list[tuple]] = defaultdict(list)
        for ask, _, rows in self.collected:
            if ask.kind == "corresponds" and (ask.classification, ask.target) == (source, target):
                for r in rows:
                    out[r["source_code"]].append((r["valid_from"] or "", r["valid_to"],
                                                  r["target_code"]))
        return out

    @staticmethod
    def _latest_overlap(spans: list[tuple], valid_from: str | None, valid_to: str | None):
        """The target of the latest correspondence that overlaps [valid_from, valid_to)."""
        lo, hi = valid_from or "", valid_to or "9999-12-31"
        hits = [s for s in spans if s[0] < hi and (s[1] is None or lo < s[1])]
        return max(hits, key=lambda s: s[0])[2] if hits else None

    def _dim_batch(self, ask, prov, rows, sentralitet, bydel_kommune):
        table = DIM_TABLES.get(ask.classification)
        if table is None:
            self.logger.warning("Klass %s codes are not stored (no dim table for it)",
                                ask.classification)
            return
        window_from, window_to = ask.window
        out = []
        for r in rows:
            extra: list = []
            if table == "dim_kommune":
                extra = [r["code"][:2], self._latest_overlap(
                    sentralitet.get(r["code"], []), r["valid_from"], r["valid_to"])]
            elif table == "dim_bydel":
                extra = [self._latest_overlap(bydel_kommune.get(r["code"], []), r["valid_from"],
                                              r["valid_to"]) or r["code"][:4]]
            elif table == "dim_grunnkrets":
                extra = [r["code"][:4]]
            out.append((r["code"], r["name"], r["short_name"], r["parent_code"], r["valid_from"],
                        r["valid_to"], window_from, window_to, r["notes"], *extra))
        yield Batch(source_id=self.source_id, table=table, columns=DIM_COLUMNS + DIM_EXTRA[table],
                    key=DIM_KEY, provenance=prov, rows=out)

    def _change_kinds(self) -> dict[tuple, str]:
        """kind per (classification, changed_on, old, new): split, merged, renumbered, or name
        (same code, new name). A same-code row is a merge when other codes join it that day
        (Våle 0716 + Ramnes 0718 -> Re 0716)."""
        starts: dict[tuple[str, str], str] = {}
        for ask, _, rows in self.collected:
            if ask.kind == "codes":
                for r in rows:
                    k = (ask.classification, r["code"])
                    starts[k] = min(starts.get(k, r["valid_from"] or ""), r["valid_from"] or "")
        rows_by_cid: dict[str, list[dict]] = defaultdict(list)
        for ask, _, rows in self.collected:
            if ask.kind == "changes":
                rows_by_cid[ask.classification].extend(klass.dedupe_changes(rows))
        kinds: dict[tuple, str] = {}
        for cid, rows in rows_by_cid.items():
            rows = [dict(r, level=cid) for r in klass.dedupe_changes(rows)
                    if r["old_code"] and r["new_code"]]
            joined = defaultdict(set)
            for r in rows:
                joined[(r["changed_on"], r["new_code"])].add(r["old_code"])
            moved = [r for r in rows if r["old_code"] != r["new_code"]
                     or len(joined[(r["changed_on"], r["new_code"])]) > 1]
            existed = {(r["new_code"], r["changed_on"]) for r in moved
                       if starts.get((cid, r["new_code"]), "9999") < r["changed_on"]}
            from atlas_crawl.geo.snapshot import classify_changes

            classify_changes(moved, existed)
            for r in rows:
                kinds[(cid, r["changed_on"], r["old_code"], r["new_code"])] = r.get("kind", "name")
        return kinds

    def _changes_batch(self, ask, prov, rows, kinds) -> Batch:
        out, quarantine = [], []
        level = LEVELS.get(ask.classification, ask.classification)
        for r in rows:
            if not r["old_code"] or not r["new_code"]:
                quarantine.append(Quarantined(
                    column="old_code" if not r["old_code"] else "new_code", raw_value=None,
                    reason=f"Klass {ask.classification} change on {r['changed_on']} has no "
                           f"{'old' if not r['old_code'] else 'new'} code", row=dict(r)))
                continue
            kind = kinds.get((ask.classification, r["changed_on"], r["old_code"], r["new_code"]))
            out.append((ask.classification, level, r["changed_on"], r["old_code"], r["old_name"],
                        r["new_code"], r["new_name"], kind))
        return Batch(source_id=self.source_id, table="geo_changes", columns=CHANGE_COLUMNS,
                     key=CHANGE_KEY, provenance=prov, rows=out, quarantine=quarantine)

    # -- the shipped snapshot ------------------------------------------------------------------

    def _snapshot_tables(self) -> dict[str, list[dict]] | None:
        """The snapshot's Klass tables from this crawl, or None (with an error) if incomplete."""
        from atlas_crawl.geo.snapshot import from_klass

        problems = []
        codes = {}
        for cid in ("131", "104"):
            full = [(a, rows) for a, _, rows in self.collected
                    if a.kind == "codes" and a.classification == cid and a.end is None
                    and (a.start or "") <= HISTORY_START]
            if not full:
                problems.append(f"no {cid} codes from {HISTORY_START} with an open end")
                continue
            codes[cid] = full[0][1]
            first = int(full[0][0].start[:4]) + 1
            years = {int(a.end[:4]) for a, _, _ in self.collected
                     if a.kind == "changes" and a.classification == cid and a.end}
            missing = sorted(set(range(first, date.today().year + 1)) - years)
            if missing:
                problems.append(f"{cid} changes missing for {len(missing)} year(s), e.g. "
                                f"{missing[:3]}")
        if self.failed:
            problems.append(f"{len(self.failed)} request(s) failed")
        if problems:
            self.logger.error("refresh_snapshot refused, the shipped snapshot is unchanged: %s",
                              "; ".join(problems))
            return None
        changes = {cid: klass.dedupe_changes(
            r for a, _, rows in self.collected if a.kind == "changes" and a.classification == cid
            for r in rows) for cid in ("131", "104")}
        source = f"klass:{{}} codes from {HISTORY_START}, fetched {date.today().isoformat()}"
        return from_klass(codes["131"], codes["104"], changes["131"], changes["104"],
                          source.format("131/104"))

    def write_snapshot(self, spider, reason):
        if not self.refresh or self.snapshot_tables is None:
            return
        errors = self.crawler.stats.get_value("log_count/ERROR", 0)
        if reason != "finished" or errors:
            self.logger.warning("refresh_snapshot skipped: the run ended %s with %s error(s)",
                                reason, errors)
            return
        import tempfile

        from atlas_crawl.geo.reference import Reference
        from atlas_crawl.geo.snapshot import DATA_DIR, KLASS_TABLES, SCHEMAS, write_table

        target = self.snapshot_dir or DATA_DIR
        header = (f"Written by `scrapy crawl ssb_klass -a refresh_snapshot=1` on "
                  f"{date.today().isoformat()} from {self.base_url}\n"
                  "(codes from 1950-01-01 with an open end, changes year by year). "
                  "valid_to is exclusive.")
        with tempfile.TemporaryDirectory() as tmp:
            for name in KLASS_TABLES:
                write_table(name, self.snapshot_tables[name], header, Path(tmp))
            for name in sorted(set(SCHEMAS) - set(KLASS_TABLES)):  # the curated tables
                src = (self.snapshot_dir or DATA_DIR) / f"{name}.csv"
                if not src.exists():
                    src = DATA_DIR / f"{name}.csv"
                (Path(tmp) / f"{name}.csv").write_bytes(src.read_bytes())
            try:
                Reference(Path(tmp))  # the new tables must load before they replace the old
            except ValueError as exc:
                self.logger.warning("refresh_snapshot: the crawled tables do not load (%s); "
                                    "the shipped snapshot is unchanged", exc)
                return
            target.mkdir(parents=True, exist_ok=True)
            for name in KLASS_TABLES:
                (target / f"{name}.csv").write_bytes((Path(tmp) / f"{name}.csv").read_bytes())
        self.logger.info("refresh_snapshot: wrote %s", ", ".join(
            f"{target / n}.csv ({len(self.snapshot_tables[n])} rows)" for n in KLASS_TABLES))
