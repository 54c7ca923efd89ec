"""What every atlas_crawl spider shares: `-a file=PATH`, provenance, and batching of rows."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import ClassVar

import scrapy

from atlas_crawl.fetch import origin
from atlas_crawl.fetch.replay import replay_arguments
from atlas_crawl.formats import expansion, jsonstat, sniff
from atlas_crawl.items import BATCH_ROWS, Batch, Forward, Provenance, dimension_table
from atlas_crawl.manifests import Manifest, all_manifests, get_manifest
from atlas_crawl.spiders import arguments, settings_check
from atlas_crawl.spiders.arguments import Arg


class AtlasSpider(scrapy.Spider):
    """Base spider.

    Subclasses set `source_id`, implement `start_live()` (the requests of a live crawl) and
    `parse_file(response)` (how to read one saved response, for `-a file=PATH`).
    """

    source_id: str = ""

    # The -a arguments every spider takes; subclasses declare their own the same way (see
    # atlas_crawl/spiders/arguments.py). Anything else is refused with the list.
    file = Arg("PATH of one saved response to read instead of crawling")
    allow_shrink = Arg("1 lets a replace-mode run remove more than ATLAS_MAX_SHRINK_SHARE",
                       arguments.parse_flag, default=False)
    data_origin = Arg("with -a file: what the file holds, capture (a real answer of the "
                      "publisher) or constructed (invented values); unsaid, a file outside the "
                      "golden cases is of unknown origin", name="origin")
    captured = Arg("with -a origin=capture: when it was captured, YYYY-MM-DD (or YYYY-MM)")
    #: The help of arguments a subclass's own __init__ takes by hand, name -> one line.
    spider_args: ClassVar[dict[str, str]] = {}

    #: the provider whose manifests' pace a spider with no manifest of its own keeps (fhi_table)
    provider: str = ""

    @classmethod
    def update_settings(cls, settings) -> None:
        """The spider's own settings, then the pace its manifest declares (`pace:`)."""
        super().update_settings(settings)
        settings.setdict(cls.pace(), priority="spider")

    @classmethod
    def pace(cls) -> dict:
        manifests = all_manifests()
        if cls.source_id in manifests:
            return manifests[cls.source_id].pace
        paces = [m.pace for m in manifests.values() if cls.provider and m.provider == cls.provider]
        return max(paces, key=lambda pace: pace.get("DOWNLOAD_DELAY", 0), default={})

    def __init__(self, *args, **kwargs):
        self.arguments = {k: v for k, v in kwargs.items() if not k.startswith("_")}
        for attribute, value in arguments.given(type(self), kwargs).items():
            setattr(self, attribute, value)
        super().__init__(*args, **kwargs)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        settings = crawler.settings
        settings_check.check(settings)  # one line naming the setting; nothing starts
        expansion.configure(settings.getint("ATLAS_ZIP_ENTRY_MAX_BYTES") or None,
                            settings.getint("ATLAS_ZIP_TOTAL_MAX_BYTES") or None)
        if crawler.settings.getbool("ATLAS_REPLAY") and not kwargs:
            kwargs = replay_arguments(crawler.settings, cls.name)
        spider = cls.checked(crawler, *args, **kwargs)
        # Every -a argument, including those a subclass takes as named parameters, is recorded
        # with the run in _runs.
        spider.arguments = {**{k: v for k, v in kwargs.items() if not k.startswith("_")},
                            **spider.arguments}
        return spider

    @property
    def manifest(self) -> Manifest:
        """The source's description (atlas_crawl/manifests/<source_id>.yml)."""
        return get_manifest(self.source_id)

    @classmethod
    def check_arguments(cls, args: dict) -> None:
        """Refuse unknown arguments, a missing -a file and an origin that cannot be, as one
        ArgumentError line. Values the spider cannot use are refused when it is built (checked)."""
        arguments.check_names(cls, args)
        arguments.check_file(args)
        try:
            origin.check_arguments(args)
        except origin.OriginError as exc:
            raise arguments.ArgumentError(str(exc)) from None

    @classmethod
    def checked(cls, crawler, *args, **kwargs):
        """The spider, built once from checked arguments; whatever is wrong with them is one
        ArgumentError line (the crawl command prints it and exits 2; no crawl starts)."""
        cls.check_arguments(kwargs)
        try:
            return super().from_crawler(crawler, *args, **kwargs)
        except arguments.ArgumentError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise arguments.explain(cls, kwargs, exc) from None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.file:  # checked when the spider was built (check_arguments)
            path = Path(self.file).expanduser().resolve()
            self.logger.info("reading saved response %s", path)
            yield scrapy.Request(path.as_uri(), callback=self.read_saved_file, dont_filter=True)
            return
        async for request in self.start_live():
            yield request

    async def start_live(self) -> AsyncIterator[scrapy.Request]:
        raise NotImplementedError(f"{self.name} has no live crawl")
        yield  # pragma: no cover

    def parse_file(self, response):
        raise NotImplementedError(f"{self.name} cannot read a saved file (-a file=)")

    #: What `-a file=` expects, for the one-line refusal of a file of another kind.
    file_kind: str = ""
    #: The same, said only when the file is of another kind (not before a parser's own refusal
    #: of a file of the right kind); file_kind when empty.
    reads: str = ""
    #: A spider whose saved files are gzip upstream (Brreg's bulk files) reads the .gz itself;
    #: any other spider is given a `-a file=NAME.gz` (a large capture kept compressed)
    #: decompressed.
    reads_gzip_files: bool = False

    def read_saved_file(self, response):
        """parse_file, with a file it cannot read refused in one line naming the file and what
        was expected (the traceback goes to the debug log); the run then fails and is rolled
        back, so the previous data stays."""
        try:
            if (not self.reads_gzip_files and response.url.endswith(".gz")
                    and response.body[:2] == b"\x1f\x8b"):
                response = response.replace(body=gzip.decompress(response.body))
            yield from self.parse_file(response) or ()
        except NotImplementedError:
            raise
        except Exception as exc:  # any parser's refusal, reported in one line
            name = Path(self.file or response.url).name
            expected = f"{self.name} reads {self.file_kind}: " if self.file_kind else ""
            said = str(exc).splitlines()[0] if str(exc) else ""
            if sniff.is_unreadable(exc):  # another kind of file: say what it is
                said = f"this file is {sniff.what_is(response.body)}"
                kind = self.file_kind or self.reads
                expected = f"{self.name} reads {kind}: " if kind else \
                    f"{self.name} cannot read it: "
            elif not isinstance(exc, ValueError) or not said:  # not a parser's own refusal
                said = f"{type(exc).__name__}: {said}" if said else type(exc).__name__
            self.logger.error("%s: %s%s", name, expected, said)
            self.logger.debug("while reading %s", response.url, exc_info=True)

    @staticmethod
    def provenance(response) -> Provenance:
        return Provenance.of(response.url, response.body)

    def batches(self, response, columns: list[str], rows: Iterable[tuple], key: list[str], *,
                table: str = "", types: dict[str, type] | None = None,
                source_id: str = "", size: int = BATCH_ROWS,
                forward: Forward | None = None) -> Iterator[Batch]:
        yield from Batch.chunked(
            rows, size=size, source_id=source_id or self.source_id, columns=list(columns),
            key=list(key), provenance=self.provenance(response), table=table,
            types=dict(types or {}), forward=forward,
        )

    def jsonstat_batches(self, response, dataset: jsonstat.Dataset,
                         derived: dict[str, jsonstat.Derived] | None = None) -> Iterator[Batch]:
        """A JSON-stat dataset in the narrow layout: labels, units and `updated` once per code
        in `<table>__<dimension>` tables, then the cells (codes, any `derived` columns, value
        and status) referencing them."""
        references = {}
        for dim, columns, rows in dataset.dimension_tables():
            table = references[dim.column] = dimension_table(self.source_id, dim.column)
            yield from self.batches(response, columns, rows, ["code"], table=table,
                                    types={"decimals": int})
        for batch in self.batches(response, dataset.narrow_columns(derived),
                                  dataset.fact_rows(derived), dataset.key,
                                  types={"value": float}):
            batch.references = references
            yield batch


def spiders_from_manifests(namespace: dict, family: str, base: type[AtlasSpider],
                           describe: Callable[[Manifest], tuple[str, dict]]) -> None:
    """One spider class per manifest that carries the `family` key (`pxweb:`, `fhi:`,
    `imdi_export:`), named
    after its source and put into `namespace` (a spider module's globals, where Scrapy finds it).

    `describe(manifest)` checks the family's block and gives the class name and the attributes
    that set the spider to that source (it raises, naming the manifest's field, when it cannot).
    """
    for manifest in all_manifests().values():
        if family not in manifest.extra:
            continue
        class_name, attributes = describe(manifest)
        namespace[class_name] = type(class_name, (base,), {
            "name": manifest.source_id, "source_id": manifest.source_id,
            "__module__": namespace["__name__"], **attributes})
