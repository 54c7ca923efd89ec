import os

import pytest

os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "atlas_crawl.settings")

REALDATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "realdata")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden/*/expected/ from what the crawls store now")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")
