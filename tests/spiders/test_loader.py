"""The lazy spider loader: the same spiders as Scrapy's own loader, one module imported for one."""

import subprocess
import sys

import pytest
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from atlas_crawl import PROJECT_DIR
from atlas_crawl.spiders.loader import LazySpiderLoader, spider_modules


def test_every_spider_is_found_in_the_module_that_defines_it():
    settings = get_project_settings()
    every = SpiderLoader(settings)
    assert len(every.list()) > 100
    assert {name: every.load(name).__module__ for name in every.list()} == {
        name: spider_modules()[name] for name in every.list()}
    lazy = LazySpiderLoader(settings)
    assert lazy.list() == every.list()
    assert all(lazy.load(name) is every.load(name) for name in every.list())


def test_one_spider_imports_its_own_module_only():
    script = ("import sys\n"
              "from scrapy.utils.project import get_project_settings\n"
              "from atlas_crawl.spiders.loader import LazySpiderLoader\n"
              "spider = LazySpiderLoader(get_project_settings()).load('nav_aap')\n"
              "print(spider.name, spider.__module__)\n"
              "print(' '.join(sorted(m for m in sys.modules if m.startswith('atlas_crawl.spiders.')"
              " or m == 'openpyxl')))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True,
                          text=True, check=True, env={"SCRAPY_SETTINGS_MODULE": "atlas_crawl.settings",
                                                      "PATH": "/usr/bin:/bin"})
    first, modules = done.stdout.splitlines()
    assert first == "nav_aap atlas_crawl.spiders.nav"
    assert "atlas_crawl.spiders.nav" in modules.split()
    assert not {"atlas_crawl.spiders.brreg", "atlas_crawl.spiders.ssb", "atlas_crawl.spiders.fhi",
                "atlas_crawl.spiders.udir"} & set(modules.split())


def test_a_name_no_module_defines_is_refused_after_looking_everywhere():
    lazy = LazySpiderLoader(get_project_settings())
    with pytest.raises(KeyError, match="Spider not found: ssb_tabel"):
        lazy.load("ssb_tabel")
    assert "ssb_table" in lazy.list()
