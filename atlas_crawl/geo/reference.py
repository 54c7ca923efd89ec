"""The reference geography as an indexed graph, and the resolver over it.

Each code lifetime is a node (a code can be reused: ``0716`` was Våle until 2002, then Re);
change rows are edges between nodes. Everything a lookup needs is a dict access or a memoised
walk over a handful of edges: no scans per call.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from atlas_crawl.geo import names
from atlas_crawl.geo.snapshot import DATA_DIR, read_table

LEVELS = ("land", "fylke", "kommune", "bydel", "grunnkrets", "special")
STATUSES = ("exact", "renamed", "merged", "split", "aggregate", "unknown", "special", "ambiguous",
            "unresolvable")
_OPEN_END = "9999-12-31"


@dataclass(frozen=True, slots=True)
class Place:
    """What :func:`resolve` found for one raw value.

    ``code`` is the canonical code valid on the date asked about (or the code's own validity when
    the date falls outside it); ``current`` is today's code when the history maps it to exactly
    one (``None`` for splits, ambiguity and failures); ``successors`` lists today's codes a split
    went to. ``note`` explains anything unusual, and for ``ambiguous``/``unresolvable`` it is the
    reason a person reads in the quarantine table.
    """

    raw: object
    level: str | None
    code: str | None
    current: str | None
    successors: tuple[str, ...]
    name: str | None
    status: str
    note: str | None = None
    candidates: tuple[str, ...] = ()

    @property
    def placed(self) -> bool:
        """False when the value could not be put on the map (quarantine it)."""
        return self.status not in ("ambiguous", "unresolvable")


@dataclass(eq=False, slots=True)
class Node:
    level: str
    code: str
    start: str  # "" = since before the snapshot's horizon
    end: str | None  # exclusive; None = still valid
    names: list[tuple[str, str, str | None]] = field(default_factory=list)
    succ: list[tuple[Node, str]] = field(default_factory=list)
    pred: list[tuple[Node, str]] = field(default_factory=list)

    def alive(self, day: str) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def overlaps(self, lo: str, hi: str) -> bool:
        """Valid on some day of ``[lo, hi)``."""
        return self.start < hi and (self.end is None or lo < self.end)

    def name_on(self, day: str) -> str:
        for name, lo, hi in self.names:
            if lo <= day < (hi or _OPEN_END):
                return name
        return self.names[-1][0] if day >= self.names[-1][1] else self.names[0][0]

    def __repr__(self) -> str:
        return f"<{self.level} {self.code} {self.start or '…'}–{self.end or ''}>"


def _day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


_YEAR_PART = re.compile(r"^(?P<y>\d{4})(?:[-_ ]?(?:(?P<q>[KQ])(?P<qn>[1-4])|M?(?P<m>\d{2})))?")


def on_date(on: object) -> str | None:
    """``on`` as an ISO day: a date, a datetime, a year (int or text), ``2026K2``, ``202601``."""
    if on is None:
        return None
    if isinstance(on, datetime):
        return on.date().isoformat()
    if isinstance(on, date):
        return on.isoformat()
    if isinstance(on, int) and not isinstance(on, bool):
        return f"{on:04d}-01-01"
    text = str(on).strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        pass
    m = _YEAR_PART.match(text)
    if not m:
        raise ValueError(f"cannot read a date or year from on={on!r}")
    month = 1
    if m.group("q"):
        month = 3 * (int(m.group("qn")) - 1) + 1
    elif m.group("m") and 1 <= int(m.group("m")) <= 12:
        month = int(m.group("m"))
    return f"{m.group('y')}-{month:02d}-01"


_CODE_AND_NAME = re.compile(r"^(?P<code>\d{1,8})(?P<u>u?)(?:(?:\s*[-–:]\s*|\s+)(?P<name>\D.*))?$")
_AGGREGATE_PREFIX = re.compile(r"^(?P<p>[KF])-(?P<rest>.+)$", re.IGNORECASE)
_EXCEL_FLOAT = re.compile(r"^(\d+)\.0+$")
_TOTAL_PREFIX = re.compile(r"^i alt\s+(?P<rest>\S.*)$", re.IGNORECASE)


class Reference:
    """The loaded snapshot; :meth:`resolve` is the public lookup."""

    def __init__(self, data_dir: Path | None = None):
        self.data_dir = data_dir or DATA_DIR
        self.by_code: dict[str, dict[str, list[Node]]] = {lvl: defaultdict(list) for lvl in
                                                          ("fylke", "kommune", "bydel")}
        self._name_index: dict[str, list[tuple[str, object]]] = defaultdict(list)
        self._loose_index: dict[str, list[tuple[str, object]]] = defaultdict(list)
        self._fylke_names: dict[str, set[str]] = defaultdict(set)
        self._load()
        self._currents_memo: dict[Node, frozenset[Node]] = {}
        self._ancestors_memo: dict[tuple[Node, str], frozenset[Node]] = {}
        self._lineage_memo: dict[Node, frozenset[Node]] = {}
        self.resolve = lru_cache(maxsize=200_000)(self._resolve_uncached)

    # ------------------------------------------------------------------ loading
    def _load(self) -> None:
        changes = read_table("changes", self.data_dir)
        boundaries = {(r["level"], r["old_code"], r["changed_on"]) for r in changes}
        self._add_nodes("fylke", read_table("fylker", self.data_dir), boundaries)
        self._add_nodes("kommune", read_table("kommuner", self.data_dir), boundaries)
        bydeler = read_table("bydeler", self.data_dir)
        bydel_changes = read_table("bydel_changes", self.data_dir)
        self._add_nodes("bydel", bydeler,
                        {("bydel", r["old_code"], r["changed_on"]) for r in bydel_changes})
        for r in changes:
            self._add_edge(r["level"], r["old_code"], r["new_code"], r["changed_on"])
        for r in bydel_changes:
            self._add_edge("bydel", r["old_code"], r["new_code"], r["changed_on"])

        self.kommuner_by_fylke: dict[str, list[Node]] = defaultdict(list)
        for nodes in self.by_code["kommune"].values():
            for n in nodes:
                self.kommuner_by_fylke[n.code[:2]].append(n)
        self.bydel_kommuner = {code[:4] for code in self.by_code["bydel"]}

        for level in ("fylke", "kommune", "bydel"):
            for nodes in self.by_code[level].values():
                for n in nodes:
                    seen = set()
                    for name, _, _ in n.names:
                        for variant in names.variants(name):
                            self._index_name(variant, ("node", n), seen)
                        base, qual = names.split_qualifier(name)
                        if qual is not None and names.parse_period(qual) is None:
                            self._index_name(base, ("node", n), seen)
                        if level == "fylke":
                            for variant in names.variants(name):
                                self._fylke_names[names.key(variant)].add(n.code)

        self.territory: dict[Node, dict] = {}
        for r in read_table("territory", self.data_dir):
            nodes = [n for n in self.by_code["kommune"].get(r["code"], [])
                     if n.end == r["valid_to"]]
            if len(nodes) != 1 or not self.by_code["kommune"].get(r["current"]):
                raise ValueError(f"territory row {r['code']} -> {r['current']} does not match "
                                 "the snapshot's kommuner")
            self.territory[nodes[0]] = r
        self.specials = {r["code"]: r for r in read_table("special_codes", self.data_dir)}
        for r in read_table("aliases", self.data_dir):
            self._index_name(r["alias"], ("alias", r), set())
        self.service = {}
        for r in read_table("oslo_service_bydeler", self.data_dir):
            self.service[r["husbanken_code"]] = r
            if r["name"]:
                self._index_name(r["name"], ("service", r), set())

    def _add_nodes(self, level: str, rows: list[dict], boundaries: set[tuple]) -> None:
        rows = sorted(rows, key=lambda r: (r["code"], r["valid_from"] or ""))
        for r in rows:
            start, end = r["valid_from"] or "", r["valid_to"]
            nodes = self.by_code[level][r["code"]]
            last = nodes[-1] if nodes else None
            if (last is not None and last.end == start and start
                    and (level, r["code"], start) not in boundaries):
                last.end = end  # a new name version of the same lifetime
                last.names.append((r["name"], start, end))
                continue
            nodes.append(Node(level, r["code"], start, end, [(r["name"], start, end)]))

    def _add_edge(self, level: str, old: str, new: str, on: str) -> None:
        old_nodes = [n for n in self.by_code[level].get(old, []) if n.end == on]
        new_nodes = [n for n in self.by_code[level].get(new, []) if n.alive(on)]
        if len(old_nodes) != 1 or len(new_nodes) != 1:
            raise ValueError(f"snapshot change {level} {old} -> {new} on {on}: "
                             f"{len(old_nodes)} old and {len(new_nodes)} new lifetimes match")
        old_nodes[0].succ.append((new_nodes[0], on))
        new_nodes[0].pred.append((old_nodes[0], on))

    def _index_name(self, name: str | None, entry: tuple[str, object], seen: set) -> None:
        if not name:
            return
        k = names.key(name)
        if (k, id(entry[1])) in seen:
            return
        seen.add((k, id(entry[1])))
        self._name_index[k].append(entry)
        self._loose_index[names.loose_key(name)].append(entry)

    # ------------------------------------------------------------------ graph walks
    def _currents(self, node: Node) -> frozenset[Node]:
        memo = self._currents_memo.get(node)
        if memo is None:
            if node.end is None:
                memo = frozenset([node])
            elif node in self.territory:
                code = self.territory[node]["current"]
                memo = frozenset(n for n in self.by_code["kommune"][code] if n.end is None)
            else:
                memo = frozenset().union(*(self._currents(s) for s, _ in node.succ))
            self._currents_memo[node] = memo
        return memo

    def _ancestors_on(self, node: Node, day: str) -> frozenset[Node]:
        """The lifetimes valid on ``day`` whose territory flows into ``node`` after ``day``."""
        key = (node, day)
        memo = self._ancestors_memo.get(key)
        if memo is None:
            found, stack, seen = set(), [node], set()
            while stack:
                n = stack.pop()
                if n in seen:
                    continue
                seen.add(n)
                if n.alive(day):
                    found.add(n)
                stack.extend(p for p, on in n.pred if on > day)
            memo = self._ancestors_memo[key] = frozenset(found)
        return memo

    def _lineage(self, node: Node) -> frozenset[Node]:
        memo = self._lineage_memo.get(node)
        if memo is None:
            seen, stack = set(), [node]
            while stack:
                n = stack.pop()
                if n in seen:
                    continue
                seen.add(n)
                stack.extend(s for s, _ in n.succ)
                stack.extend(p for p, _ in n.pred)
            memo = self._lineage_memo[node] = frozenset(seen)
        return memo

    def _related_codes(self, node: Node) -> set[str]:
        """Fylke (and, for bydeler, kommune) codes anywhere in the node's history."""
        related = set()
        for n in self._lineage(node):
            related.add(n.code)
            related.add(n.code[:2])
            if n.level == "bydel":
                related.add(n.code[:4])
        return related

    # ------------------------------------------------------------------ statuses
    def _status(self, node: Node, day: str) -> tuple[str, str | None, tuple[str, ...], str | None]:
        """(status, current, successors, note) of ``node`` as valid on ``day``."""
        if node.level == "fylke":
            members = [k for k in self.kommuner_by_fylke.get(node.code, []) if k.alive(day)]
            if members:
                return self._fylke_status(node, day, members)
        if node in self.territory:
            r = self.territory[node]
            return r["status"], r["current"], (), f"ground as in {r['source']}"
        currents = self._currents(node)
        if not currents:
            why = f"{node.level} {node.code} ended {node.end}; the snapshot records no successor"
            return "unresolvable", None, (), why
        if len(currents) > 1:
            return "split", None, tuple(sorted(c.code for c in currents)), None
        (current,) = currents
        if self._ancestors_on(current, day) == {node}:
            return ("exact" if current is node else "renamed"), current.code, (), None
        return "merged", current.code, (), None

    def _fylke_status(self, node: Node, day: str, members: list[Node]):
        """A fylke maps to today's fylke through its kommuner: same kommuner -> exact/renamed."""
        reached = frozenset().union(*(self._currents(m) for m in members))
        fylker = {k.code[:2] for k in reached}
        if len(fylker) > 1:
            return "split", None, tuple(sorted(fylker)), None
        (target,) = fylker
        today = [n for n in self.by_code["fylke"].get(target, []) if n.end is None]
        if not today:
            return "unresolvable", None, (), f"fylke {target} is not in the snapshot today"
        in_target = {k for k in self.kommuner_by_fylke[target] if k.end is None}
        member_set = set(members)
        same = in_target == reached and all(
            self._ancestors_on(k, day) <= member_set for k in in_target)
        if not same:
            return "merged", target, (), None
        return ("exact" if today[0] is node else "renamed"), target, (), None

    # ------------------------------------------------------------------ places
    def _effective_day(self, node: Node, day: str | None) -> str:
        if day is None:
            return date.today().isoformat() if node.end is None else _day_before(node.end)
        if node.alive(day):
            return day
        if node.start > day:
            return node.start
        return _day_before(node.end)

    def _from_node(self, raw, node: Node, day: str | None, note: str | None = None,
                   status: str | None = None) -> Place:
        eff = self._effective_day(node, day)
        got, current, successors, why = self._status(node, eff)
        if status is not None and got not in ("split", "unresolvable"):
            got = status
        notes = [x for x in (note, why) if x]
        if day is not None and not node.alive(day):
            when = f"from {node.start}" if node.start > day else f"until {node.end}"
            notes.append(f"{node.level} {node.code} is not valid on {day} (valid {when})")
        return Place(raw, node.level, node.code, current, successors, node.name_on(eff), got,
                     "; ".join(notes) or None)

    def _pick(self, level: str, code: str, day: str | None, earlier: bool = False):
        nodes = self.by_code[level].get(code)
        if not nodes:
            return None
        if earlier:
            return nodes[0] if len(nodes) > 1 else None
        if day is None:
            return nodes[-1]
        for n in nodes:
            if n.alive(day):
                return n
        if day < nodes[0].start:
            return nodes[0]
        return [n for n in nodes if n.start <= day][-1]

    @staticmethod
    def _fail(raw, why: str, candidates: tuple[str, ...] = (), level: str | None = None,
              status: str = "unresolvable") -> Place:
        return Place(raw, level, None, None, (), None, status, why, candidates)

    def _special(self, raw, code: str, pattern: str | None = None) -> Place:
        row = self.specials[pattern or code]
        return Place(raw, row["level"], code, code, (), row["name"], row["status"], row["note"])

    # ------------------------------------------------------------------ names
    def name_of(self, code: str) -> str | None:
        """The name of a fylke (2 digits), kommune (4) or bydel (6) code: today's, or its last
        one for a code no longer in use. A lookup, not a placement: it follows no change."""
        level = {2: "fylke", 4: "kommune", 6: "bydel"}.get(len(code))
        node = self._pick(level, code, None) if level and code.isdigit() else None
        return node.name_on(self._effective_day(node, None)) if node else None

    # ------------------------------------------------------------------ resolve
    def _resolve_uncached(self, raw: object, on: object = None, within: object = None,
                          level: str | None = None) -> Place:
        day = on_date(on)
        if raw is None or isinstance(raw, bool):
            return self._fail(raw, "empty value")
        if isinstance(raw, float):
            if math.isnan(raw) or not raw.is_integer():
                return self._fail(raw, f"{raw!r} is not a place code")
            raw_text = str(int(raw))
        else:
            raw_text = str(raw)
        text = names.clean(raw_text)
        if not text:
            return self._fail(raw, "empty value")
        parent = None
        if within is not None and names.clean(str(within)):
            parent = self._resolve_text(within, names.clean(str(within)), None, None, "fylke")
            if not parent.placed:
                return self._fail(raw, f"the parent given to tell places apart, {within!r}, is "
                                       f"not a known place ({parent.note})")
        return self._resolve_text(raw, text, day, parent, level)

    def _resolve_text(self, raw, text: str, day: str | None, parent: Place | None,
                      level: str | None) -> Place:
        if text in self.specials and not text.isdigit():
            return self._special(raw, text)  # K-21-22, K-Rest
        m = _TOTAL_PREFIX.match(text)
        if m:  # NAV's rollups: "I alt Telemark" (fylke), "I alt Stavanger" (kommune)
            return self._resolve_text(raw, m.group("rest"), day, parent, level)
        m = _AGGREGATE_PREFIX.match(text)
        if m:
            return self._aggregate(raw, m.group("p").upper(), m.group("rest"))
        m = _EXCEL_FLOAT.match(text)
        if m:
            text = m.group(1)
        m = _CODE_AND_NAME.match(text)
        if m:
            place = self._resolve_code(raw, m.group("code"), bool(m.group("u")), day)
            if m.group("name") and place.placed:
                return self._check_name(place, m.group("name"))
            return place
        return self._resolve_name(raw, text, day, parent, level)

    def _aggregate(self, raw, prefix: str, rest: str) -> Place:
        """SSB ``agg:KommSummer`` ``K-3001`` / ``F-30``: a sum over that unit as it was bounded
        when the codelist was made, whatever year the number is for."""
        special = self.specials.get(f"{prefix}-{rest}")
        if special is not None:
            return self._special(raw, f"{prefix}-{rest}")
        if not rest.isdigit():
            return self._fail(raw, f"{prefix}- code {rest!r} is not a code SSB's aggregations use")
        place = self._resolve_code(raw, rest, False, None)
        if not place.placed or place.status in ("split", "special", "unknown"):
            return place
        expected = "kommune" if prefix == "K" else "fylke"
        if place.level not in (expected, "land"):
            return self._fail(raw, f"{prefix}-{rest} should be a {expected}, found {place.level}")
        note = (f"SSB aggregation {prefix}-: the sum over {place.level} {place.code} within its "
                "borders when the codelist was made")
        return Place(raw, place.level, place.code, place.current, place.successors, place.name,
                     "aggregate", "; ".join(x for x in (note, place.note) if x))

    def _resolve_code(self, raw, digits: str, earlier: bool, day: str | None) -> Place:
        n = len(digits)
        if earlier and n not in (3, 4):
            return self._fail(raw, f"'{digits}u': SSB's u suffix only marks old kommune codes")
        if n <= 2:
            code = digits.zfill(2)
            if code == "00":
                return self._special(raw, "0")
            if code in self.specials:
                return self._special(raw, code)
            node = self._pick("fylke", code, day)
            if node is None:
                return self._fail(raw, f"{code} is not a fylke code in the snapshot")
            return self._from_node(raw, node, day)
        if n <= 4:
            return self._kommune_code(raw, digits.zfill(4), earlier, day)
        if n <= 6:
            return self._bydel_code(raw, digits.zfill(6), day)
        if n <= 8:
            return self._grunnkrets_code(raw, digits.zfill(8), day)
        return self._fail(raw, f"{digits}: too many digits for a place code")

    def _kommune_code(self, raw, code: str, earlier: bool, day: str | None) -> Place:
        if code == "0000":
            return self._special(raw, "0")
        if code in self.specials:
            return self._special(raw, code)
        pattern = f"{code[:2]}xx"
        if pattern in self.specials:
            return self._special(raw, code, pattern)
        if code in self.service:
            return self._husbanken(raw, code)
        if code.endswith("99") and not earlier:
            fylke = self._pick("fylke", code[:2], day)
            if fylke is None:
                return self._fail(raw, f"{code}: 'uoppgitt' code of a fylke ({code[:2]}) "
                                       "the snapshot does not know")
            current = code if fylke.end is None else None
            fname = fylke.name_on(self._effective_day(fylke, day))
            return Place(raw, "kommune", code, current, (), f"Uoppgitt kommune i {fname}",
                         "unknown", self.specials["xx99"]["note"])
        node = self._pick("kommune", code, day, earlier)
        if node is None:
            if earlier:
                return self._fail(raw, f"{code}u is an older kommune that used code {code}; the "
                                       "shipped snapshot does not reach that far back (refresh it "
                                       "from Klass: scrapy crawl ssb_klass -a refresh_snapshot=1)")
            return self._fail(raw, f"{code} is not a kommune code in the snapshot")
        note = f"SSB's {code}u: the kommune that used {code} before {node.end}" if earlier else None
        return self._from_node(raw, node, None if earlier else day, note)

    def _husbanken(self, raw, code: str, by_name: bool = False) -> Place:
        row = self.service[code]
        if not row["geographic_code"]:
            return self._fail(raw, f"{code} is in Husbanken's own Oslo numbering but which bydel "
                                   f"it was is not known ({row['note']})", level="bydel")
        node = self._pick("bydel", row["geographic_code"], None)
        place = self._from_node(raw, node, None)
        if by_name:
            note = (f"Oslo's service bydel {row['bydel_number']} {row['name']}, placed on SSB's "
                    f"geographic bydel {place.code}; the service bydel also serves residents of "
                    "SSB's Sentrum (030116) and Marka (030117)")
        else:
            note = (f"Husbanken's Oslo service-bydel number {code} = {row['name']} "
                    f"(bydel {row['bydel_number']}; key {row['certainty']}); it counts the people "
                    "that bydel serves, which include residents of SSB's Sentrum and Marka")
        return Place(raw, "bydel", place.code, place.current, (), place.name, place.status, note)

    def _bydel_code(self, raw, code: str, day: str | None) -> Place:
        node = self._pick("bydel", code, day)
        if code.endswith("99"):
            if node is not None:
                place = self._from_node(raw, node, day)
                return Place(raw, "bydel", place.code, place.current, place.successors,
                             place.name, "unknown", "SSB's 'uoppgitt bydel' code")
            kommune = self._pick("kommune", code[:4], day)
            if kommune is None:
                return self._fail(raw, f"{code}: unknown-bydel code of a kommune ({code[:4]}) the "
                                       "snapshot does not know")
            return Place(raw, "bydel", code, None, (), "Uoppgitt bydel", "unknown",
                         f"kommune {code[:4]} has no bydeler in the curated table")
        if node is None:
            return self._fail(raw, f"{code} is not a bydel in the curated table (it has Oslo, "
                                   "Bergen, Stavanger and Trondheim)")
        return self._from_node(raw, node, day)

    def _grunnkrets_code(self, raw, code: str, day: str | None) -> Place:
        kommune = self._pick("kommune", code[:4], day)
        if kommune is None:
            return self._fail(raw, f"{code}: grunnkrets in kommune {code[:4]}, which the snapshot "
                                   "does not know")
        place = self._from_node(raw, kommune, day)
        if place.status != "exact":
            return self._fail(raw, f"{code}: grunnkrets in kommune {code[:4]}, which has changed "
                                   f"since ({place.status}); grunnkrets codes change with it and "
                                   "the snapshot has no grunnkrets history", level="grunnkrets")
        return Place(raw, "grunnkrets", code, code, (), None, "exact",
                     f"kommune {code[:4]} {place.name} unchanged; the grunnkrets number itself is "
                     "not checked (the snapshot has no grunnkrets list)")

    def _check_name(self, place: Place, given: str) -> Place:
        if place.level in ("special", "land") or place.status == "unknown":
            return place
        allowed_exact, allowed_loose = set(), set()
        level = place.level if place.level != "grunnkrets" else "kommune"
        code = place.code if place.level != "grunnkrets" else place.code[:4]
        for n in self.by_code.get(level, {}).get(code, []):
            for name, _, _ in n.names:
                for v in names.variants(name) + [names.split_qualifier(name)[0]]:
                    allowed_exact.add(names.key(v))
                    allowed_loose.add(names.loose_key(v))
        if place.note and "Husbanken" in place.note:
            row = self.service.get(str(place.raw).strip()[:4])
            if row:
                allowed_loose.add(names.loose_key(row["name"]))
                allowed_loose.add(names.loose_key(row["name"].removeprefix("Bydel ")))
        given_base = names.split_qualifier(given)[0]
        for g in (given, given_base):
            if names.key(g) in allowed_exact or names.loose_key(g) in allowed_loose:
                return place
            for v in names.variants(g):
                if names.key(v) in allowed_exact:
                    return place
        return self._fail(place.raw, f"code {place.code} is {place.name}, but the name beside it "
                                     f"says {given!r}")

    # ------------------------------------------------------------------ names
    def _lookup(self, text: str, loose: bool = False) -> list[tuple[str, object]]:
        index = self._loose_index if loose else self._name_index
        return list(index.get((names.loose_key if loose else names.key)(text), []))

    def _by_some_variants(self, text: str) -> list[tuple[str, object]]:
        """A name written with some of its official language forms ("Troms og Finnmark - Romsa
        ja Finnmárku", where Klass adds "- Tromssa ja Finmarkku"): the places every form names."""
        parts = names.variants(text)[1:]
        if len(parts) < 2:
            return []
        common: set | None = None
        for part in parts:
            nodes = {e for kind, e in self._lookup(part) if kind == "node"}
            common = nodes if common is None else common & nodes
            if not common:
                return []
        return [("node", n) for n in sorted(common, key=lambda n: (n.level, n.code, n.start))]

    def _fylke_hint(self, qualifier: str) -> set[str] | None:
        """Fylke codes a bracketed qualifier names: "Nordland", "Hedm.", "Ak.", "Viken"."""
        k = names.key(qualifier)
        if k in self._fylke_names:
            return set(self._fylke_names[k])
        stem = k.rstrip(".").strip()
        if len(stem) >= 2:
            hits = {name for name in self._fylke_names if name.startswith(stem)}
            codes = set().union(*(self._fylke_names[h] for h in hits)) if hits else set()
            first_words = {h.split()[0] for h in hits}
            if codes and len(first_words) == 1:
                return codes
        return None

    def _resolve_name(self, raw, text: str, day: str | None, parent: Place | None,
                      level: str | None = None) -> Place:
        entries = self._lookup(text)
        hint: set[str] | None = None
        label = text
        if not entries:
            base, qual = names.split_qualifier(text)
            if qual is not None:
                period = names.parse_period(qual)
                if period is not None:
                    start, end = period
                    if day is None:
                        day = f"{start}-01-01" if start else f"{end}-12-31"
                else:
                    hint = self._fylke_hint(qual)
                    if hint is None:
                        return self._fail(raw, f"{text!r}: the bracket ({qual}) is neither a "
                                               "period nor a fylke")
                label = base
                entries = self._lookup(base)
        if not entries:
            for prefix in ("bydel ",):
                if names.key(label).startswith(prefix):
                    entries = self._lookup(names.clean(label)[len(prefix):])
            for suffix in (" kommune", " fylkeskommune", " fylke"):
                if not entries and names.key(label).endswith(suffix):
                    entries = self._lookup(names.clean(label)[: -len(suffix)])
        if not entries:
            entries = self._by_some_variants(label)
        if not entries:
            entries = self._lookup(label, loose=True)
        if not entries:
            return self._fail(raw, f"no fylke, kommune or bydel in the snapshot is called "
                                   f"{label!r}")

        if level == "fylke" and " - " in label and not any(
                kind == "node" and e.level == "fylke" for kind, e in entries):
            # "Oslo - Oslove" is the kommune's bilingual name; fylke 03 is plain "Oslo".
            fylker = [(kind, e) for kind, e in self._lookup(label.split(" - ")[0])
                      if kind == "node" and e.level == "fylke"]
            entries = fylker or entries

        aliases = [e for kind, e in entries if kind == "alias"]
        if aliases:
            row = aliases[0]
            place = self._resolve_code(raw, row["code"], False, day)
            return Place(raw, place.level, place.code, place.current, place.successors,
                         place.name, place.status, row["note"] or place.note)
        services = [e for kind, e in entries if kind == "service"]
        nodes = list(dict.fromkeys(e for kind, e in entries if kind == "node"))
        if services and not nodes:
            return self._husbanken(raw, services[0]["husbanken_code"], by_name=True)

        if hint is not None:
            nodes = [n for n in nodes if self._related_codes(n) & hint]
            if not nodes:
                return self._fail(raw, f"no place called {label!r} lies in the fylke named in "
                                       f"{text!r}")
        if parent is not None:
            wanted = {c for c in (parent.code, parent.current, *parent.successors) if c}
            nodes = [n for n in nodes if self._related_codes(n) & wanted]
            if not nodes:
                return self._fail(raw, f"no place called {label!r} lies in {parent.name} "
                                       f"({parent.code})")
        if level in ("fylke", "kommune", "bydel") and any(n.level == level for n in nodes):
            nodes = [n for n in nodes if n.level == level]
        if day is not None:
            valid = [n for n in nodes if n.alive(day)]
        else:
            valid = [n for n in nodes if n.end is None]
        if valid:
            nodes = valid
        if len(nodes) > 1:
            kommuner = [n for n in nodes if n.level == "kommune"]
            others = [n for n in nodes if n.level != "kommune"]
            # Oslo is both fylke 03 and kommune 0301: the name means the same ground; a kommune
            # column is the common case, so the kommune wins.
            if len(kommuner) == 1 and all(o.level == "fylke" and
                                          o.code == kommuner[0].code[:2] for o in others):
                nodes = kommuner
        if len(nodes) > 1:
            lineages = {self._lineage(n) for n in nodes}
            if len(lineages) == 1:
                nodes = [max(nodes, key=lambda n: n.start)]
        if len(nodes) > 1:
            listed = ", ".join(f"{n.code} {n.name_on(self._effective_day(n, day))}"
                               for n in sorted(nodes, key=lambda n: n.code))
            levels = {n.level for n in nodes}
            return self._fail(raw, f"{label!r} names {len(nodes)} places ({listed}); give "
                                   "within= a fylke (or kommune) to choose",
                              tuple(sorted(n.code for n in nodes)),
                              levels.pop() if len(levels) == 1 else None, "ambiguous")
        return self._from_node(raw, nodes[0], day)


_DEFAULT: Reference | None = None


def reference() -> Reference:
    """The snapshot shipped in the package, loaded once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Reference()
    return _DEFAULT


def resolve(raw: object, on: object = None, within: object = None, *,
            level: str | None = None) -> Place:
    """Place ``raw`` (a code, a code with a name, or a name) as of ``on`` (date or year).

    ``within`` (a fylke or kommune, by name or code) picks between places that share a name.
    ``level`` (optional: fylke, kommune or bydel) says which level a name shared between levels
    means: "Oslo" is kommune 0301 unless ``level="fylke"``. Codes say their own level.
    Results are cached per distinct ``(raw, on, within, level)``.
    """
    try:
        return reference().resolve(raw, on, within, level)
    except TypeError:  # unhashable raw: resolve without the cache
        return reference()._resolve_uncached(raw, on, within, level)


def name_of(code: str) -> str | None:
    """The name the shipped snapshot gives a fylke, kommune or bydel code (today's, or its last
    one); None for a code it does not know. For reading a source that writes the name where the
    code was asked for, not for placing anything: that is :func:`resolve`'s job."""
    return reference().name_of(str(code).strip())
