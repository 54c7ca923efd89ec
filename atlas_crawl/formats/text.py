"""Garbled text: what UTF-8 looks like read in another encoding, and the replacement character.

A file that is half ISO-8859-1 and half UTF-8 decodes without error as ISO-8859-1 (every byte
is a character there) and turns Askøy into `AskÃ¸y`. A reader cannot tell a wrong name from a
right one, so such text is never stored: a file reader refuses the file naming its first bad
line (`check_text`), and the contract step quarantines a garbled cell from any source.

The signs: `Ã` or `Â` followed by what the second byte of a two-byte UTF-8 letter becomes in
ISO-8859-1 or Windows-1252 (`Ã¸` ø, `Ã¥` å, `Ã¦` æ, `Ã˜` Ø, `Ã…` Å, `Ã†` Æ, `Ã©` é, `Â ` a
no-break space); `├` and a letter or sign beyond ASCII (the same bytes read as a DOS code page); and
U+FFFD, which a decoder writes where it could not read a byte.
"""

from __future__ import annotations

import re

# The second byte of UTF-8 æøåÆØÅ, é, á ... as ISO-8859-1 (C1 controls, U+00A0-U+00BF) or as
# Windows-1252 (its typographic signs at 0x80-0x9F).
_CONTINUATION = "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2122"
MOJIBAKE = re.compile(f"[ÃÂ][{_CONTINUATION}]|\u251c[^\x00-\x7f]|\ufffd")


class GarbledText(ValueError):
    """Text that was read in the wrong encoding; the message names file and line."""


# Every sign starts with one of these; looking for them first (a plain substring search) keeps
# the scan of a clean batch fast.
_LEADS = ("Ã", "Â", "\u251c", "\ufffd")


def garbled(text: str) -> re.Match | None:
    """The first sign of mis-decoded text in `text`, if any."""
    if not any(lead in text for lead in _LEADS):
        return None
    return MOJIBAKE.search(text)


def excerpt(text: str, match: re.Match, width: int = 20) -> str:
    """The word around a garbled sign, for a message (`AskÃ¸y`)."""
    start = max(*(text.rfind(c, 0, match.start()) + 1 for c in " ;,\t\""),
                match.start() - width, 0)
    ends = [i for i in (text.find(c, match.end()) for c in " ;,\t\r\n\"") if i >= 0]
    end = min([*ends, match.end() + width, len(text)])
    return text[start:end]


def check_text(text: str, where: str, *, encoding: str = "") -> None:
    """Raise GarbledText naming the first line with mis-decoded text."""
    match = garbled(text)
    if match is None:
        return
    line = text.count("\n", 0, match.start()) + 1
    bol = text.rfind("\n", 0, match.start()) + 1
    eol = text.find("\n", match.end())
    shown = excerpt(text[bol:eol if eol >= 0 else len(text)], garbled(
        text[bol:eol if eol >= 0 else len(text)]))
    read = f" read as {encoding}" if encoding else ""
    sign = "a replacement character (U+FFFD)" if match.group() == "\ufffd" else \
        f"{match.group()!r}, UTF-8 read in another encoding"
    raise GarbledText(f"{where}: line {line}: garbled text {shown!r} ({sign}): the file{read} "
                      "mixes encodings or was decoded wrongly; refused, nothing stored")
