"""Place-name normalisation: what a source wrote -> keys for the name indexes."""

from __future__ import annotations

import html
import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^0-9a-zæøå]+")
# "Harstad - Hárstták", "Gáivuotna - Kåfjord - Kaivuono": Klass separates language variants with
# a spaced dash. An unspaced hyphen is part of a name (Aurskog-Høland, Sør-Varanger).
_VARIANT_SEP = re.compile(r"\s+[-–]\s+")
_QUALIFIER = re.compile(r"^(?P<base>.*?)\s*\((?P<qual>[^()]*)\)\s*$")


def clean(text: str) -> str:
    """Undo HTML entities (twice, for double-escaped pages), NFC, one space, no edge spaces."""
    for _ in range(2):
        if "&" not in text:
            break
        text = html.unescape(text)
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\u200b", "")
    return _SPACES.sub(" ", text).strip()


def key(text: str) -> str:
    """Exact lookup key: cleaned and case-folded."""
    return clean(text).casefold()


def loose_key(text: str) -> str:
    """Fallback key: accents dropped (ü->u, á->a, å->a), punctuation and spaces removed.

    Norwegian æ and ø have no decomposition and survive; å folds to a, so this key is only used
    when the exact key finds nothing, and only if it is unique.
    """
    decomposed = unicodedata.normalize("NFKD", clean(text).casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub("", stripped)


def variants(name: str) -> list[str]:
    """A name and its language variants: "Harstad - Hárstták" -> [whole, "Harstad", "Hárstták"]."""
    name = clean(name)
    parts = [p for p in _VARIANT_SEP.split(name) if p]
    out = [name]
    if len(parts) > 1:
        out.extend(parts)
    return out


def split_qualifier(text: str) -> tuple[str, str | None]:
    """"Våler (Hedm.)" -> ("Våler", "Hedm."); a name without brackets -> (name, None)."""
    m = _QUALIFIER.match(clean(text))
    if not m or not m.group("base"):
        return clean(text), None
    return m.group("base").strip(), m.group("qual").strip()


_PERIOD = re.compile(r"^(?P<start>\d{4})?\s*-\s*(?P<end>\d{4})?$")


def parse_period(qualifier: str) -> tuple[int | None, int | None] | None:
    """"2020-2023" -> (2020, 2023); " - 2019" -> (None, 2019); anything else -> None."""
    m = _PERIOD.match(qualifier.strip())
    if not m or not (m.group("start") or m.group("end")):
        return None
    start = int(m.group("start")) if m.group("start") else None
    end = int(m.group("end")) if m.group("end") else None
    return start, end
