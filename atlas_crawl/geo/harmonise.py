"""Which places of a given year make up today's kommune or fylke: the parts a series on today's
borders adds up.

Pure functions over the reference geography (no database): for a year and a today's place they
say how a number published on that year's codes becomes a number on today's borders.

- ``as published``: one place of that year covers exactly today's kommune (unchanged, renamed or
  renumbered: 0101 Halden is today's 3101 Halden);
- ``sum``: several kommuner of that year merged into today's (Kristiansand 2019 = 1001 + 1017 +
  1018); a sum is only made for additive measures and only when every part is published;
- ``not comparable``: a part was split (Ålesund 1507, 2020–2023, became 1508 Ålesund and 1580
  Haram; Tysfjord was split between Narvik and Hamarøy in 2020): no weights exist, so no value;
  or the year lies before 2006: the snapshot knows every kommune code from 1971 (Klass 131's
  own history; Skjerstad into Bodø in 2005 is there), but not the ground Klass lists as moving
  between kommuner that kept their codes (part of Ringsaker to Hamar in 1992), so a sum of that
  year's kommuner is not claimed to be today's kommune;
- for fylker, ``as published`` when a fylke of that year had exactly today's kommuner, otherwise
  ``computed`` from today's kommuner (Østfold, Akershus and Buskerud across the Viken years).

Every kommune change in the snapshot takes effect on 1 January, so a year stands for its
1 January.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from atlas_crawl.geo.reference import Node, Reference, reference

#: Series on today's borders start here (FHI's lifetime table starts here; the older codes come
#: from Klass 131's history, whose ground moves without a code change the snapshot does not
#: keep). Mirrors build_snapshot.HORIZON.
HISTORY_FROM = "2006-01-01"

AS_PUBLISHED = "as published"
SUM = "sum"
COMPUTED = "computed"
NOT_COMPARABLE = "not comparable"
METHODS = (AS_PUBLISHED, SUM, COMPUTED, NOT_COMPARABLE)


@dataclass(frozen=True)
class Composition:
    """How today's place ``today`` is made of the places valid in ``year``."""

    level: str  # kommune | fylke
    year: int
    today: str
    today_name: str
    method: str  # one of METHODS
    parts: tuple[str, ...]  # codes valid in `year` (for `computed` fylker: today's kommuner)
    reason: str | None = None

    @property
    def parts_text(self) -> str:
        return "+".join(self.parts)


def _day(year: int) -> str:
    return f"{year:04d}-01-01"


def _name(node: Node) -> str:
    """The last name of a lifetime (today's name for a kommune that still exists)."""
    return node.names[-1][0]


def _list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def today_kommuner(ref: Reference | None = None) -> list[Node]:
    ref = ref or reference()
    return sorted((n for nodes in ref.by_code["kommune"].values() for n in nodes
                   if n.end is None), key=lambda n: n.code)


def today_fylker(ref: Reference | None = None) -> list[Node]:
    ref = ref or reference()
    return sorted((n for nodes in ref.by_code["fylke"].values() for n in nodes
                   if n.end is None), key=lambda n: n.code)


def kommuner_of_fylke(fylke: str, ref: Reference | None = None) -> tuple[str, ...]:
    """Today's kommuner of today's fylke ``fylke`` (their codes start with it)."""
    return tuple(n.code for n in today_kommuner(ref) if n.code[:2] == fylke)


def _split_reason(ref: Reference, node: Node) -> str:
    currents = sorted(ref._currents(node), key=lambda n: n.code)
    year = node.end[:4] if node.end else "?"
    return (f"split in {year}: {_name(node)} → "
            f"{_list([_name(c) for c in currents])}")


def _gap(ref: Reference, node: Node, day: str) -> Node | None:
    """A lifetime in ``node``'s history that began after ``day`` with no recorded predecessor:
    the history does not say what it was made of on ``day``."""
    stack, seen = [node], set()
    while stack:
        n = stack.pop()
        if n in seen or n.alive(day):
            continue
        seen.add(n)
        if n.start and n.start > day:
            preds = [p for p, on in n.pred if on > day]
            if not preds:
                return n
            stack.extend(preds)
    return None


@lru_cache(maxsize=256)
def kommune_compositions(year: int) -> tuple[Composition, ...]:
    """Every today's kommune as made of the kommuner of ``year`` (on the shipped snapshot)."""
    return _kommune_compositions(reference(), year)


