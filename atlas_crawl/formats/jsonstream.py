"""Streaming the elements of a very large JSON array, each with its exact source text.

Brønnøysund's bulk files are one pretty-printed JSON array of about a million objects (~2 GB
unpacked): far too big for ``json.load``, and not NDJSON either. :func:`iter_array` reads such a
text stream in chunks and yields every element of the array as ``(raw, value)``:

- ``raw`` is the element's text exactly as it stands in the stream (indentation, key spacing and
  escapes untouched), so a record can be kept byte for byte as received;
- ``value`` is the decoded element (CPython's C scanner does the decoding, one element at a
  time, so memory stays at about one read chunk plus one element whatever the file size).

The array may be the document itself (``[...]``, the bulk files) or sit under a path of object
keys (``{"_embedded": {"enheter": [...]}}``, the API's list pages). Other keys are skipped
value by value. UTF-8 split across chunk boundaries is handled by the text decoder
(:func:`open_text`); the scanner only ever sees whole characters.

Pure: no Scrapy, no I/O beyond the stream it is given.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterator, Sequence
from json.scanner import make_scanner
from typing import IO, Any, BinaryIO

CHUNK_CHARS = 1 << 20
#: An element larger than this is treated as a broken file rather than buffered further.
MAX_ELEMENT_CHARS = 256 << 20
GZIP_MAGIC = b"\x1f\x8b"

_WS = re.compile(r"[ \t\n\r]*")
_SCAN = make_scanner(json.JSONDecoder())
# A decode error this close to the end of the buffer may just be a cut-off element.
_TAIL = 16


class JsonStreamError(ValueError):
    """The stream is not the JSON the caller expected; the message says where."""


def loads(data: bytes | str, error: type[Exception]) -> Any:
    """``json.loads`` of a whole (small) document; what is not JSON raises ``error`` with a
    one-line reason (``not JSON: ...``)."""
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise error(f"not JSON: {exc}") from None
    except UnicodeDecodeError:
        raise error("not JSON: not UTF-8 text (a binary file?)") from None


def open_binary(source: BinaryIO) -> BinaryIO:
    """Undo any number of gzip layers, sniffed from the magic bytes rather than from names or
    headers (Brreg serves its gzip as a payload; a server may add a transfer encoding on top)."""
    stream: Any = source
    while True:
        head = b""
        while len(head) < len(GZIP_MAGIC):
            more = stream.read(len(GZIP_MAGIC) - len(head))
            if not more:
                break
            head += more
        stream = io.BufferedReader(_Chain(head, stream), buffer_size=1 << 16)
        if head != GZIP_MAGIC:
            return stream
        stream = gzip.GzipFile(fileobj=stream, mode="rb")


def open_text(source: BinaryIO) -> IO[str]:
    """A UTF-8 text view of a (possibly gzipped) binary stream. Line endings are kept as they
    are (``newline=""``) so raw element text stays exactly as received; a leading BOM is
    dropped."""
    return io.TextIOWrapper(open_binary(source), encoding="utf-8-sig", newline="")


class _Chain(io.RawIOBase):
    """The sniffed bytes, then the rest of the stream."""

    def __init__(self, head: bytes, rest: Any):
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.rest.read(len(b))
        b[:len(data)] = data
        return len(data)


class _Reader:
    """A refillable window on a text stream, positioned at ``pos``."""

    def __init__(self, stream: IO[str], chunk: int, name: str):
        self.stream = stream
        self.chunk = chunk
        self.name = name
        self.buf = ""
        self.pos = 0
        self.dropped = 0  # characters discarded before buf[0]
        self.eof = False

    @property
    def offset(self) -> int:
        return self.dropped + self.pos

    def fill(self, want: int | None = None) -> bool:
        """Read more text; False at end of stream."""
        if self.eof:
            return False
        if self.pos:
            self.dropped += self.pos
            self.buf = self.buf[self.pos:]
            self.pos = 0
        more = self.stream.read(max(want or 0, self.chunk))
        if not more:
            self.eof = True
            return False
        self.buf += more
        return True

    def skip_ws(self) -> str:
        """Advance past whitespace; the next character, or "" at end of stream."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""

    def expect(self, chars: str, what: str) -> str:
        ch = self.skip_ws()
        if not ch or ch not in chars:
            found = repr(ch) if ch else "end of stream"
            raise JsonStreamError(f"{self.name}: expected {what} at character {self.offset}, "
                                  f"found {found}")
        self.pos += 1
        return ch

    def value(self) -> tuple[str, Any]:
        """Decode the value starting at ``pos`` (after whitespace); returns (raw text, value)."""
        self.skip_ws()
        grow = self.chunk
        while True:
            start = self.pos
            try:
                value, end = _SCAN(self.buf, start)
            except StopIteration as stop:
                failed_at, message = stop.value, "Expecting value"
            except json.JSONDecodeError as exc:
                failed_at, message = exc.pos, exc.msg
            else:
                if end < len(self.buf) or self.eof:
                    self.pos = end
                    return self.buf[start:end], value
                failed_at, message = len(self.buf), "value may continue"  # e.g. a cut number
            unterminated = message.startswith("Unterminated string")
            if self.eof:
                # Everything is here: only an error at the very end is a cut-off element.
                end_of_data = len(self.buf.rstrip(" \t\r\n"))
                if unterminated or failed_at >= end_of_data - 8:
                    raise JsonStreamError(
                        f"{self.name}: the stream ends inside an element starting at character "
                        f"{self.offset} (truncated download?): {message}")
                cut_off = False
            else:
                cut_off = unterminated or failed_at >= len(self.buf) - _TAIL
            if not cut_off:
                raise JsonStreamError(
                    f"{self.name}: invalid JSON at character {self.dropped + failed_at}: "
                    f"{message}: {self.buf[failed_at:failed_at + 60]!r}")
            if len(self.buf) - start > MAX_ELEMENT_CHARS:
                raise JsonStreamError(
                    f"{self.name}: an element starting at character {self.offset} is larger "
                    f"than {MAX_ELEMENT_CHARS:,} characters; the file looks broken")
            self.fill(grow)
            grow *= 2


