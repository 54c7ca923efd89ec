"""The project's own settings (`-s ATLAS_...=value`), checked once, when the spider is built
(AtlasSpider.from_crawler, before anything reads them): whichever way the crawl was started
(`scrapy crawl`, update, scrapyd), as the spider's `-a` arguments are (arguments.py).

A value that does not parse (`-s ATLAS_DB_WAIT=abc`) or that means nothing (`=-5`) is refused in
one line naming the setting and its allowed values, before anything is crawled or written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from atlas_crawl import settings as project_settings


class SettingError(ValueError):
    """An ATLAS_* setting whose value cannot be used."""


@dataclass(frozen=True)
class Rule:
    kind: str  # "seconds", "share", "count" or "flag"
    low: float = 0
    high: float | None = None

    def expected(self) -> str:
        if self.kind == "flag":
            return "1 or 0 (or true/false)"
        if self.kind == "share":
            return "a share from 0 to 1, such as 0.2"
        if self.kind == "seconds":
            return f"a number of seconds, {self.low:g} or more"
        return f"a whole number, {self.low:g} or more"


SECONDS, SHARE, FLAG = Rule("seconds"), Rule("share", 0, 1), Rule("flag")
RULES: dict[str, Rule] = {
    "ATLAS_DB_WAIT": SECONDS,
    "ATLAS_RETRY_BACKOFF_BASE": SECONDS,
    "ATLAS_RETRY_BACKOFF_MAX": SECONDS,
    "ATLAS_RETRY_AFTER_MAX": SECONDS,
    "ATLAS_BROWSER_CHECK_WAIT": SECONDS,
    "ATLAS_MAX_SHRINK_SHARE": SHARE,
    "ATLAS_WATCH_MAX_REMOVED_SHARE": SHARE,
    "ATLAS_ZIP_ENTRY_MAX_BYTES": Rule("count", 0),  # 0: the built-in limit
    "ATLAS_ZIP_TOTAL_MAX_BYTES": Rule("count", 0),
    "ATLAS_SITEMAP_MAX_BYTES": Rule("count", 1),
    "ATLAS_SITEMAP_MAX_URLS": Rule("count", 1),
    "ATLAS_SITEMAP_MAX_DOCUMENTS": Rule("count", 1),
    "ATLAS_WATCH_MAX_FILE_BYTES": Rule("count", 1),
    "ATLAS_REPLAY": FLAG,
    "ATLAS_RECORD": FLAG,
    "ATLAS_FAIL_ON_ERROR": FLAG,
}
# What Scrapy's getbool() reads (it raises on anything else, "yes" included).
FLAG_WORDS = {"1", "0", "True", "true", "False", "false"}


def _fits(rule: Rule, value: object) -> bool:
    if rule.kind == "flag":
        return isinstance(value, bool | int) or str(value).strip() in FLAG_WORDS
    if isinstance(value, bool):
        return False
    try:
        number = float(str(value).strip()) if not isinstance(value, int | float) else value
    except ValueError:
        return False
    if not math.isfinite(number) or number < rule.low:
        return False
    if rule.high is not None and number > rule.high:
        return False
    return rule.kind != "count" or float(number).is_integer()


def problem(settings) -> str | None:
    """One line naming the first ATLAS_* setting whose value cannot be used, or None."""
    for name, rule in RULES.items():
        value = settings.get(name)
        if value is None or value == "":
            continue
        if not _fits(rule, value):
            default = getattr(project_settings, name, None)
            if isinstance(default, bool | float) and float(default).is_integer():
                default = int(default)
            shown = "" if default in (None, "") else f" (default {default})"
            return f"-s {name}={value}: expected {rule.expected()}{shown}"
    return None


def check(settings) -> None:
    """Raise SettingError with problem()'s line."""
    line = problem(settings)
    if line:
        raise SettingError(line)