def _kommune_compositions(ref: Reference, year: int) -> tuple[Composition, ...]:
    day = _day(year)
    parts: dict[str, list[Node]] = {}
    splits: dict[str, list[Node]] = {}
    for nodes in ref.by_code["kommune"].values():
        for n in nodes:
            if not n.alive(day):
                continue
            currents = ref._currents(n)
            for c in currents:
                parts.setdefault(c.code, []).append(n)
                if len(currents) > 1:
                    splits.setdefault(c.code, []).append(n)
    out = []
    for t in today_kommuner(ref):
        name = _name(t)
        found = sorted(parts.get(t.code, []), key=lambda n: n.code)
        codes = tuple(n.code for n in found)
        gap = _gap(ref, t, day)
        if day < HISTORY_FROM:
            reason = (f"before {HISTORY_FROM[:4]}: ground that moved between kommuner that kept "
                      "their numbers is not recorded before that year")
            out.append(Composition("kommune", year, t.code, name, NOT_COMPARABLE, codes, reason))
        elif gap is not None or not found:
            g = gap or t
            reason = (f"the change history does not say what {_name(g)} ({g.code}) was made of "
                      f"before {g.start[:4] or '?'}")
            out.append(Composition("kommune", year, t.code, name, NOT_COMPARABLE, codes, reason))
        elif t.code in splits:
            reason = "; ".join(_split_reason(ref, n) for n in splits[t.code])
            out.append(Composition("kommune", year, t.code, name, NOT_COMPARABLE, codes, reason))
        elif len(found) == 1:
            out.append(Composition("kommune", year, t.code, name, AS_PUBLISHED, codes))
        else:
            out.append(Composition("kommune", year, t.code, name, SUM, codes))
    return tuple(out)


@lru_cache(maxsize=256)
def fylke_compositions(year: int) -> tuple[Composition, ...]:
    """Every today's fylke in ``year``: the fylke of that year when it had exactly today's
    kommuner (``as published``), otherwise ``computed`` from today's kommuner."""
    return _fylke_compositions(reference(), year)


def _fylke_compositions(ref: Reference, year: int) -> tuple[Composition, ...]:
    day = _day(year)
    same: dict[str, Node] = {}
    for nodes in ref.by_code["fylke"].values():
        for n in nodes:
            if n.alive(day):
                status, current, _, _ = ref._status(n, day)
                if status in ("exact", "renamed") and current:
                    same[current] = n
    out = []
    for f in today_fylker(ref):
        name = _name(f)
        if f.code in same and day >= HISTORY_FROM:
            out.append(Composition("fylke", year, f.code, name, AS_PUBLISHED,
                                   (same[f.code].code,)))
        else:
            out.append(Composition("fylke", year, f.code, name, COMPUTED,
                                   kommuner_of_fylke(f.code, ref),
                                   "computed from today's kommuner"))
    return tuple(out)


def composition(code: str, year: int, level: str = "kommune") -> Composition:
    """How today's ``code`` (kommune or fylke) is made of the places of ``year``."""
    table = kommune_compositions(year) if level == "kommune" else fylke_compositions(year)
    for c in table:
        if c.today == code:
            return c
    raise KeyError(f"{code} is not a {level} today (the snapshot's today list)")


def source_on_today_codes(code: str, year: int, level: str = "kommune",
                          ref: Reference | None = None) -> bool:
    """True when a row coded ``code`` for ``year`` can only be today's place published on
    today's borders by the source: the code did not exist in ``year`` (SSB's tables with the
    newest kommune list give 2015 under 3101 Halden). False when the code then belonged to
    another place (codes are reused) or to today's place itself."""
    ref = ref or reference()
    day = _day(year)
    nodes = ref.by_code[level].get(code, [])
    return bool(nodes) and nodes[-1].end is None and not any(n.alive(day) for n in nodes)


def combine(values: list[tuple[str, float | None, str | None]], additive: bool,
            composition: Composition) -> tuple[float | None, str, str | None]:
    """The value on today's borders from the parts' ``(code, value, status)``, with how it was
    made and, when there is no value, why. A value is never invented: a sum needs every part
    published with a value, and a measure that does not add up is not summed."""
    method = composition.method
    if method == NOT_COMPARABLE:
        return None, NOT_COMPARABLE, composition.reason
    got = {code: (value, status) for code, value, status in values}
    missing = [c for c in composition.parts if c not in got]
    if missing:
        return None, NOT_COMPARABLE, f"part not published: {'+'.join(missing)}"
    suppressed = [f"{c} {got[c][1] or 'no value'}" for c in composition.parts
                  if got[c][0] is None]
    if suppressed:
        return None, NOT_COMPARABLE, f"part suppressed: {', '.join(suppressed)}"
    if len(composition.parts) == 1:
        return got[composition.parts[0]][0], method, None
    if not additive:
        return None, NOT_COMPARABLE, "not additive"
    return sum(got[c][0] for c in composition.parts), method, None
