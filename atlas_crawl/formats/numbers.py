"""Reading numbers the way Norwegian statistics publish them.

Cells arrive as native numbers (Excel), or as text with a decimal comma (``"12,2"``), a space
as thousands separator (``"6 640"``, ``"1 924"``, sometimes a no-break space), a suppression
symbol (``*``, ``:``, ``..``, ``.``, ``-``) or a free-text remark (IMDi's ``avventer vedtak``).

:func:`parse_cell` turns any of those into a :class:`Cell`: a number in ``value`` with ``status``
``None``, or ``value`` ``None`` with the source's own symbol or text kept verbatim in ``status``.
Nothing is imputed: a suppressed cell never becomes 0.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

#: Symbols the sources use for suppressed, missing or not-applicable cells.
#: ``*`` NAV/Udir (fewer than 4 persons / small groups), ``:`` IMDi and SSB (confidential),
#: ``..`` and ``.`` Bufdir/SSB (missing / not applicable), ``-`` SSB (nil) and IMDi
#: (no decision where nothing was requested).
SUPPRESSION_SYMBOLS = frozenset({"*", ":", "..", ".", "-", "…"})

# Every kind of space a web page or spreadsheet uses between digit groups.
_SPACES = "\u0020\u00a0\u2009\u202f"
_SPACE_RE = re.compile(f"[{_SPACES}]+")
# 1 924 / 38 967 / 1 234 567,5 -- groups of exactly three digits after the first.
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?: \d{3})+(?:[.,]\d+)?$")
_PLAIN = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


class Cell(NamedTuple):
    """One observation: a number, or ``None`` with the reason in ``status``."""

    value: int | float | None
    status: str | None

    @property
    def is_empty(self) -> bool:
        """True for a blank cell (no number and nothing said about why)."""
        return self.value is None and self.status is None


EMPTY = Cell(None, None)


def clean_text(raw: str) -> str:
    """Strip and collapse every kind of whitespace (incl. no-break spaces) to one space."""
    return _SPACE_RE.sub(" ", raw.replace("\t", " ").replace("\r", " ").replace("\n", " ")).strip()


def parse_number(text: str) -> int | float | None:
    """Parse a Norwegian-formatted number, or return ``None`` if ``text`` is not one.

    ``"1 924"`` -> 1924, ``"12,2"`` -> 12.2, ``"0,3"`` -> 0.3, ``"−5"`` -> -5. A decimal point is
    accepted too (``"6.3"``), but a point is never read as a thousands separator.
    """
    s = clean_text(text).replace("\u2212", "-")
    if not s:
        return None
    if _GROUPED.match(s):
        s = s.replace(" ", "")
    elif not _PLAIN.match(s):
        return None
    s = s.replace(",", ".")
    if "." in s:
        return float(s)
    return int(s)


def parse_cell(raw: object, *, allow_text: bool = True) -> Cell:
    """Read one cell into a :class:`Cell`.

    - ``None`` or blank text -> :data:`EMPTY` (the caller decides whether blank means absent);
    - ``int``/``float`` -> the number (integral floats stay floats: the source said 6.0);
    - number text -> the number (decimal comma, space thousands);
    - a suppression symbol -> ``Cell(None, symbol)``;
    - other text -> ``Cell(None, text)`` when ``allow_text`` (e.g. ``avventer vedtak``),
      else :class:`ValueError` (:class:`TypeError` for values that are not cells at all).
    """
    if raw is None:
        return EMPTY
    if isinstance(raw, bool):
        raise TypeError(f"boolean cell {raw!r} is not a statistic")
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and math.isnan(raw):
            return EMPTY
        return Cell(raw, None)
    if not isinstance(raw, str):
        raise TypeError(f"cannot read a number from {type(raw).__name__} {raw!r}")
    text = clean_text(raw)
    if not text:
        return EMPTY
    if text in SUPPRESSION_SYMBOLS:
        return Cell(None, text)
    number = parse_number(text)
    if number is not None:
        return Cell(number, None)
    if allow_text:
        return Cell(None, text)
    raise ValueError(f"not a number or a known suppression symbol: {raw!r}")
