"""Udir statistics: `udir_gsi`, `udir_fravar`, `udir_nasjonale_prover`, `udir_elevundersokelsen`
(the USS API) and `udir_statistikkbank` (a saved statistikkbank Excel export, `-a file=`).

API flow per report: Rapportside -> filterVerdier (years, the region tree, schools for
dim_school) -> planned data calls, paced on one slot and logged as "call n/planned". Arguments:

- `-a years=latest|all|2024-25,2023-24` (school years or period codes; default per spider);
- `-a anchors=-12,-13` ("Hele landet" and "Utlandet": Utlandet is a sibling tree and needs its
  own call);
- nasjonale prøver: `-a grades=5,8,9 -a subjects=NPENG,NPLES,NPREG`;
- Elevundersøkelsen: `-a grades=7,10 -a regions=4203,4222` (kommune codes; default all).

`-a file=ANSWER.json` reads one saved data answer. The answer does not say which selection it
answers, so the selection arguments say it, one value each: `-a years=2025-26` for every report,
plus `-a grades=5 -a subjects=NPLES` (nasjonale prøver) or `-a grades=10 -a regions=4203`
(Elevundersøkelsen). A saved filterVerdier answer stores its schools in dim_school.

An empty data answer means the combination does not exist (English at grade 9, a kommune with
no reporting school): it is logged as absent, never stored as suppressed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import ClassVar
from urllib.parse import unquote, urlsplit

import scrapy

from atlas_crawl.formats import udir
from atlas_crawl.formats.excel import LayoutError
from atlas_crawl.geo import name_of
from atlas_crawl.items import RawFile
from atlas_crawl.spiders import arguments
from atlas_crawl.spiders.base import AtlasSpider


def split_arg(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def chosen_codes(arg: str, default: set[str] | None = None) -> set[str] | None:
    """The codes a comma-separated `-a` argument names; `default` when it was not given."""
    return set(split_arg(arg)) if arg else default


class UdirSpider(AtlasSpider):
    """Shared flow; subclasses name their reports and turn data cells into rows."""

    allowed_domains: ClassVar[list[str]] = ["statistikkportalen.udir.no"]
    reports: ClassVar[tuple[str, ...]] = ()
    period_kind = ""
    default_years = "latest"
    columns: ClassVar[list[str]] = []
    key: ClassVar[list[str]] = []
    types: ClassVar[dict[str, type]] = {"value": float}
    # Sent with every data call, after the period and the call's own filters.
    data_filters: ClassVar[dict[str, int]] = {}
    # What a saved data answer (-a file=) must be told about the selection it answers.
    file_selection: ClassVar[tuple[str, ...]] = ("years",)

    spider_args: ClassVar[dict[str, str]] = {
        "years": "latest, all, or school years / period codes like 2024-25,2023-24",
        "anchors": "region ids to anchor the region tree on (default: Hele landet, Utlandet)",
    }

    def __init__(self, *args, years: str = "", anchors: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.selection = {"years": years}  # as given, for -a file=
        self.years = years or self.default_years
        self.anchors = [arguments.parse_int("anchors", a, low=-(2**31))
                        for a in split_arg(anchors)] if anchors else [
            udir.HELE_LANDET, udir.UTLANDET]
        self.planned = 0
        self.done = 0
        self.absent = 0

    # -- flow ---------------------------------------------------------------------------------

    async def start_live(self):
        for code in self.wanted_reports():
            self.planned += 2
            yield scrapy.Request(udir.rapportside_url(code), callback=self.parse_rapportside)

    def wanted_reports(self) -> Iterable[str]:
        return self.reports

    def parse_rapportside(self, response):
        self._progress(response)
        yield RawFile.from_response(response, self.source_id)
        try:
            report = udir.parse_rapportside(response.body)
        except udir.UdirFormatError as exc:
            self.logger.error("%s: %s", response.url, exc)
            return
        self.logger.info("%s: %s at %s", report.code, report.name, report.base)
        yield scrapy.Request(udir.filterverdier_url(report), callback=self.parse_filterverdier,
                             cb_kwargs={"report": report})

    def parse_filterverdier(self, response, report: udir.Report):
        self._progress(response)
        yield RawFile.from_response(response, self.source_id)
        values = udir.parse_filterverdier(response.body)
        yield from self.school_batches(response, values, report)
        periods = udir.pick_periods(values.periods(report.period_filter), self.years)
        if not periods:
            self.logger.error("%s: none of the years %r among %s", report.code, self.years,
                              [p.navn for p in values.periods(report.period_filter)])
            return
        calls = list(self.plan(report, values, periods))
        self.planned += len(calls)
        self.logger.info("%s: %d data calls planned for %s (%d calls planned in all)",
                         report.code, len(calls), ", ".join(p.navn for p in periods), self.planned)
        for url, context in calls:
            yield scrapy.Request(url, callback=self.parse_data,
                                 cb_kwargs={"report": report, "context": context})

    def parse_data(self, response, report: udir.Report, context: dict):
        self._progress(response, context)
        try:
            cells = udir.parse_data(response.body, where=response.url)
            rows = list(self.dedupe(self.rows(cells, context)))
        except (udir.UdirFormatError, LayoutError) as exc:
            self.logger.error("layout drift: %s: %s", _describe(context), exc)
            return
        if not cells:
            self.absent += 1
            self.logger.info("absent (empty answer, not suppressed): %s", _describe(context))
            return
        yield RawFile.from_response(response, self.source_id)
        yield from self.batches(response, self.columns, rows, self.key, types=self.types)

    # -- a saved answer (-a file=) -------------------------------------------------------------

    def parse_file(self, response):
        name = unquote(PurePosixPath(urlsplit(response.url).path).name)
        try:
            kind = udir.answer_kind(response.body)
        except udir.UdirFormatError as exc:
            self.logger.error("%s: expected a saved Udir data or filterVerdier answer, found %s",
                              name, exc)
            return
        if kind == "Rapportside":
            self.logger.error("%s: a Udir Rapportside (the report's description, no figures), "
                              "expected a saved data or filterVerdier answer", name)
            return
        if kind == "filterVerdier":
            yield RawFile.from_response(response, self.source_id)
            values = udir.parse_filterverdier(response.body)
            yield from self.school_batches(response, values, name)
            return
        try:
            context = self.file_context()
        except (ValueError, udir.UdirFormatError) as exc:
            self.logger.error("%s -a file=%s: %s", self.name, name, exc)
            return
        try:
            cells = udir.parse_data(response.body, where=name)
            self.check_answer(cells, context)
            if "region" in context:
                region = context["region"]
                context["region_name"] = udir.column_region(cells, region, name_of(region))
            rows = list(self.dedupe(self.rows(cells, context)))
        except (udir.UdirFormatError, LayoutError) as exc:
            self.logger.error("%s: %s", name, exc)
            return
        if not cells:
            self.absent += 1
            self.logger.info("%s: empty answer (absent, not suppressed): nothing stored", name)
            return
        self.logger.info("%s: %d rows for %s", name, len(rows), _describe(context))
        yield RawFile.from_response(response, self.source_id)
        yield from self.batches(response, self.columns, rows, self.key, types=self.types)

    def check_answer(self, cells: list[udir.DataCell], context: dict) -> None:
        udir.check_selection(cells, school_year=context["period"].navn,
                             grade=context.get("grade"), subject=context.get("subject"))

    def file_context(self) -> dict:
        """The call context of a saved data answer, from the selection arguments."""
        missing = [f"-a {a}=" for a in self.file_selection if not self.selection.get(a)]
        if missing:
            raise ValueError(f"a saved data answer does not say which selection it answers: "
                             f"give {' '.join(missing)} (missing), one value each")
        several = [f"-a {a}={self.selection[a]}" for a in self.file_selection
                   if len(split_arg(self.selection[a])) != 1]
        if several:
            raise ValueError(f"one value each for a saved answer, got {' '.join(several)}")
        return {"period": udir.period_option(self.selection["years"], self.period_kind)}

    # -- per report ---------------------------------------------------------------------------

    def plan(self, report: udir.Report, values: udir.FilterValues,
             periods: list[udir.Option]) -> Iterator[tuple[str, dict]]:
        """One call per period and anchor; reports with more dimensions override this."""
        for period in periods:
            yield from self.anchored(report, period, {})

    def rows(self, cells: list[udir.DataCell], context: dict) -> Iterator[tuple]:
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------------------------

    def anchored(self, report: udir.Report, period: udir.Option, filters: dict[str, int],
                 **context) -> Iterator[tuple[str, dict]]:
        """The data call for one period and `filters`, once under each anchor."""
        query = {report.period_filter: period.id, **filters, **self.data_filters}
        for anchor in self.anchors:
            yield (udir.data_url(report, query, f"{anchor}.*.*"),
                   {"period": period, **context, "anchor": anchor})

    def region_rows(self, cells: list[udir.DataCell], context: dict,
                    *extra) -> Iterator[tuple]:
        """(region_code, region_name, level, school_year, period_code, *extra, measure, value,
        status) of every fylke and kommune cell."""
        period = context["period"]
        year = udir.checked_school_year(period, self.period_kind)
        for c in udir.region_cells(cells):
            yield (c.row_kode, c.row_navn, udir.LEVELS[c.level], year, str(period.id), *extra,
                   c.measure, c.value, c.status)

    def dedupe(self, rows: Iterable[tuple]) -> Iterator[tuple]:
        """Drop exact repeats; a key listed twice with different values is drift."""
        positions = [self.columns.index(k) for k in self.key]
        seen: dict[tuple, tuple] = {}
        for row in rows:
            key = tuple(row[p] for p in positions)
            if key in seen:
                if seen[key] != row:
                    self.logger.error("two different rows for %s: %r and %r", key, seen[key], row)
                continue
            seen[key] = row
            yield row

    def school_batches(self, response, values: udir.FilterValues, report: udir.Report | str):
        code = report if isinstance(report, str) else report.code
        if "EnhetID" not in values.lists:
            self.logger.info("%s: filterVerdier has no EnhetID tree; no schools", code)
            return
        schools = udir.schools(values)
        unplaced = sum(1 for s in schools if not s.kommune_code)
        if unplaced:
            self.logger.warning("%s: %d schools without a kommune in the tree were not stored",
                                code, unplaced)
        rows = udir.school_rows(schools)
        if rows:
            yield from self.batches(response, udir.SCHOOL_COLUMNS, rows, udir.SCHOOL_KEY,
                                    table="dim_school")

    def _progress(self, response, context: dict | None = None) -> None:
        self.done += 1
        self.logger.info("%s: call %d/%d done%s", self.name, self.done, self.planned,
                         f" ({_describe(context)})" if context else "")


def _describe(context: dict) -> str:
    parts = []
    for k, v in context.items():
        if k == "region_name":
            continue
        parts.append(f"{k} {v.navn if isinstance(v, udir.Option) else v}")
    return ", ".join(parts)


# --------------------------------------------------------------------------------------------


class UdirGsiSpider(UdirSpider):
    name = "udir_gsi"
    source_id = "udir_gsi"
    reports = ("GSK_Elev_Skol",)
    period_kind = "YYYY10"
    default_years = "all"
    columns: ClassVar[list[str]] = ["region_code", "region_name", "level", "school_year",
                                    "period_code", "measure", "value", "status"]
    key: ClassVar[list[str]] = ["region_code", "school_year", "measure"]
    data_filters: ClassVar[dict[str, int]] = {
        "TrinnID": udir.ALLE, "KjoennID": udir.ALLE, "KommunalitetID": udir.ALLE}

    def rows(self, cells, context):
        yield from self.region_rows(cells, context)


class UdirFravarSpider(UdirGsiSpider):
    name = "udir_fravar"
    source_id = "udir_fravar"
    reports = ("GSK_fravaer",)
    period_kind = "YYYY06"
    default_years = "all"
    data_filters: ClassVar[dict[str, int]] = {
        "EierformID": udir.ALLE, "KjoennID": udir.ALLE, "VisAntallPersoner": 1, "VisMaaltall": 1}


class UdirGradeSpider(UdirSpider):
    """A report asked for one grade (TrinnID) and one code of a second dimension at a time:
    `-a grades=` picks the grades (default: `default_grades`), `-a <per>=` the codes (`per`:
    subjects, regions; default: all). A saved answer (-a file=) is given one value of each,
    which its call context names as `grade` and `per` in the singular (`subject`, `region`)."""

    default_grades: ClassVar[frozenset[str]] = frozenset()
    per: ClassVar[str] = ""
    types: ClassVar[dict[str, type]] = {"value": float, "grade": int}

    def __init__(self, *args, grades: str = "", **kwargs):
        codes = kwargs.pop(self.per, "")
        super().__init__(*args, **kwargs)
        self.selection.update({"grades": grades, self.per: codes})
        self.grades = chosen_codes(grades, set(self.default_grades))
        self.codes = chosen_codes(codes)

    @property
    def file_selection(self) -> tuple[str, ...]:
        return ("years", "grades", self.per)

    def file_context(self):
        context = super().file_context()
        grade = self.selection["grades"].strip()
        self.check_grade(grade)
        return {**context, "grade": grade,
                self.per.removesuffix("s"): self.selection[self.per].strip()}

    def check_grade(self, grade: str) -> None:
        if not grade.isdigit():
            raise ValueError(f"-a grades={grade}: a grade is a number "
                             f"({', '.join(sorted(self.default_grades, key=int))})")

    def grade_options(self, values) -> list:
        """The report's grades that were asked for."""
        return [g for g in values.options("TrinnID") if g.kode in self.grades]

    def chosen(self, options: Iterable[udir.Option]) -> list[udir.Option]:
        """The `per` options that were asked for (all of them when none were named)."""
        return [o for o in options if self.codes is None or o.kode in self.codes]


