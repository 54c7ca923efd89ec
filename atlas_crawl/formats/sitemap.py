"""robots.txt `Sitemap:` lines, sitemaps (urlset and index, plain or gzip) and links on pages.

Pure functions, bytes in, values out. Hostile input is refused, never half-read:

- sitemap XML is parsed with defusedxml and `forbid_dtd=True`: a document that declares a DTD
  (the only way to define entities, so also every "billion laughs" or external-entity trick) is
  refused; a sitemap never needs one (https://www.sitemaps.org/protocol.html);
- the decompressed size is bounded while decompressing (a gzip bomb stops at the limit) and the
  number of entries is bounded while parsing. The defaults are the protocol's own limits: 50,000
  URLs and 50 MiB uncompressed per file.

Every refusal raises SitemapRefused with a message naming the document and the limit or the
construct that was refused.
"""

from __future__ import annotations

import html
import io
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from posixpath import splitext
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from w3lib.url import safe_url_string

PROTOCOL_MAX_URLS = 50_000
PROTOCOL_MAX_BYTES = 50 * 1024 * 1024
ROBOTS_MAX_BYTES = 500 * 1024  # what Google reads of a robots.txt
FILE_EXTENSIONS = (".xlsx", ".xls", ".csv", ".zip", ".pdf")
GZIP_MAGIC = b"\x1f\x8b"