def iter_array(stream: IO[str], path: Sequence[str] = (), *, name: str = "<stream>",
               chunk_chars: int = CHUNK_CHARS, found: list | None = None,
               ) -> Iterator[tuple[str, Any]]:
    """Yield ``(raw, value)`` for every element of the array at ``path``.

    ``path`` is a sequence of object keys from the document root (``()`` when the document is
    the array). A missing key yields nothing and leaves ``found`` empty: the Brreg API leaves
    out ``_embedded`` altogether when a page is empty. When ``found`` is given, ``True`` is
    appended to it once the array has been reached.

    Raises :class:`JsonStreamError` naming the character offset for malformed or truncated
    input, and for a document that is not shaped as the path says.
    """
    reader = _Reader(stream, chunk_chars, name)
    if not _descend(reader, list(path)):
        return
    if found is not None:
        found.append(True)
    reader.expect("[", "'[' opening the array")
    if reader.skip_ws() == "]":
        reader.pos += 1
    else:
        while True:
            yield reader.value()
            if reader.expect(",]", "',' or ']' after an array element") == "]":
                break
    if not path:
        rest = reader.skip_ws()
        if rest:
            raise JsonStreamError(f"{name}: unexpected {rest!r} after the array at character "
                                  f"{reader.offset}")


def _descend(reader: _Reader, path: list[str]) -> bool:
    """Move the reader to the value at ``path``; False if some key is absent."""
    depth = 0
    while depth < len(path):
        reader.expect("{", f"an object holding {path[depth]!r}")
        key_found = False
        if reader.skip_ws() == "}":
            reader.pos += 1
            return False
        while True:
            _, key = reader.value()
            if not isinstance(key, str):
                raise JsonStreamError(f"{reader.name}: object key expected at character "
                                      f"{reader.offset}")
            reader.expect(":", "':' after an object key")
            if key == path[depth]:
                key_found = True
                break
            reader.value()  # skip this member's value
            if reader.expect(",}", "',' or '}' in an object") == "}":
                break
        if not key_found:
            return False
        depth += 1
    return True


def peek_kind(stream: IO[str], *, name: str = "<stream>") -> tuple[str, IO[str]]:
    """``("array" | "object", stream)``: what the document starts with, and a stream that still
    yields it from the beginning (the sniffed prefix is put back)."""
    head = ""
    while True:
        more = stream.read(64)
        head += more
        stripped = head.lstrip(" \t\r\n")
        if stripped or not more:
            break
    kind = {"[": "array", "{": "object"}.get(stripped[:1])
    if kind is None:
        found = repr(stripped[:40]) if stripped else "an empty document"
        raise JsonStreamError(f"{name}: expected a JSON array or object, found {found}")
    return kind, _Prefixed(head, stream)


class _Prefixed(io.TextIOBase):
    def __init__(self, head: str, rest: IO[str]):
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:  # type: ignore[override]
        if size is None or size < 0:
            out, self.head = self.head + self.rest.read(), ""
            return out
        if self.head:
            out, self.head = self.head[:size], self.head[size:]
            if len(out) < size:
                out += self.rest.read(size - len(out))
            return out
        return self.rest.read(size)
