import os

import pytest

from atlas_crawl import PROJECT_DIR

os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "atlas_crawl.settings")

# Real captures the tests read live in the project, never in ../shared (a fresh clone has none):
# golden/<case>/responses/ for what a golden case replays, tests/data/<family>/ (with a README of
# provenance) for the rest.
TEST_DATA = PROJECT_DIR / "tests" / "data"


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden/*/expected/ from what the crawls store now")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")
