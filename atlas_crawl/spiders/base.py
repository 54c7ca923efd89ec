"""What every atlas_crawl spider shares: `-a file=PATH`, provenance, and batching of rows."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import ClassVar

import scrapy

from atlas_crawl.formats import expansion
from atlas_crawl.items import BATCH_ROWS, Batch, Provenance
from atlas_crawl.replay import Cassette, golden_dir, recorded_arguments
from atlas_crawl.spiders import arguments


class AtlasSpider(scrapy.Spider):
    """Base spider.

    Subclasses set `source_id`, implement `start_live()` (the requests of a live crawl) and
    `parse_file(response)` (how to read one saved response, for `-a file=PATH`).
    """

    source_id: str = ""
    # The -a arguments this spider takes, name -> one line of help; subclasses add their own
    # (see atlas_crawl/spiders/arguments.py). Anything else is refused with this list.
    spider_args: ClassVar[dict[str, str]] = {
        "file": "PATH of one saved response to read instead of crawling",
        "allow_shrink": "1 lets a replace-mode run remove more than ATLAS_MAX_SHRINK_SHARE",
    }

    def __init__(self, *args, file: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.file = file
        self.arguments = {k: v for k, v in kwargs.items() if not k.startswith("_")}
        if file:
            self.arguments["file"] = file

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        settings = crawler.settings
        expansion.configure(settings.getint("ATLAS_ZIP_ENTRY_MAX_BYTES") or None,
                            settings.getint("ATLAS_ZIP_TOTAL_MAX_BYTES") or None)
        if crawler.settings.getbool("ATLAS_REPLAY") and not kwargs:
            # `scrapy crawl imdi_bosetting -s ATLAS_REPLAY=1` replays what was recorded: with no
            # -a arguments, the ones the recording was made with (its golden.json).
            folder = golden_dir(crawler.settings, cls.name)
            kwargs = recorded_arguments(folder)
            if Cassette(folder).recordings:
                # The folder replays the live path; its `file` is a separate, file-only case.
                kwargs.pop("file", None)
            if kwargs:
                logging.getLogger(cls.name).info(
                    "replay: using the arguments %s was recorded with: %s", folder,
                    " ".join(f"-a {k}={v}" for k, v in sorted(kwargs.items())))
        spider = cls.checked(crawler, *args, **kwargs)
        # Every -a argument, including those a subclass takes as named parameters, is recorded
        # with the run in _runs.
        spider.arguments = {**{k: v for k, v in kwargs.items() if not k.startswith("_")},
                            **spider.arguments}
        return spider

    @classmethod
    def check_arguments(cls, args: dict, *, replay: bool = False) -> None:
        """Refuse unknown arguments, a missing -a file and values the spider cannot use, as one
        ArgumentError line (the crawl command prints it; no crawl starts)."""
        arguments.check_names(cls, args)
        arguments.check_file(args)
        if replay and not args:
            return  # the recorded arguments are used (see from_crawler)
        try:
            cls(**args)
        except arguments.ArgumentError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise arguments.explain(cls, args, exc) from None

    @classmethod
    def checked(cls, crawler, *args, **kwargs):
        arguments.check_names(cls, kwargs)
        try:
            return super().from_crawler(crawler, *args, **kwargs)
        except arguments.ArgumentError:
            raise
        except (ValueError, TypeError) as exc:
            raise arguments.explain(cls, kwargs, exc) from None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.file:
            path = Path(self.file).expanduser().resolve()
            if not path.is_file():
                raise FileNotFoundError(f"{self.name}: -a file={self.file}: no such file")
            self.logger.info("reading saved response %s", path)
            yield scrapy.Request(path.as_uri(), callback=self.parse_file, dont_filter=True)
            return
        async for request in self.start_live():
            yield request

    async def start_live(self) -> AsyncIterator[scrapy.Request]:
        raise NotImplementedError(f"{self.name} has no live crawl")
        yield  # pragma: no cover

    def parse_file(self, response):
        raise NotImplementedError(f"{self.name} cannot read a saved file (-a file=)")

    @staticmethod
    def provenance(response) -> Provenance:
        return Provenance.of(response.url, response.body)

    def batches(self, response, columns: list[str], rows: Iterable[tuple], key: list[str], *,
                table: str = "", types: dict[str, type] | None = None,
                source_id: str = "", size: int = BATCH_ROWS) -> Iterator[Batch]:
        yield from Batch.chunked(
            rows, size=size, source_id=source_id or self.source_id, columns=list(columns),
            key=list(key), provenance=self.provenance(response), table=table,
            types=dict(types or {}),
        )
