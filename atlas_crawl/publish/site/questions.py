"""The canned questions as forms (templates/query.html): a kommune picker instead of a bare text
box, the parameters named in words, the SQL one link away, the answer PAGE_ROWS rows at a time
(every row in its CSV and JSON), and, when a question has no answer for the kommune asked, the
reason ("this table covers Telemark's kommuner only", "no real data for this source in this
catalogue", "no kommune is called …: did you mean …?")."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlencode

from atlas_crawl.publish.report import REPORT_KEY
from atlas_crawl.publish.site import finder
from atlas_crawl.publish.site.kommune import REAL_ORIGINS, data_origins

PARAMETER_WORDS = {
    "kommune": "Kommune (navn eller nummer) · kommune (name or number)",
    "year": "År (tomt: det siste) · year (empty: the latest)",
    "q": "Søkeord · words",
    "samples": "Eksempeltall (tomt: bare ekte tall) · samples (empty: real numbers only)",
}


#: Rows of an answer shown on one page; the rest are a link away, and every row is in the
#: answer's CSV and JSON. An answer of a thousand rows as one HTML table took most of its
#: page's time to render (benchmarks/catalogue_latency.py) and is more than a reader scrolls.
PAGE_ROWS = 100
#: The query-string argument naming the first row shown (Datasette passes it to the SQL, which
#: does not read it).
FIRST_ROW = "_rows_from"


def page_of(request) -> dict:
    """The rows of the answer this page shows: `atlas_first` (0-based), `atlas_page_rows`, and
    `atlas_page_url(first)`, this question's URL showing the rows from `first`."""
    args = dict(parse_qsl(request.query_string, keep_blank_values=True))
    try:
        first = max(0, int(args.pop(FIRST_ROW, 0)))
    except ValueError:
        first = 0

    def url(start: int) -> str:
        return "?" + urlencode({**args, **({FIRST_ROW: start} if start else {})})
    return {"atlas_first": first, "atlas_page_rows": PAGE_ROWS, "atlas_page_url": url}


def tables_read(sql: str, tables: dict) -> list[str]:
    return [t for t in tables if re.search(rf"(?<![\w]){re.escape(t)}(?![\w])", sql or "")]


async def question_vars(datasette, database: str, request) -> dict:
    """Template variables of a canned query page: the kommune asked for, and why there is no
    answer when there is none."""
    parts = [unquote(p) for p in request.path.strip("/").split("/")]
    if len(parts) != 2 or parts[0] != database:
        return {}
    query = await datasette.get_canned_query(database, parts[1], None)
    if not query:
        return {}
    out = {"atlas_question": True, "atlas_parameter_words": PARAMETER_WORDS,
           "atlas_kommuner": list(finder.kommuner().values()), **page_of(request)}
    asked = (request.args.get("kommune") or "").strip()
    if not asked:
        return out
    found = finder.find(asked)
    out["atlas_found"] = found
    if found.kommune is None:
        args = dict(parse_qsl(request.query_string, keep_blank_values=True))
        out["atlas_choices"] = [(k, "?" + urlencode({**args, "kommune": k.code}))
                                for k in found.choices]
        return out
    kommune = found.kommune
    tables = (datasette.plugin_config(REPORT_KEY) or {}).get("tables", {})
    read = tables_read(query.get("sql", ""), tables)
    origins = await data_origins(datasette.get_database(database))
    reasons = []
    for name in read:
        cfg = tables[name]
        if origins.get(cfg["source"]) not in (None, *REAL_ORIGINS):
            reasons.append(f"{cfg['title']}: ingen ekte tall for denne kilden i denne katalogen "
                           "(no real data for this source in this catalogue).")
        elif cfg.get("fylker") and kommune.fylke not in cfg["fylker"]:
            names = sorted({k.fylke_name for k in finder.kommuner().values()
                            if k.fylke in cfg["fylker"]})
            reasons.append(f"{cfg['title']}: tabellen dekker bare kommunene i "
                           f"{', '.join(names)} (this table covers the kommuner of "
                           f"{', '.join(names)} only).")
    out["atlas_reasons"] = reasons
    return out
