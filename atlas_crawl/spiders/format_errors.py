"""A parser's refusal is one error line, not a traceback.

The errors the pure parsers in `atlas_crawl/formats/` raise (a drifted layout, a bomb refused,
not JSON, a truncated bulk file) carry a message that names the file and what was wrong. When a
callback lets one escape, Scrapy logs "Spider error processing <url>" with a 30-line traceback;
here it is logged as one ERROR line instead (which fails and rolls back the run as before, with
the message as its cause in `_runs`). Bytes of the wrong kind reaching a callback (an HTML
maintenance page or a cut-off answer served with HTTP 200: `JSONDecodeError`, `BadZipFile`) are
refused the same way, saying what arrived. Any other exception, a bug, keeps its traceback.
"""

from __future__ import annotations

import logging

from atlas_crawl.formats import sniff

logger = logging.getLogger(__name__)
FORMATS_PACKAGE = "atlas_crawl.formats"


def is_format_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith(FORMATS_PACKAGE)


class FormatErrorsMiddleware:
    def __init__(self, crawler=None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_spider_exception(self, response, exception):
        if sniff.is_unreadable(exception):
            logger.error("%s: expected %s, got %s (HTTP %s)", response.url,
                         sniff.expected_by(exception), sniff.what_is(response.body),
                         response.status)
            return []
        if not is_format_error(exception):
            return None
        lines = str(exception).strip().splitlines()
        said = lines[0] if lines else ""
        if said.startswith(f"{response.url}: "):  # the message names the answer itself
            logger.error("%s", said)
        else:
            logger.error("%s: %s: %s", response.url, type(exception).__name__, said)
        return []