class SitemapRefused(ValueError):
    """A document that is not read: hostile, too large, too many entries, or not a sitemap."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = PROTOCOL_MAX_BYTES  # uncompressed
    max_urls: int = PROTOCOL_MAX_URLS


@dataclass(frozen=True)
class Entry:
    loc: str
    lastmod: str | None = None


@dataclass
class Sitemap:
    """One sitemap document: `kind` is "urlset" (pages) or "sitemapindex" (child sitemaps)."""

    url: str
    kind: str
    entries: list[Entry]
    skipped: list[str] = field(default_factory=list)  # entries without <loc>, with the reason

    def skipped_summary(self, shown: int = 3) -> str:
        """The first `shown` skipped entries, and how many more there were."""
        more = len(self.skipped) - shown
        return "; ".join(self.skipped[:shown]) + (f" (+{more} more)" if more > 0 else "")


# -- robots.txt -------------------------------------------------------------------------------


def robots_sitemaps(body: bytes, base_url: str) -> list[str]:
    """The `Sitemap:` URLs of a robots.txt, in order, without duplicates, relative ones resolved."""
    text = body[:ROBOTS_MAX_BYTES].decode("utf-8", "replace")
    found: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "sitemap" and value.strip():
            url = urljoin(base_url, value.strip())
            if url not in found:
                found.append(url)
    return found


# -- sitemaps ---------------------------------------------------------------------------------


def decompress(body: bytes, max_bytes: int, url: str = "") -> bytes:
    """The body, gunzipped when it starts with the gzip magic; refused beyond `max_bytes`."""
    where = url or "sitemap"
    if body[:2] != GZIP_MAGIC:
        if len(body) > max_bytes:
            raise SitemapRefused(
                f"{where}: {len(body):,} bytes, over the limit of {max_bytes:,} bytes"
            )
        return body
    out = bytearray()
    data = body
    while data[:2] == GZIP_MAGIC:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(data, max_bytes + 1 - len(out))
        except zlib.error as exc:
            raise SitemapRefused(f"{where}: broken gzip data ({exc})") from None
        if len(out) > max_bytes or inflater.unconsumed_tail:
            raise SitemapRefused(
                f"{where}: decompresses to more than the limit of {max_bytes:,} bytes "
                f"({len(body):,} bytes compressed); refused"
            )
        if not inflater.eof:
            raise SitemapRefused(f"{where}: gzip data ends early (truncated download?)")
        data = inflater.unused_data
    return bytes(out)


def parse_sitemap(body: bytes, url: str = "", limits: Limits = Limits()) -> Sitemap:
    """Read a sitemap (urlset) or sitemap index, plain or gzip.

    Namespaces are not enforced (many generators get them wrong); element names are. Raises
    SitemapRefused for hostile or oversized input and for documents that are not sitemaps.
    """
    where = url or "sitemap"
    xml = decompress(body, limits.max_bytes, url)
    kind = ""
    entries: list[Entry] = []
    skipped: list[str] = []
    loc = lastmod = None
    count = 0
    try:
        for event, elem in iterparse(io.BytesIO(xml), events=("start", "end"), forbid_dtd=True):
            name = _local(elem.tag)
            if event == "start":
                if not kind:
                    if name not in ("urlset", "sitemapindex"):
                        what = describe_non_sitemap(xml)
                        raise SitemapRefused(f"{where}: not a sitemap ({what})")
                    kind = name
                continue
            if name == "loc":
                loc = (elem.text or "").strip()
            elif name == "lastmod":
                lastmod = (elem.text or "").strip()
            elif name in ("url", "sitemap"):
                count += 1
                if count > limits.max_urls:
                    raise SitemapRefused(
                        f"{where}: more than {limits.max_urls:,} entries (the sitemap protocol "
                        f"allows 50,000 per file); refused"
                    )
                if loc:
                    entries.append(Entry(loc, normalize_lastmod(lastmod)))
                else:
                    skipped.append(f"<{name}> #{count} has no <loc>")
                loc = lastmod = None
                elem.clear()
    except DefusedXmlException as exc:
        if _looks_like_html(xml):
            raise SitemapRefused(f"{where}: not a sitemap ({describe_non_sitemap(xml)})") from None
        raise SitemapRefused(
            f"{where}: declares a DTD or entities ({type(exc).__name__}); sitemaps need none, "
            "so the document is refused unread"
        ) from None
    except ParseError as exc:
        if not kind:
            raise SitemapRefused(f"{where}: not a sitemap ({describe_non_sitemap(xml)})") from None
        raise SitemapRefused(f"{where}: malformed XML ({exc})") from None
    if not kind:
        raise SitemapRefused(f"{where}: empty document")
    return Sitemap(url, kind, entries, skipped)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _looks_like_html(body: bytes) -> bool:
    head = body[:4096].decode("utf-8", "replace")
    return bool(re.search(r"<!DOCTYPE\s+html[\s>]|<html[\s>]", head, re.IGNORECASE))


def describe_non_sitemap(body: bytes) -> str:
    head = body[:4096].decode("utf-8", "replace")
    if "cf_chl_opt" in head or "Just a moment..." in head:
        return "a Cloudflare challenge page"
    if _looks_like_html(body):
        return "an HTML page"
    root = re.search(r"<([A-Za-z_][\w.:-]*)", re.sub(r"<[?!][^>]*>", "", head))
    return f"root element <{root.group(1)}>" if root else "no XML root element"


W3C_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


def normalize_lastmod(text: str | None) -> str | None:
    """W3C datetime -> "YYYY-MM-DD" (date only) or UTC "YYYY-MM-DDTHH:MM:SSZ".

    A time without a zone is kept as written; anything unreadable is kept verbatim, so a change
    is still noticed and nothing is lost.
    """
    if not text:
        return None
    text = text.strip()
    if W3C_DATE.fullmatch(text):
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return moment.replace(microsecond=0).isoformat()
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


# -- pages ------------------------------------------------------------------------------------

ATTRIBUTE_URL = re.compile(r"""(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
# Root-relative or absolute URLs inside quoted strings, e.g. in a Next.js __NEXT_DATA__ blob.
QUOTED_URL = re.compile(r'"((?:https?:)?/[^"<>\n]{1,2000}?)"')


def page_links(body: bytes, base_url: str, max_links: int = 20_000) -> list[str]:
    """Absolute URLs a page links to: href/src attributes and URL strings in inline JSON.

    URLs are made safe the way a request would send them (a space becomes %20); fragments are
    dropped; order of first appearance is kept; duplicates are removed.
    """
    text = body.decode("utf-8", "replace")
    raw: list[str] = [a or b for a, b in ATTRIBUTE_URL.findall(text)]
    unescaped = text.replace("\\/", "/").replace("\\u002F", "/").replace("\\u0026", "&")
    raw += QUOTED_URL.findall(unescaped)
    links: dict[str, None] = {}
    for value in raw:
        value = html.unescape(value).strip()
        if not value or value.startswith(("#", "javascript:", "mailto:", "data:", "tel:")):
            continue
        url = safe_url_string(urljoin(base_url, value).split("#", 1)[0])
        if urlsplit(url).scheme in ("http", "https") and url != base_url:
            links[url] = None
            if len(links) >= max_links:
                break
    return list(links)


def is_file_url(url: str) -> bool:
    """A download (xlsx, xls, csv, zip, pdf) judged by the path's extension."""
    return splitext(unquote(urlsplit(url).path))[1].lower() in FILE_EXTENSIONS
