"""A real browser for the few spiders that need one: scrapy-playwright with Debian's chromium.

Playwright cannot download its own browser on the project's machines, so the browser is the one
`apt-get install chromium` puts at /usr/bin/chromium (`scripts/install-chromium.sh`; another path
with the `ATLAS_CHROMIUM` setting or environment variable). A spider opts in from its
`update_settings` with :func:`enable`; every other spider keeps Scrapy's plain downloader.

scrapy-playwright only logs a missing browser and lets `scrapy crawl` exit 0 with nothing
fetched, so a spider that uses it asks :func:`missing` before its first request and logs the
answer as an error (the run fails and `_runs` says why).

Two page helpers for sites behind a browser check (Cloudflare's "Just a moment..."):

- :func:`track_document_status` (a page init callback) keeps the status of the page's latest
  main-frame navigation in ``request.meta["atlas_document_status"]``; scrapy-playwright reports
  the status of the *first* navigation, which is the challenge's 403/503 even when the browser
  went on to pass it;
- :func:`wait_out_browser_check` (a page method) gives the check time to clear, as a person
  would wait; the Python detector (`atlas_crawl.fetch.browser_check`) then judges the content.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
#: Launch flags measured in STACK-NOTES §2: headless, no sandbox (containers), and no background
#: connections to Google.
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
DOCUMENT_STATUS = "atlas_document_status"
BROWSER_CHECK_WAIT = 25.0

#: A JavaScript predicate for a browser page (Playwright's ``wait_for_function``): true once the
#: page no longer shows a challenge. The Python detector (`browser_check.detect`) still judges the final content.
PAGE_CLEARED_JS = (
    "() => !/^\\s*(Just a moment|Attention Required)/i.test(document.title)"
    " && !window._cf_chl_opt && !document.getElementById('challenge-form')"
)


def chromium_path(settings=None) -> str:
    configured = settings.get("ATLAS_CHROMIUM") if settings is not None else None
    return configured or os.environ.get("ATLAS_CHROMIUM") or CHROMIUM


def playwright_settings(executable: str, *, navigation_timeout_ms: int = 30_000) -> dict:
    return {
        "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER},
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": executable, "headless": True,
                                      "args": list(LAUNCH_ARGS)},
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": navigation_timeout_ms,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 2,
    }


def missing(settings=None) -> str | None:
    """Why the browser cannot be launched, or None when it can."""
    executable = chromium_path(settings)
    if Path(executable).is_file() and os.access(executable, os.X_OK):
        return None
    return (f"no browser at {executable}: install Debian's chromium (scripts/install-chromium.sh "
            f"or apt-get install chromium) or set ATLAS_CHROMIUM to its path")


def enable(settings, *, priority: str = "spider") -> str:
    """Route this crawl's requests through scrapy-playwright and Debian's chromium (requests
    without ``meta["playwright"]`` still go through Scrapy's own downloader). Whether the
    browser is really there is :func:`missing`'s question: ask it before the first request."""
    executable = chromium_path(settings)
    for key, value in playwright_settings(executable).items():
        settings.set(key, value, priority=priority)
    return executable


async def track_document_status(page, request) -> None:
    """Page init callback: remember the status of the latest main-frame navigation."""
    def seen(response) -> None:
        try:
            if response.request.is_navigation_request() and response.frame == page.main_frame:
                request.meta[DOCUMENT_STATUS] = response.status
        except Exception:  # noqa: BLE001,S110 - a detached frame; the handler's status stands
            pass

    page.on("response", seen)


async def wait_out_browser_check(page, timeout: float = BROWSER_CHECK_WAIT) -> None:
    """Page method: wait (up to `timeout` s) until the page no longer shows a challenge.

    Never raises for a challenge that stays: what the page shows then is judged by the detector,
    and the run fails with "blocked by a browser check"."""
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        try:
            await page.wait_for_function(PAGE_CLEARED_JS, timeout=remaining * 1000)
            await page.wait_for_load_state("domcontentloaded", timeout=remaining * 1000)
            return
        except PlaywrightTimeout:
            return
        except PlaywrightError:
            # the challenge navigated away mid-check ("Execution context was destroyed")
            await asyncio.sleep(0.2)


def browser_meta(*, wait: float = BROWSER_CHECK_WAIT, **extra) -> dict:
    """Request meta for a page fetched by the browser, waiting out a browser check."""
    from scrapy_playwright.page import PageMethod

    return {
        "playwright": True,
        "playwright_context": "atlas",
        "playwright_page_init_callback": track_document_status,
        "playwright_page_methods": [PageMethod(wait_out_browser_check, wait)],
        # the challenge's 403/503 is the browser's business, not Scrapy's retry ladder
        "handle_httpstatus_list": [403, 503],
        **extra,
    }
