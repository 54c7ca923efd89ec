"""Tables out of server-rendered HTML pages, with the headings they sit under.

Pure: bytes or text in, :class:`HtmlTable` objects out, in document order. Each table knows
the most recent ``h1``-``h4`` above it, so a parser can tell "the kommune tables under the
section called X" from other tables on the same page. Cell text is entity-decoded and its
whitespace collapsed (``&nbsp;`` becomes an empty cell).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import html as lxml_html

from atlas_crawl.formats.numbers import clean_text

HEADING_TAGS = ("h1", "h2", "h3", "h4")


@dataclass(frozen=True)
class HtmlTable:
    index: int  # 0-based position among the page's tables
    headings: dict[str, str] = field(default_factory=dict)  # "h2" -> text of the last h2 above
    header: list[str] = field(default_factory=list)  # th texts of the header row
    rows: list[list[str]] = field(default_factory=list)  # td texts, one list per body row
    line: int | None = None  # source line of the <table>, for error messages

    def heading(self, tag: str) -> str | None:
        return self.headings.get(tag)


def parse_document(data: bytes | str, encoding: str = "utf-8") -> lxml_html.HtmlElement:
    if isinstance(data, bytes):
        parser = lxml_html.HTMLParser(encoding=encoding)
        return lxml_html.document_fromstring(data, parser=parser)
    return lxml_html.document_fromstring(data)


def text_of(element: lxml_html.HtmlElement) -> str:
    return clean_text(element.text_content())


def extract_tables(data: bytes | str, encoding: str = "utf-8") -> list[HtmlTable]:
    """Every ``<table>`` of the page with its header row, body rows and headings above it.

    The header is the ``<th>`` row of ``<thead>``, or else the first row made only of ``<th>``.
    A heading resets the headings below its own level (a new ``h2`` forgets the old ``h3``).
    Nested tables are read as part of their own table only.
    """
    doc = parse_document(data, encoding)
    headings: dict[str, str] = {}
    tables: list[HtmlTable] = []
    for el in doc.iter(*HEADING_TAGS, "table"):
        if el.tag in HEADING_TAGS:
            level = int(el.tag[1])
            for lower in range(level, 5):
                headings.pop(f"h{lower}", None)
            headings[el.tag] = text_of(el)
            continue
        if any(a.tag == "table" for a in el.iterancestors()):
            continue
        header: list[str] = []
        rows: list[list[str]] = []
        for tr in _own_rows(el):
            cells = [c for c in tr if c.tag in ("td", "th")]
            if not cells:
                continue
            in_thead = tr.getparent() is not None and tr.getparent().tag == "thead"
            if not header and not rows and (in_thead or all(c.tag == "th" for c in cells)):
                header = [text_of(c) for c in cells]
                continue
            rows.append([text_of(c) for c in cells])
        tables.append(HtmlTable(index=len(tables), headings=dict(headings), header=header,
                                rows=rows, line=el.sourceline))
    return tables


def _own_rows(table: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    rows = []
    for child in table:
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(tr for tr in child if tr.tag == "tr")
    return rows
