"""Valgdirektoratet's election results: `scrapy crawl valgresultat`.

Live, per election (year × valgtype): the country's answer `/api/{year}/{valgtype}`, then each
fylke (for stortingsvalg: each valgdistrikt) it links, then each kommune those link. Turnout per
area goes to `valgresultat`, party results to `valgresultat_partier`.

- `-a years=2025,2021` (default: the latest election of each chosen type; `all` for every
  election since 2009), `-a valgtyper=st,k,f` (default all three),
  `-a fylker=03,46` / `-a kommuner=0301` to keep the crawl to some areas.
- `-a file=ANSWER.json` stores one saved area answer.

A count in progress (`paagaar`) is stored with `count_status` saying so and is replaced when a
later answer comes (rows are keyed by election and area, parties replaced per area). A count only
moves forward: a final answer beats a provisional one, a later `rapport_generert` an earlier one;
an older or less final answer is kept as a fetch but changes nothing, and the log says so. An
answer from before counting stores nothing. Parsing lives in atlas_crawl.formats.valgresultat.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import scrapy

from atlas_crawl.formats import valgresultat as vr
from atlas_crawl.items import Forward, RawFile
from atlas_crawl.spiders import arguments
from atlas_crawl.spiders.arguments import Arg
from atlas_crawl.spiders.base import AtlasSpider

AREA_COLUMNS = ["valgaar", "valgtype", "nivaa", "nr", "navn", "count_status",
                "stemmeberettigede", "stemmer", "stemmer_fhs", "forkastede", "frammote_prosent",
                "mandater", "rapport_generert", "siste_stemmer"]
AREA_KEY = ["valgaar", "valgtype", "nr"]
AREA_TYPES = {"valgaar": int, "stemmeberettigede": int, "stemmer": int, "stemmer_fhs": int,
              "forkastede": int, "frammote_prosent": float, "mandater": int}
PARTY_COLUMNS = ["valgaar", "valgtype", "nivaa", "nr", "partikode", "partinavn",
                 "partikategori", "count_status", "stemmer", "stemmer_fhs", "prosent",
                 "prosent_fhs", "prosent_vts", "endring_prosentpoeng", "rapport_generert"]
PARTY_KEY = ["valgaar", "valgtype", "nr", "partikode"]
PARTY_TYPES = {"valgaar": int, "partikategori": int, "stemmer": int, "stemmer_fhs": int,
               "prosent": float, "prosent_fhs": float, "prosent_vts": float,
               "endring_prosentpoeng": float}

# A final count beats a provisional one, a later answer an earlier one (never the reverse).
COUNT_ORDER = Forward("count_status", (vr.PROVISIONAL, vr.FINAL), "rapport_generert")

# Stortingsvalg every fourth year from 2009 (the API's first); kommune- and fylkestingsvalg
# in the years between.
FIRST_ELECTION = {"st": 2009, "k": 2011, "f": 2011}
ALL = "all"  # -a years=all: every election since the first


def election_years(valgtype: str, until: int) -> list[int]:
    return list(range(FIRST_ELECTION[valgtype], until + 1, 4))


def _years(name: str, text: str) -> set[int] | str:
    """`all`, or the election years asked for."""
    text = text.strip().lower()
    if text == ALL:
        return ALL
    try:
        return {int(y) for y in arguments.parse_words(name, text) or ()}
    except ValueError:
        raise ValueError(f"-a {name}={text!r}: expected years like 2025,2023 or all") from None


def _valgtyper(name: str, text: str) -> list[str]:
    chosen = sorted(set(arguments.parse_words(name, text.lower()) or vr.VALGTYPER))
    unknown = set(chosen) - set(vr.VALGTYPER)
    if unknown:
        raise ValueError(f"-a {name}={text!r}: unknown {sorted(unknown)}; "
                         f"expected some of {sorted(vr.VALGTYPER)}")
    return chosen


class ValgresultatSpider(AtlasSpider):
    name = "valgresultat"
    source_id = "valgresultat"
    parties_source = "valgresultat_partier"
    allowed_domains: ClassVar[list[str]] = ["valgresultat.no"]

    years = Arg("election years, e.g. 2021,2025, or all (default: the latest of each type)",
                _years)
    valgtyper = Arg("st (Storting), k (kommunestyre), f (fylkesting); default all", _valgtyper,
                    default=sorted(vr.VALGTYPER))
    fylker = Arg("fylke codes to walk (default: every fylke)", arguments.parse_words)
    kommuner = Arg("kommune codes to fetch (default: every kommune)", arguments.parse_words)

    def elections(self, this_year: int) -> list[tuple[int, str]]:
        out = []
        for valgtype in self.valgtyper:
            possible = election_years(valgtype, this_year)
            if self.years == ALL:
                chosen = possible
            elif self.years is not None:
                chosen = sorted(self.years & set(possible))
            else:
                chosen = possible[-1:]
            out += [(year, valgtype) for year in chosen]
        if not out:
            raise ValueError(f"-a years={self.arguments.get('years')!r} holds no "
                             f"{'/'.join(self.valgtyper)} election year")
        return out

    async def start_live(self):
        for year, valgtype in self.elections(datetime.now(UTC).year):
            yield scrapy.Request(vr.area_url(year, valgtype), callback=self.parse_area)

    def parse_area(self, response):
        yield RawFile.from_response(response, self.source_id)
        answer = vr.parse_answer(response.body, where=response.url)
        yield from self.answer_batches(response, answer)
        area = answer.area
        if area.level not in ("land", "fylke"):
            return
        for href in answer.related:
            code = href.rstrip("/").rsplit("/", 1)[-1]
            wanted = self.fylker if area.level == "land" else self.kommuner
            if wanted is not None and code not in wanted:
                continue
            yield scrapy.Request(vr.API_ROOT + href, callback=self.parse_area)

    def parse_file(self, response):
        answer = vr.parse_answer(response.body, where=response.url)
        yield from self.answer_batches(response, answer)

    def answer_batches(self, response, answer: vr.Answer):
        a = answer.area
        if not answer.counted:
            self.logger.info("%s %s %s %s: not counted yet, nothing stored", a.year, a.valgtype,
                             a.level, a.nr)
            return
        if a.count_status != vr.FINAL:
            self.logger.info("%s %s %s %s: count in progress, stored as provisional", a.year,
                             a.valgtype, a.level, a.nr)
        yield from self.batches(
            response, AREA_COLUMNS,
            [(a.year, a.valgtype, a.level, a.nr, a.name, a.count_status, a.stemmeberettigede,
              a.stemmer, a.stemmer_fhs, a.forkastede, a.frammote_prosent, a.mandater,
              a.rapport_generert, a.siste_stemmer)],
            AREA_KEY, types=AREA_TYPES, forward=COUNT_ORDER)
        yield from self.batches(
            response, PARTY_COLUMNS,
            [(a.year, a.valgtype, a.level, a.nr, p.partikode, p.partinavn, p.partikategori,
              a.count_status, p.stemmer, p.stemmer_fhs, p.prosent, p.prosent_fhs, p.prosent_vts,
              p.endring_prosentpoeng, a.rapport_generert) for p in answer.parties],
            PARTY_KEY, types=PARTY_TYPES, source_id=self.parties_source, forward=COUNT_ORDER)