class UdirNasjonaleProverSpider(UdirGradeSpider):
    name = "udir_nasjonale_prover"
    source_id = "udir_nasjonale_prover"
    reports = ("GSK_NP_Geo_Trinn5", "GSK_NP_Geografisk")  # grade 5; grades 8 and 9
    period_kind = "YYYYYYYY"
    default_years = "latest"  # results before 2022-23 were removed upstream on 2025-11-13
    columns: ClassVar[list[str]] = ["region_code", "region_name", "level", "school_year",
                                    "period_code", "grade", "subject", "measure", "value",
                                    "status"]
    key: ClassVar[list[str]] = ["region_code", "school_year", "grade", "subject", "measure"]
    default_grades: ClassVar[frozenset[str]] = frozenset({"5", "8", "9"})
    per = "subjects"
    data_filters: ClassVar[dict[str, int]] = {
        "KjoennID": udir.ALLE, "EierformID": udir.ALLE, "VisAntallRaderDeltatt": 1,
        "VisMestringsnivaafordeling": 0, "VisDeltakelsestatusfordeling": 0, "VisMaaltall": 0}

    spider_args: ClassVar[dict[str, str]] = {
        "grades": "grades, like 5,8,9 (default 5,8,9)",
        "subjects": "subject codes to keep (default: all)",
    }

    def check_grade(self, grade: str) -> None:
        if grade not in self.default_grades:
            raise ValueError(f"-a grades={grade}: nasjonale prøver are taken at grade 5, 8 or 9")

    def wanted_reports(self):
        if "5" in self.grades:
            yield "GSK_NP_Geo_Trinn5"
        if self.grades & {"8", "9"}:
            yield "GSK_NP_Geografisk"

    def plan(self, report, values, periods):
        grades = self.grade_options(values)
        subjects = self.chosen(values.options("ProevetypeID"))
        for period in periods:
            for grade in grades:
                for subject in subjects:
                    yield from self.anchored(
                        report, period, {"TrinnID": grade.id, "ProevetypeID": subject.id},
                        grade=grade.kode, subject=subject.kode)

    def rows(self, cells, context):
        yield from self.region_rows(cells, context, int(context["grade"]), context["subject"])


