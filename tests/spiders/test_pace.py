"""How fast a publisher is asked is declared in its manifests (`pace:`), and the spider runs so."""

import pytest
from scrapy.crawler import CrawlerRunner
from scrapy.utils.project import get_project_settings

from atlas_crawl.manifests import ManifestError
from atlas_crawl.spiders.fhi import FhiTableSpider
from atlas_crawl.spiders.udir import UdirGsiSpider
from atlas_crawl.spiders.valgresultat import ValgresultatSpider


@pytest.mark.parametrize(("spider", "concurrency", "delay"), [
    (ValgresultatSpider, 1, 1.0),
    (UdirGsiSpider, 1, 0.3),
    (FhiTableSpider, 1, 1.0),  # no manifest of its own: its provider's pace
])
def test_a_crawler_runs_at_the_pace_its_manifest_declares(spider, concurrency, delay):
    crawler = CrawlerRunner(get_project_settings()).create_crawler(spider)
    crawler._apply_settings()
    assert crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == concurrency
    assert crawler.settings.getfloat("DOWNLOAD_DELAY") == delay


def test_a_spider_of_a_provider_without_a_pace_keeps_the_project_settings():
    from atlas_crawl.spiders.nav import NavAapSpider

    assert NavAapSpider.pace() == {}


@pytest.mark.parametrize("pace", [{"delay_seconds": "fast"}, {"concurrent_requests": 0},
                                  {"concurrent_requests": 1.5}, {"speed": 1}, "slow"])
def test_a_pace_that_is_not_numbers_is_refused_naming_the_field(tmp_path, pace):
    from conftest import make_manifest

    with pytest.raises(ManifestError, match=r"t\.yml: field 'pace"):
        make_manifest("t", tmp_path, pace=pace)
