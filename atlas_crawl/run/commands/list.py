"""`scrapy list` with each spider's title (its source's title from the manifest, else its `title`
attribute, else the first line of its docstring), so `scrapy list` says what each name crawls.

Titles are shown on a terminal or with `--titles`; piped, the output stays one name a line, which
scripts and scrapyd (`listspiders.json` runs `scrapy list`) read as spider names."""

from __future__ import annotations

import sys

from scrapy.commands.list import Command as ScrapyListCommand
from scrapy.spiderloader import get_spider_loader

from atlas_crawl.manifests import all_manifests


def spider_title(name: str, spider_class) -> str:
    manifest = all_manifests().get(name) or all_manifests().get(
        getattr(spider_class, "source_id", "") or name)
    if manifest is not None:
        return manifest.upstream_title
    if own := getattr(spider_class, "title", None):
        return own
    doc = (spider_class.__doc__ or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else ""


class Command(ScrapyListCommand):
    def short_desc(self) -> str:
        return "List the spiders, each with the title of what it crawls"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--titles", action="store_true",
                            help="show titles also when the output is not a terminal")

    def run(self, args, opts) -> None:
        loader = get_spider_loader(self.settings)
        names = sorted(loader.list())
        if not (opts.titles or sys.stdout.isatty()):
            for name in names:
                print(name)
            return
        width = max(map(len, names), default=0)
        for name in names:
            title = spider_title(name, loader.load(name))
            print(f"{name.ljust(width)}  {title}".rstrip())
