"""Every spider `scrapy list` names accepts `-a file=`: its start path reaches its own parse_file,
which reads the bytes instead of raising NotImplementedError.

The body handed over is a small JSON document none of the spiders expects: each must refuse it
in one logged line that names the file (the run then fails and is rolled back), never with
"this spider cannot read a file" and never with an exception escaping to Scrapy.
"""

from __future__ import annotations

import os

import pytest
import pytest_twisted
from scrapy.http import Request, TextResponse
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from atlas_crawl.spiders.base import AtlasSpider

os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "atlas_crawl.settings")
SETTINGS = get_project_settings()
LOADER = SpiderLoader.from_settings(SETTINGS)
NAMES = sorted(LOADER.list())

# Arguments a spider needs next to -a file= to know what the file is (documented per spider).
WITH_FILE = {
    "ssb_klass": {"url": "https://data.ssb.no/api/klass/v1/classifications/131/codes"
                         "?from=2024-01-01"},
    "sitemap_watch": {"provider": "nav"},
}

# Brreg's change feeds and Frivillighetsregisteret end their walk at a page without `_embedded`:
# such a page is a valid, empty answer, stored as nothing.
EMPTY_PAGE_IS_VALID = {"brreg_frivillige", "brreg_oppdateringer",
                       "brreg_underenheter_oppdateringer"}


async def _first_request(spider) -> Request:
    async for request in spider.start():
        return request
    raise AssertionError(f"{spider.name}: start() yielded nothing for -a file=")


def test_scrapy_list_is_not_empty():
    assert len(NAMES) >= 41 and {"udir_gsi", "nav_workbook"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
@pytest_twisted.ensureDeferred
async def test_spider_accepts_a_file(name, tmp_path, caplog):
    path = tmp_path / "saved.json"
    path.write_text('{"neither": "what this spider reads"}', encoding="utf-8")
    cls = LOADER.load(name)
    assert issubclass(cls, AtlasSpider)
    assert cls.parse_file is not AtlasSpider.parse_file, f"{name} has no parse_file of its own"
    crawler = get_crawler(cls, {**SETTINGS.copy_to_dict(), "ATLAS_DB": str(tmp_path / "a.db")})
    spider = cls.from_crawler(crawler, file=str(path), **WITH_FILE.get(name, {}))
    spider.crawler = crawler

    request = await _first_request(spider)
    assert request.url == path.resolve().as_uri()
    assert request.callback.__func__ is AtlasSpider.read_saved_file  # which calls parse_file

    response = TextResponse(request.url, body=path.read_bytes(), encoding="utf-8",
                            request=request)
    caplog.clear()
    try:
        items = list(request.callback(response))
    except NotImplementedError as exc:  # the failure this test is about
        pytest.fail(f"{name} -a file=: {exc}")
    assert not [i for i in items if type(i).__name__ == "Batch" and i.rows]
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    if name in EMPTY_PAGE_IS_VALID:
        assert not errors
        return
    assert errors, f"{name} accepted a file it does not read"
    assert "saved.json" in errors[0] and "\n" not in errors[0], errors
