"""Scrapy's check that no spider callback is a generator with `return value` (whose value would
be lost), made here once for every spider instead of on every response of every crawl
(WARN_ON_GENERATOR_RETURN_VALUE is off in settings.py)."""

import inspect

from scrapy.spiderloader import SpiderLoader
from scrapy.utils.misc import is_generator_with_return_value
from scrapy.utils.project import get_project_settings


def project_generators() -> dict[str, object]:
    """Every generator function of every spider class, the project's own, by qualified name."""
    loader = SpiderLoader(get_project_settings())
    found = {}
    for name in loader.list():
        for klass in inspect.getmro(loader.load(name)):
            if not klass.__module__.startswith("atlas_crawl."):
                continue
            for attribute, value in vars(klass).items():
                if inspect.isgeneratorfunction(value):
                    found[f"{klass.__module__}.{klass.__qualname__}.{attribute}"] = value
    return found


def test_no_spider_callback_returns_a_value_from_a_generator():
    generators = project_generators()
    assert "atlas_crawl.spiders.valgresultat.ValgresultatSpider.parse_area" in generators
    assert [name for name, function in generators.items()
            if is_generator_with_return_value(function)] == []


def test_the_check_finds_a_generator_that_returns_a_value():
    def parse(response):
        yield {"row": 1}
        return "lost"

    def fine(response):
        yield {"row": 1}

    assert is_generator_with_return_value(parse)
    assert not is_generator_with_return_value(fine)
