"""Find a kommune the way a reader types it: today's code or an old one (0101 Halden is today's
3101), today's name or an old one, any official form (Sámi and Kven names such as
`Harstad - Hárstták` or `Hárstták` alone), with or without diacritics (`tromso`, `baerum`), and
"did you mean …?" for a near miss. Reads the geography reference bundled with the package
(atlas_crawl/geo/, from Klass and the change history)."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from atlas_crawl.geo import names
from atlas_crawl.geo.reference import reference, resolve

# Letters NFKD does not take apart (Norwegian, Sámi)
_FOLD = str.maketrans({"æ": "ae", "ø": "o", "đ": "d", "ŧ": "t", "ŋ": "n", "ß": "ss"})
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """A name as a reader may type it: no case, no diacritics (ø -> o, æ -> ae, á -> a), no
    punctuation or spaces."""
    lowered = names.clean(text).casefold().translate(_FOLD)
    stripped = "".join(c for c in unicodedata.normalize("NFKD", lowered)
                       if not unicodedata.combining(c))
    return _NOT_ALNUM.sub("", stripped)


@dataclass
class Kommune:
    code: str
    name: str
    fylke: str
    fylke_name: str


@dataclass
class Found:
    """What a reader's words point at. `kind`: exact, old (an old code or name of today's
    kommune), split (an old kommune divided between several), ambiguous (a name several share),
    suggest (no match: near misses), none."""

    kind: str
    kommune: Kommune | None = None
    asked: str = ""
    old_code: str | None = None
    old_name: str | None = None
    until: str | None = None  # the day the old code or name stopped (exclusive)
    choices: list[Kommune] = field(default_factory=list)


@cache
def kommuner() -> dict[str, Kommune]:
    """Today's kommuner by code, with their fylke."""
    ref = reference()
    fylker = {code: nodes[-1].names[-1][0] for code, nodes in ref.by_code["fylke"].items()
              if nodes and nodes[-1].end is None}
    out = {}
    for code, nodes in sorted(ref.by_code["kommune"].items()):
        node = nodes[-1] if nodes else None
        if node is None or node.end is not None:
            continue
        out[code] = Kommune(code, node.names[-1][0], code[:2], fylker.get(code[:2], code[:2]))
    return out


@cache
def _name_index() -> dict[str, set[tuple[str, str]]]:
    """fold(name) -> {(code of the kommune that had the name, today's code)} over every name
    version and language form in the reference."""
    index: dict[str, set[tuple[str, str]]] = {}
    today = kommuner()
    for code, nodes in reference().by_code["kommune"].items():
        for node in nodes:
            currents = ([code] if code in today and node.end is None else
                        [c for c in _today_codes(code) if c in today])
            for name, _, _ in node.names:
                forms = set(names.variants(name))
                forms |= {names.split_qualifier(form)[0] for form in forms}  # Våler (Østfold)
                for form in forms:
                    for current in currents:
                        index.setdefault(fold(form), set()).add((code, current))
    return index


def warm() -> None:
    """Build the indexes now (at server start) rather than on the first reader's request."""
    _name_index()


def _today_codes(code: str) -> tuple[str, ...]:
    place = resolve(code, level="kommune")
    if place.current:
        return (place.current,)
    return place.successors


def _old(asked: str, code: str, current: str) -> Found:
    today = kommuner()
    nodes = reference().by_code["kommune"].get(code, [])
    ended = [n for n in nodes if n.end is not None]
    node = ended[-1] if ended else (nodes[-1] if nodes else None)
    return Found("old", today[current], asked, old_code=code,
                 old_name=node.names[-1][0] if node else None,
                 until=node.end if node else None)


def find(asked: str) -> Found:
    asked = names.clean(asked or "")
    today = kommuner()
    if not asked:
        return Found("none", asked=asked)
    digits = asked.isdigit()
    if digits and len(asked) in (3, 4):
        code = asked.zfill(4)
        if code in today:
            return Found("exact", today[code], asked)
        place = resolve(code, level="kommune")
        if place.current in today:
            return _old(asked, code, place.current)
        if place.successors:
            return Found("split", None, asked, old_code=code, old_name=place.name,
                         choices=[today[c] for c in place.successors if c in today])
        return Found("none", asked=asked)
    if digits:
        return Found("none", asked=asked)
    hits = _name_index().get(fold(asked), set())
    currents = sorted({current for _, current in hits})
    named_today = {current for code, current in hits if code == current}
    if len(named_today) == 1 and len(currents) > 1:  # Sande today, not the Sande of old
        currents = sorted(named_today)
        hits = {(c, c) for c in currents}
    if len(currents) == 1:
        current = currents[0]
        if any(code == current for code, _ in hits):
            return Found("exact", today[current], asked)
        old = min(code for code, _ in hits)
        return _old(asked, old, current)
    if currents:
        # an old kommune split between several, or a name several kommuner share
        olds = sorted({code for code, current in hits if code != current})
        kind = "split" if olds and all(code not in today for code, _ in hits) and \
            len({code for code, _ in hits}) == 1 else "ambiguous"
        return Found(kind, None, asked, old_code=olds[0] if kind == "split" else None,
                     choices=[today[c] for c in currents])
    return Found("suggest", None, asked, choices=suggestions(asked))


def suggestions(asked: str, n: int = 3) -> list[Kommune]:
    """Today's kommuner whose names (any form, old ones too) are nearest to what was typed."""
    index = _name_index()
    close = difflib.get_close_matches(fold(asked), list(index), n=n * 2, cutoff=0.7)
    out: dict[str, Kommune] = {}
    for key in close:
        for _, current in sorted(index[key]):
            out.setdefault(current, kommuner()[current])
    return list(out.values())[:n]
