"""Scrapy settings for atlas_crawl.

Politeness is on by default: an honest User-Agent, robots.txt, AutoThrottle, and retries with
exponential backoff that honour 429 and Retry-After (see fetch/politeness.py).
"""

import os

BOT_NAME = "atlas_crawl"
SPIDER_MODULES = ["atlas_crawl.spiders"]
# imports only the module of the spider asked for (spiders/loader.py)
SPIDER_LOADER_CLASS = "atlas_crawl.spiders.loader.LazySpiderLoader"
NEWSPIDER_MODULE = "atlas_crawl.spiders"
COMMANDS_MODULE = "atlas_crawl.run.commands"

# Who is asking, and how to reach them: set ATLAS_CONTACT (an e-mail address or URL) in the
# environment so a publisher can get in touch instead of blocking the crawler.
ATLAS_CONTACT = os.environ.get("ATLAS_CONTACT", "").strip()
USER_AGENT = "atlas_crawl/0.1 (harvester of Norwegian public statistics{})".format(
    f"; contact: {ATLAS_CONTACT}" if ATLAS_CONTACT else "")
ROBOTSTXT_OBEY = True

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"

CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Items are Batches of up to 50,000 rows and the pipelines are synchronous: with Scrapy's default
# of 100, a callback's whole output (a 3-million-cell table) is pulled into memory before the
# store has written the first batch. One at a time keeps memory at one batch.
CONCURRENT_ITEMS = 1
DOWNLOAD_DELAY = 0.5
DOWNLOAD_TIMEOUT = 120
DOWNLOAD_MAXSIZE = 0  # bulk files (Brreg) are hundreds of megabytes
DOWNLOAD_WARNSIZE = 512 * 1024 * 1024

AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Scrapy's own RetryMiddleware is replaced by one that backs off and honours Retry-After.
RETRY_ENABLED = True
RETRY_TIMES = 4
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
ATLAS_RETRY_BACKOFF_BASE = 1.0
ATLAS_RETRY_BACKOFF_MAX = 120.0
# A Retry-After longer than this gives the request up (the run fails) instead of waiting.
ATLAS_RETRY_AFTER_MAX = 900.0

# A parser's refusal (atlas_crawl/formats errors) is logged as one error line, not a traceback.
SPIDER_MIDDLEWARES = {
    "atlas_crawl.spiders.format_errors.FormatErrorsMiddleware": 50,
}
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "atlas_crawl.fetch.politeness.BackoffRetryMiddleware": 550,
    # A bot-protection page (Cloudflare "Just a moment...") fails the run; it is never data.
    "atlas_crawl.fetch.browser_check.BrowserCheckMiddleware": 600,
    "atlas_crawl.fetch.replay.ReplayMiddleware": 950,
}

ITEM_PIPELINES = {
    "atlas_crawl.pipelines.contract.ContractPipeline": 100,
    "atlas_crawl.pipelines.geography.GeographyPipeline": 200,
    # Batches, and downloaded files kept as provenance (RawFile), in the run's one transaction.
    "atlas_crawl.pipelines.store.StorePipeline": 900,
}

# Where the SQLite database lives.
ATLAS_DB = "atlas.db"
# Replay recorded responses from golden/<spider>/ instead of the network.
ATLAS_REPLAY = False
# Record live responses into golden/<spider>/.
ATLAS_RECORD = False
# Folder holding golden/<spider>/ folders; empty means the project's golden/.
ATLAS_GOLDEN_DIR = ""
# A run that logged an ERROR is rolled back, so the previous good data stays.
ATLAS_FAIL_ON_ERROR = True
# Downloaded files are kept here (by sha256) as provenance.
ATLAS_RAW_DIR = "data/raw"
# A write_mode 'replace' run that would remove more than this share of a partition it delivered
# fails instead (a short read looks like a source that dropped rows); -a allow_shrink=1 lifts it.
ATLAS_MAX_SHRINK_SHARE = 0.2
# What one ZIP entry or .xlsx part, and one archive in all, may expand to (decompression bombs).
ATLAS_ZIP_ENTRY_MAX_BYTES = 200 * 2**20
ATLAS_ZIP_TOTAL_MAX_BYTES = 1024 * 2**20
# How long a crawl waits (seconds) for another crawl's write lock on the same database before it
# gives up and is recorded as refused.
ATLAS_DB_WAIT = 600.0

# Scrapy would read and parse the source of a spider's callback for every response, to warn of a
# `return value` inside a generator (its cache is keyed by the bound method, a new object for every
# request, so it never hits). tests/spiders/test_callbacks.py checks every callback once instead.
WARN_ON_GENERATOR_RETURN_VALUE = False

LOG_LEVEL = "INFO"
LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"