class UdirElevundersokelsenSpider(UdirGradeSpider):
    """Mobbing (GSK_EUG_mobbing): one call per kommune x grade, the kommune pinned in EnhetID."""

    name = "udir_elevundersokelsen"
    source_id = "udir_elevundersokelsen"
    reports = ("GSK_EUG_mobbing",)
    period_kind = "YYYY12"
    default_years = "latest"
    columns: ClassVar[list[str]] = ["region_code", "region_name", "school_year", "period_code",
                                    "grade", "measure", "measure_label", "measure_level",
                                    "value", "status"]
    key: ClassVar[list[str]] = ["region_code", "school_year", "grade", "measure"]
    # TrinnID(-10) silently returns one grade here, and two grades in one call is a 400.
    default_grades: ClassVar[frozenset[str]] = frozenset({"7", "10"})
    per = "regions"
    data_filters: ClassVar[dict[str, int]] = {
        "KjoennID": udir.ALLE, "EierformID": udir.ALLE, "VisAntallBesvart": 0}

    spider_args: ClassVar[dict[str, str]] = {
        "grades": "grades, like 7,10 (default 7,10)",
        "regions": "region codes to keep (default: all)",
    }

    def plan(self, report, values, periods):
        grades = self.grade_options(values)
        regions = self.chosen(udir.regions(values))
        for period in periods:
            for region in regions:
                for grade in grades:
                    filters = {report.period_filter: period.id, "TrinnID": grade.id,
                               **self.data_filters, "EnhetID": region.id}
                    yield (udir.data_url(report, filters, "*.*"),
                           {"period": period, "region": region.kode, "region_name": region.navn,
                            "grade": grade.kode})

    def rows(self, cells, context):
        period = context["period"]
        year = udir.checked_school_year(period, self.period_kind)
        for c in cells:
            if context["region_name"] not in c.column:
                raise LayoutError(file=None, sheet=None,
                                  expected=f"answers for {context['region_name']}",
                                  found=f"columns {c.column}")
            yield (context["region"], context["region_name"], year, str(period.id),
                   int(context["grade"]), c.row_kode, c.row_navn, c.level, c.value, c.status)


