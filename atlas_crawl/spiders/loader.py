"""Scrapy's spider loader, made lazy: `scrapy crawl <name>` imports the one module that defines
<name>, not every spider module (with every parser they import, openpyxl among them: a third of
a second at each start, paid by every scheduled job).

Where each spider is defined is read from the spider modules' text: a class's `name = "..."`,
and the families of `spiders_from_manifests(globals(), "<family>", ...)`, whose spiders are the
manifests that carry that key. A name found nowhere, or not in the module it pointed to, loads
every module as Scrapy's own loader does, so a miss costs time, never a spider;
`scrapy list` loads them all.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from importlib import import_module
from pathlib import Path

from scrapy.spiderloader import SpiderLoader

from atlas_crawl.manifests import all_manifests

SPIDERS_DIR = Path(__file__).parent
_NAME = re.compile(r'^    name = "([^"]+)"', re.MULTILINE)
_FAMILY = re.compile(r'^spiders_from_manifests\(globals\(\), "([^"]+)"', re.MULTILINE)


@cache
def spider_modules() -> dict[str, str]:
    """Spider name -> the module that defines it, as far as the modules' text tells."""
    where: dict[str, str] = {}
    for path in sorted(SPIDERS_DIR.glob("*.py")):
        module = f"{__package__}.{path.stem}"
        text = path.read_text(encoding="utf-8")
        for name in _NAME.findall(text):
            where.setdefault(name, module)
        for family in _FAMILY.findall(text):
            for manifest in all_manifests().values():
                if family in manifest.extra:
                    where.setdefault(manifest.source_id, module)
    return where


class LazySpiderLoader(SpiderLoader):
    def __init__(self, settings):
        # Scrapy's own loader imports every spider module here; this one when it must.
        self.spider_modules = settings.getlist("SPIDER_MODULES")
        self.warn_only = settings.getbool("SPIDER_LOADER_WARN_ONLY")
        self._spiders = {}
        self._found = defaultdict(list)
        self._loaded_modules: set[str] = set()
        self._all_loaded = False

    def _load_spiders(self, module) -> None:
        if module.__name__ not in self._loaded_modules:  # a module read first on its own
            self._loaded_modules.add(module.__name__)
            super()._load_spiders(module)

    def _load_all(self) -> None:
        if not self._all_loaded:
            self._all_loaded = True
            self._load_all_spiders()

    def load(self, spider_name: str):
        if spider_name not in self._spiders and not self._all_loaded:
            module = spider_modules().get(spider_name)
            if module:
                self._load_spiders(import_module(module))
            if spider_name not in self._spiders:
                self._load_all()
        return super().load(spider_name)

    def find_by_request(self, request) -> list[str]:
        self._load_all()
        return super().find_by_request(request)

    def list(self) -> list[str]:
        self._load_all()
        return super().list()
