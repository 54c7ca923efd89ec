"""What a body is, in words, for a refusal: "an HTML page (title 'Vedlikehold')", "JSON cut off
after 1,204 bytes", "a ZIP archive". Pure: bytes in, a few words out.

A server that answers 200 with a maintenance page, a download cut short, or a file of another
kind given to `-a file=` must be refused in one line that says what arrived, not with a
`JSONDecodeError` or `BadZipFile` traceback.
"""

from __future__ import annotations

import json
import re
import zipfile

_TITLE = re.compile(rb"<title[^>]*>\s*(.*?)\s*</title>", re.IGNORECASE | re.DOTALL)


def _text_start(data: bytes) -> bytes:
    return data.removeprefix(b"\xef\xbb\xbf").lstrip()


def what_is(data: bytes | str | None) -> str:
    """A few words naming what `data` is."""
    if data is None or len(data) == 0:
        return "empty (0 bytes)"
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    head = data[:8]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if b"[Content_Types].xml" in data[:4096] or b"xl/" in data[:65536]:
            return "an Excel workbook (.xlsx)"
        return "a ZIP archive"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Office file (.xls or .doc)"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip file"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text"
    start = _text_start(data)
    lowered = start[:512].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered[:256]:
        title = _TITLE.search(data[:65536])
        if title and title.group(1).strip():
            name = re.sub(r"\s+", " ", title.group(1).decode("utf-8", "replace"))[:80]
            return f"an HTML page (title {name!r})"
        return "an HTML page"
    if lowered.startswith(b"<"):
        return "an XML document"
    if start[:1] in (b"{", b"["):
        try:
            json.loads(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return "not UTF-8 text"
        except json.JSONDecodeError as exc:
            if exc.msg.startswith("Unterminated string") or exc.pos >= len(exc.doc.rstrip()):
                return f"JSON cut off after {len(data):,} bytes (a truncated download?)"
            return f"broken JSON ({exc.msg.lower()} at character {exc.pos:,})"
        return "a JSON document"
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        if b"\x00" in data[:4096]:
            return "a binary file"
    return "plain text, not JSON" if start else "only white space"


def is_unreadable(exc: BaseException) -> bool:
    """An error of reading bytes of the wrong kind (not JSON, not a ZIP, not UTF-8), rather than
    a parser's own refusal of a file of the right kind."""
    if isinstance(exc, (json.JSONDecodeError, zipfile.BadZipFile, UnicodeDecodeError)):
        return True
    # openpyxl's "File is not a zip file" / unsupported format, without importing openpyxl here
    return type(exc).__name__ == "InvalidFileException"


def expected_by(exc: BaseException) -> str:
    """What the reader that raised `exc` expected, in words."""
    if isinstance(exc, json.JSONDecodeError):
        return "JSON"
    if isinstance(exc, UnicodeDecodeError):
        return f"text in {exc.encoding.upper()}"
    return "a ZIP archive or an Excel workbook"