# --------------------------------------------------------------------------------------------


class UdirStatistikkbankSpider(AtlasSpider):
    """A statistikkbank export saved by hand: `-a file=EXPORT.xlsx` or the text export
    (UTF-16, tab-separated) `-a file=EXPORT.csv` (no live crawl)."""

    name = "udir_statistikkbank"
    source_id = "udir_statistikkbank"
    file_kind = "a statistikkbank export (.xlsx, or UTF-16 tab-separated text)"

    def parse_file(self, response):
        yield RawFile.from_response(response, self.source_id)
        name = response.url.rsplit("/", 1)[-1]
        try:
            rows = udir.parse_statistikkbank_export(response.body, file=name)
        except LayoutError as exc:
            self.logger.error("layout drift: %s", exc)
            return
        self.logger.info("%s: %d values, %s", name, len(rows),
                         ", ".join(sorted({r.measure for r in rows})))
        yield from self.batches(response, udir.EXPORT_COLUMNS, map(udir.export_row, rows),
                                udir.EXPORT_KEY, types={"value": float})
        yield from self.batches(response, udir.SCHOOL_COLUMNS, udir.export_school_rows(rows),
                                udir.SCHOOL_KEY, table="dim_school")


class UdirSluttetVgsSpider(UdirGsiSpider):
    """Sluttet i videregående (schema VGO, statistic SluttaV): pupils who left upper secondary
    school during the school year, per fylke (fylkeskommunen runs the schools: VGO reports have
    no kommune level). The report's page name and period shape are not confirmed by a capture;
    `-a report=` names another page."""

    name = "udir_sluttet_vgs"
    source_id = "udir_sluttet_vgs"
    reports = ("VGO_sluttet",)
    period_kind = "YYYY10"
    default_years = "all"
    data_filters: ClassVar[dict[str, int]] = {"EierformID": udir.ALLE, "KjoennID": udir.ALLE}

    spider_args: ClassVar[dict[str, str]] = {
        "report": "another statistikkportalen report page than VGO_sluttet",
    }

    def __init__(self, *args, report: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if report:
            self.reports = (report,)
