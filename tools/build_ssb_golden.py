"""Write the constructed PxWebApi v2 cassettes of the named SSB spiders: golden/ssb_<id>/.

    .venv/bin/python tools/build_ssb_golden.py            # every table below
    .venv/bin/python tools/build_ssb_golden.py 08487      # one table

There are no real v2 captures for these tables (see ../shared/realdata/SOURCES.md: only 05803,
used by golden/ssb_table). Each cassette is built from the documented v2 format - `/config`, the
table's metadata (JSON-stat2 with `"value": []`) and the data responses the spider's own planner
asks for - with the table's real dimension ids and a handful of codes. Codes named in
../shared/SOURCE-FACTS.md §10.2 are used as SSB publishes them; the other codes and all values are
made up, and every folder's README says so. Regenerating is deliberate: run this, then
`pytest tests/test_golden.py --update-golden -k ssb_` and review `git diff golden/`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fakes.pxweb_tables import FakeDimension, FakeTable, hashed_value

from atlas_crawl.formats import pxweb
from atlas_crawl.spiders.ssb import table_selection

GOLDEN = ROOT / "golden"
CONFIG = {  # SSB's /config as documented (golden/ssb_table/responses/config_documented.json)
    "apiVersion": "2.3.2", "appVersion": "2.5.0+build.30",
    "languages": [{"id": "no", "label": "Norsk"}, {"id": "en", "label": "English"}],
    "defaultLanguage": "no", "maxDataCells": 800000, "maxCallsPerTimeWindow": 0, "timeWindow": 0,
    "license": "https://www.ssb.no/en/diverse/lisens",
    "sourceReferences": [{"language": "en", "text": "Source: Statistics Norway"},
                         {"language": "no", "text": "Kilde: Statistisk sentralbyrå"}],
    "defaultDataFormat": "json-stat2",
    "dataFormats": ["json-stat2", "csv", "px", "xlsx", "html", "json-px", "parquet"],
    "features": [{"id": "CORS", "params": [{"key": "enabled", "value": "True"}]}],
}
# Observed on data.ssb.no on 2026-08-30 (SOURCE-FACTS §10.1); the spider paces itself by it.
HEADERS = {"Content-Type": "application/json; charset=UTF-8", "x-ratelimit-policy": "40;w=60s"}


@dataclass
class Case:
    table: FakeTable
    about: str  # what the fixture shows, for the README
    real_codes: str  # which codes are SSB's own (from SOURCE-FACTS), for the README
    max_cells: int = 800_000  # /config maxDataCells served in this cassette
    own_readme: bool = True  # False: the folder's README and golden.json are written by hand


def d(dim_id: str, label: str, categories, elimination: bool = False) -> FakeDimension:
    return FakeDimension(dim_id, label, [tuple(c) for c in categories], elimination=elimination)


def contents(categories) -> FakeDimension:
    """ContentsCode: (code, label, unit, decimals) per statistic."""
    return FakeDimension("ContentsCode", "statistikkvariabel",
                         [(c, lab) for c, lab, _, _ in categories],
                         units={c: (unit, dec) for c, _, unit, dec in categories})


def years(*values) -> FakeDimension:
    return d("Tid", "år", [(str(y), str(y)) for y in values])


def ranges(position: int, by_code: dict[str, tuple[int, int, int]]):
    """Made-up values whose range depends on the statistic at `position` in the codes."""
    makers = {code: hashed_value(low, high, dec) for code, (low, high, dec) in by_code.items()}
    return lambda codes: makers[codes[position]](codes)


KOSTRA = d("KOKkommuneregion0000", "region", [
    ("EAK", "Hele landet"), ("EAKUO", "Hele landet uten Oslo"), ("0301", "Oslo"), ("4601", "Bergen"),
    ("5001", "Trondheim - Tråante")], elimination=True)
LOVBRUDD_CODES = [("0", "Alle lovbruddsgrupper"), ("6", "Vold og mishandling"),
                  ("1", "Vinningslovbrudd")]


def lovbrudd(count: int = 3) -> FakeDimension:
    return d("LovbruddKrim", "lovbruddsgruppe", LOVBRUDD_CODES[:count], elimination=True)


LOW_INCOME = [("Personer", "Personer i alt", "personer", 0),
              ("EU50", "Under 50 prosent av median (EU-skala)", "prosent", 1),
              ("EU60", "Under 60 prosent av median (EU-skala)", "prosent", 1),
              ("OECD50", "Under 50 prosent av median (OECD-skala)", "prosent", 1),
              ("OECD60", "Under 60 prosent av median (OECD-skala)", "prosent", 1)]
LOW_INCOME_RANGES = {"Personer": (1000, 900000, 0), "EU50": (3, 15, 1), "EU60": (7, 25, 1),
                     "OECD50": (3, 15, 1), "OECD60": (7, 25, 1)}
KOSTRA_REAL = ("`KOKkommuneregion0000` is the KOSTRA region dimension; `EAK` (Hele landet) and "
               "`EAKUO` (Hele landet uten Oslo) are KOSTRA aggregates as SSB publishes them.")

CASES = {
    "06083": Case(
        FakeTable("06083", "06083: Familier, etter region, familietype, statistikkvariabel og år",
                  [d("Region", "region", [("0", "Hele landet"), ("0301", "Oslo"),
                                          ("4601", "Bergen")], elimination=True),
                   d("FamilieType", "familietype", [("0", "Alle familier"),
                                                    ("1.1", "Ektepar med barn 0-17 år"),
                                                    ("3.1", "Mor med barn 0-17 år")],
                     elimination=True),
                   contents([("Familier", "Familier", "familier", 0)]),
                   years(2024, 2025)],
                  value_of=hashed_value(100, 300000)),
        "families per region and family type; one `..` cell",
        "Region codes `0`, `0301`, `4601`."),
    "06913": Case(
        FakeTable("06913", "06913: Folkemengde og endringer, etter region, "
                           "statistikkvariabel og år",
                  [d("Region", "region", [("0", "Hele landet"), ("0301", "Oslo"),
                                          ("0716u", "Våle (-2001)"), ("1103", "Stavanger"),
                                          ("21", "Svalbard")], elimination=True),
                   contents([("Folkemengde", "Folkemengde 1. januar", "personer", 0),
                             ("Levende", "Levendefødte", "personer", 0),
                             ("Dode", "Døde", "personer", 0)]),
                   years(1951, 2025, 2026)],
                  value_of=ranges(1, {"Folkemengde": (100, 900000, 0),
                                      "Levende": (0, 9000, 0), "Dode": (0, 9000, 0)}),
                  status={
                      # Våle's old code 0716 ended in 2002: nothing to count since.
                      **{("0716u", c, y): (None, ".") for c in ("Folkemengde", "Levende", "Dode")
                         for y in ("2025", "2026")},
                      # Births and deaths of 2026 are not counted yet.
                      **{(r, c, "2026"): (None, "..") for r in ("0", "0301", "1103", "21")
                         for c in ("Levende", "Dode")}}),
        "historical and special region codes kept (`0716u` with a `u` suffix, `21` Svalbard "
        "which is not a fylke); `.` where a kommune no longer exists, `..` for the year not yet "
        "counted",
        "Region codes `0`, `0301`, `0716u`, `1103`, `21`; ContentsCode `Folkemengde`, `Levende`, "
        "`Dode`; Tid from 1951."),
    "06944": Case(
        FakeTable("06944", "06944: Inntekt for husholdninger, etter region, husholdningstype, "
                           "statistikkvariabel og år",
                  [d("Region", "region", [("0", "Hele landet"), ("0301", "Oslo"),
                                          ("5001", "Trondheim - Tråante")], elimination=True),
                   d("HusholdType", "husholdningstype", [("0000", "Alle husholdninger"),
                                                         ("0001", "Aleneboende"),
                                                         ("0002", "Par uten hjemmeboende barn")],
                     elimination=True),
                   contents([("InntSkatt", "Inntekt etter skatt, median (kr)", "kr", 0),
                             ("AntallHushold", "Husholdninger", "husholdninger", 0)]),
                   years(2023, 2024)],
                  value_of=ranges(2, {"InntSkatt": (250000, 900000, 0),
                                      "AntallHushold": (1000, 2500000, 0)}),
                  status={("5001", "0002", "InntSkatt", "2024"): (None, ":")}),
        "household income by household type; one `:` (confidential) cell",
        "HusholdType codes `0000`..`0002`; Region codes `0`, `0301`, `5001`."),
    "06947": Case(
        FakeTable("06947", "06947: Personer i lavinntektshusholdninger, etter region, "
                           "statistikkvariabel og år",
                  [d("Region", "region", [("0", "Hele landet"), ("0301", "Oslo"),
                                          ("5001", "Trondheim - Tråante")], elimination=True),
                   contents(LOW_INCOME), years(2023, 2024)],
                  value_of=ranges(1, LOW_INCOME_RANGES)),
        "five statistics (count and four shares) per region, with units and decimals",
        "Region codes `0`, `0301`, `5001`. The ContentsCode ids are illustrative."),
    "07459": Case(
        FakeTable("07459", "07459: Befolkning, etter region, kjønn, alder, statistikkvariabel "
                           "og år",
                  [d("Region", "region", [("0301", "Oslo"), ("4601", "Bergen"),
                                          ("5001", "Trondheim - Tråante")], elimination=True),
                   d("Kjonn", "kjønn", [("1", "Menn"), ("2", "Kvinner")], elimination=True),
                   d("Alder", "alder", [("000", "0 år"), ("067", "67 år"),
                                        ("105+", "105 år eller eldre")], elimination=True),
                   contents([("Personer1", "Personer", "personer", 0)]),
                   years(2025, 2026)],
                  value_of=hashed_value(0, 9000)),
        "the live v2 path: 36 cells planned as two calls (one year each), because this "
        "cassette's `/config` says `maxDataCells: 20`, as the real table (about 8.4 million "
        "cells) is planned in calls of up to 800,000",
        "Kjonn `1`/`2`, Alder `000`..`104` and `105+`, ContentsCode `Personer1`; Region codes "
        "`0301`, `4601`, `5001`.",
        max_cells=20, own_readme=False),  # the folder's golden case reads a real v0 file
    "08484": Case(
        FakeTable("08484", "08484: Anmeldte lovbrudd, etter lovbruddsgruppe, "
                           "statistikkvariabel og år",
                  [lovbrudd(),
                   contents([("Lovbrudd", "Anmeldte lovbrudd", "lovbrudd", 0),
                             ("LovbruddPer1000", "Anmeldte lovbrudd per 1 000 innbyggere",
                              "per 1 000", 1)]),
                   years(2023, 2024)],
                  value_of=ranges(1, {"Lovbrudd": (1000, 330000, 0),
                                      "LovbruddPer1000": (20, 90, 1)})),
        "a national table: no place column",
        "Dimension ids `LovbruddKrim`, `ContentsCode`, `Tid`. The codes are illustrative."),
    "08487": Case(
        FakeTable("08487", "08487: Anmeldte lovbrudd, etter gjerningssted, lovbruddsgruppe, "
                           "statistikkvariabel og toårsperiode",
                  [d("Gjerningssted", "gjerningssted", [("0", "Hele landet"), ("03", "Oslo"),
                                                        ("0301", "Oslo"), ("4601", "Bergen"),
                                                        ("4699", "Uoppgitt kommune i Vestland")],
                     elimination=True),
                   lovbrudd(2),
                   contents([("Lovbrudd", "Anmeldte lovbrudd", "lovbrudd", 0)]),
                   d("Tid", "toårsperiode", [("2021-2022", "2021-2022"),
                                            ("2023-2024", "2023-2024")])],
                  value_of=hashed_value(0, 60000),
                  status={("4699", "6", "Lovbrudd", "2021-2022"): (None, ":")}),
        "two-year periods stored as text (`2023-2024`); `XX99` (`4699`) carries real values",
        "Gjerningssted codes `0`, `03`, `0301`, `4601`, `4699`; Tid as `2021-2022`, "
        "`2023-2024`."),
    "08764": Case(
        FakeTable("08764", "08764: Barn under 18 år i husholdninger med lavinntekt, etter "
                           "region, statistikkvariabel og år",
                  [d("Region", "region", [("0", "Hele landet"), ("0301", "Oslo"),
                                          ("5001", "Trondheim - Tråante"),
                                          ("9999", "Uoppgitt kommune")], elimination=True),
                   contents(LOW_INCOME), years(2023, 2024)],
                  value_of=ranges(1, LOW_INCOME_RANGES),
                  status={("9999", c, y): (None, ".") for c, *_ in LOW_INCOME
                          for y in ("2023", "2024")}),
        "`9999` (uoppgitt kommune) with status `.` in every cell, kept, never dropped; every "
        "year selected (the API's default selection returns only the latest)",
        "Region codes `0`, `0301`, `5001`, `9999`. The ContentsCode ids are illustrative."),
    "09405": Case(
        FakeTable("09405", "09405: Straffesaker, etter lovbruddsgruppe, politiets avgjørelse, "
                           "statistikkvariabel og år",
                  [lovbrudd(2),
                   d("PolitiAvgjorelse", "politiets avgjørelse", [
                       ("0", "I alt"), ("1", "Påtaleavgjort"), ("2", "Henlagt")],
                     elimination=True),
                   contents([("Straffesaker", "Straffesaker", "saker", 0)]),
                   years(2023, 2024)],
                  value_of=hashed_value(0, 300000),
                  status={("6", "2", "Straffesaker", "2024"): (None, "..")}),
        "a national table with a fourth dimension, `PolitiAvgjorelse`",
        "Dimension ids `LovbruddKrim`, `PolitiAvgjorelse`, `ContentsCode`, `Tid`. The codes are "
        "illustrative."),
    "09406": Case(
        FakeTable("09406", "09406: Etterforskede lovbrudd, etter lovbruddsgruppe, "
                           "statistikkvariabel og år",
                  [lovbrudd(),
                   contents([("Lovbrudd", "Etterforskede lovbrudd", "lovbrudd", 0),
                             ("Oppklart", "Oppklaringsprosent", "prosent", 1)]),
                   years(2023, 2024)],
                  value_of=ranges(1, {"Lovbrudd": (1000, 330000, 0), "Oppklart": (20, 80, 1)}),
                  status={("1", "Oppklart", "2024"): (None, "..")}),
        "a national table; a percentage with one decimal next to a count",
        "Dimension ids `LovbruddKrim`, `ContentsCode`, `Tid`. The codes are illustrative."),
    "09429": Case(
        FakeTable("09429", "09429: Personer 16 år og over, etter region, nivå, kjønn, "
                           "statistikkvariabel og år",
                  [d("Region", "region", [("0", "Hele landet"), ("0301", "Oslo"),
                                          ("4601", "Bergen")], elimination=True),
                   d("Nivaa", "nivå", [("01", "Grunnskolenivå"),
                                       ("02a", "Videregående skole-nivå"),
                                       ("03a", "Universitets- og høgskolenivå kort")],
                     elimination=True),
                   d("Kjonn", "kjønn", [("1", "Menn"), ("2", "Kvinner")], elimination=True),
                   contents([("PersonerProsent", "Personer (prosent)", "prosent", 1)]),
                   years(2024)],
                  value_of=hashed_value(5, 60, 1)),
        "education level by sex per region, percentages with one decimal",
        "Region codes `0`, `0301`, `4601`; Kjonn `1`/`2`. The Nivaa and ContentsCode ids are "
        "illustrative."),
    "10826": Case(
        FakeTable("10826", "10826: Befolkning, etter bydel, kjønn, alder, statistikkvariabel "
                           "og år",
                  [d("Region", "region", [("0301", "Oslo"), ("030101", "Gamle Oslo"),
                                          ("030116", "Sentrum"), ("030117", "Marka"),
                                          ("030199", "Uoppgitt bydel Oslo")], elimination=True),
                   d("Kjonn", "kjønn", [("1", "Menn"), ("2", "Kvinner")], elimination=True),
                   d("Alder", "alder", [("000", "0 år"), ("067", "67 år")], elimination=True),
                   contents([("Personer", "Personer", "personer", 0)]),
                   years(2025, 2026)],
                  value_of=hashed_value(0, 6000),
                  status={("030199", k, a, "Personer", "2026"): (None, "..")
                          for k in ("1", "2") for a in ("000", "067")}),
        "bydeler with the city total, Sentrum, Marka and the unknown-bydel row",
        "Region codes `0301`, `030101`, `030116`, `030117`, `030199`; ContentsCode "
        "`Personer`."),
    "12063": Case(
        FakeTable("12063", "12063: Kommunale fritidstilbud, etter region, statistikkvariabel "
                           "og år",
                  [KOSTRA,
                   contents([("KOSfritidsklubb0000", "Fritidsklubber", "antall", 0),
                             ("KOSbesokfritid0000", "Besøk i fritidsklubber", "antall", 0)]),
                   years(2023, 2024)],
                  value_of=hashed_value(0, 400),
                  status={(r, "KOSbesokfritid0000", "2024"): (None, "..")
                          for r in ("EAK", "EAKUO", "0301", "4601", "5001")}),
        "a statistic whose series ends a year early (`..` in the latest year): selecting every "
        "year keeps its earlier values, where `Tid=TOP(1)` emptied it",
        KOSTRA_REAL + " The ContentsCode ids are illustrative."),
    "12131": Case(
        FakeTable("12131", "12131: Veiledende stønadssatser for økonomisk sosialhjelp, etter "
                           "region, statistikkvariabel og år",
                  [KOSTRA,
                   contents([("KOSsatsenslig0000", "Stønadssats, enslig (kr per måned)", "kr",
                              0),
                             ("KOSsatsektepar0000", "Stønadssats, ektepar (kr per måned)", "kr",
                              0)]),
                   years(2024, 2025)],
                  value_of=hashed_value(6000, 13000),
                  status={("EAKUO", "KOSsatsektepar0000", "2025"): (None, ".")}),
        "KOSTRA regions with rates in kroner",
        KOSTRA_REAL + " The ContentsCode ids are illustrative."),
    "12132": Case(
        FakeTable("12132", "12132: Utgifter som inngår i stønadssatsene, etter region, "
                           "statistikkvariabel og år",
                  [KOSTRA,
                   contents([("KOSstrom0000", "Strøm er inkludert i satsen", "andel", 0),
                             ("KOSbarnetrygd0000", "Barnetrygd regnes som inntekt", "andel",
                              0)]),
                   years(2024, 2025)],
                  value_of=hashed_value(0, 1)),
        "KOSTRA regions with yes/no answers coded 0/1",
        KOSTRA_REAL + " The ContentsCode ids are illustrative."),
    "12292": Case(
        FakeTable("12292", "12292: Omsorgstjenester, etter region, statistikkvariabel og år",
                  [KOSTRA,
                   contents([("KOSmottakere0000", "Mottakere av hjemmetjenester", "personer",
                              0),
                             ("KOSandel800000", "Andel innbyggere 80 år og over i institusjon",
                              "prosent", 1),
                             ("KOStimer0000", "Tildelte timer per uke, gjennomsnitt", "timer",
                              1)]),
                   years(2024)],
                  value_of=ranges(1, {"KOSmottakere0000": (100, 250000, 0),
                                      "KOSandel800000": (5, 20, 1),
                                      "KOStimer0000": (3, 15, 1)}),
                  status={("EAKUO", "KOStimer0000", "2024"): (None, ":")}),
        "three of the table's 49 statistics, with different units and decimals",
        KOSTRA_REAL + " The ContentsCode ids are illustrative."),
    "10501": Case(
        FakeTable("10501", "10501: Personer, etter fornavn, statistikkvariabel og år",
                  [d("Fornavn", "fornavn", [("1ABIGAIL", "Abigail"), ("1NORA", "Nora"),
                                            ("2ADRIAN", "Adrian"), ("2JAKOB", "Jakob")]),
                   contents([("Personer", "Personer", "personer", 0)]),
                   years(2024, 2025)],
                  value_of=hashed_value(200, 9000),
                  status={("1ABIGAIL", "Personer", "2024"): (None, ".")}),
        "a national table; the name code joins sex and name (`1` girls, `2` boys), both kept "
        "(SSB's default selection returns the girls' names only); `.` where a name had fewer "
        "than 200 bearers that year",
        "Dimension ids `Fornavn`, `ContentsCode`, `Tid`; the codes `1ABIGAIL` and `2ADRIAN` and "
        "ContentsCode `Personer`."),
    "12451": Case(
        FakeTable("12451", "12451: Sykefravær for lønnstakere (legemeldt), etter bostedskommune, "
                           "kjønn, statistikkvariabel og kvartal",
                  [d("Region", "region", [("0", "Hele landet"), ("0301", "Oslo"),
                                          ("0716u", "Våle (-2001)"),
                                          ("4699", "Uoppgitt kommune i Vestland"),
                                          ("9999", "Uoppgitt kommune")], elimination=True),
                   d("Kjonn", "kjønn", [("0", "Begge kjønn"), ("1", "Menn"), ("2", "Kvinner")],
                     elimination=True),
                   contents([("Sykefraversprosent", "Sykefraværsprosent", "prosent", 1),
                             ("Sykefraversdagsverk", "Tapte dagsverk", "dagsverk", 0),
                             ("AvtalteDagsverk", "Avtalte dagsverk", "dagsverk", 0)]),
                   d("Tid", "kvartal", [("2000K2", "2000K2"), ("2026K1", "2026K1"),
                                        ("2026K2", "2026K2")])],
                  value_of=ranges(2, {"Sykefraversprosent": (3, 9, 1),
                                      "Sykefraversdagsverk": (0, 900000, 0),
                                      "AvtalteDagsverk": (0, 9000000, 0)}),
                  status={("0716u", "0", c, q): (None, ".")
                          for c in ("Sykefraversprosent", "Sykefraversdagsverk")
                          for q in ("2026K1", "2026K2")}),
        "quarters stored as text (`2026K2`); the manifest's selection keeps both sexes together "
        "(`Kjonn=0`) and two of the statistics, so a third one in the metadata is not fetched; "
        "historical (`0716u`) and unknown (`4699`, `9999`) kommuner kept",
        "Region codes `0`, `0301`, `0716u`, `4699`, `9999`; Kjonn `0`; ContentsCode "
        "`Sykefraversprosent`, `Sykefraversdagsverk`; Tid as `2000K2`..`2026K2`. "
        "`AvtalteDagsverk` is illustrative."),
    "12891": Case(
        FakeTable("12891", "12891: Personer, etter etternavn, statistikkvariabel og år",
                  [d("Etternavn", "etternavn", [("HANSEN", "Hansen"), ("JOHANSEN", "Johansen"),
                                                ("OLSEN", "Olsen")]),
                   contents([("Personer", "Personer", "personer", 0)]),
                   years(2024, 2025)],
                  value_of=hashed_value(200, 60000)),
        "a national table of surnames; every surname selected (SSB's default selection returns "
        "a subset)",
        "Dimension ids `Etternavn`, `ContentsCode`, `Tid`. The surname codes and ContentsCode "
        "`Personer` are illustrative."),
    "12944": Case(
        FakeTable("12944", "12944: Personer i husholdninger med vedvarende lavinntekt, etter "
                           "region, alder, statistikkvariabel og treårsperiode",
                  [d("Region", "region", [("0", "Hele landet"), ("0301", "Oslo"),
                                          ("4601", "Bergen")], elimination=True),
                   d("Alder", "alder", [("00-17", "Under 18 år"), ("18-66", "18-66 år")],
                     elimination=True),
                   contents([("AndelVedvarende", "Andel med vedvarende lavinntekt (prosent)",
                              "prosent", 1)]),
                   d("Tid", "treårsperiode", [("2020-2022", "2020-2022"),
                                             ("2021-2023", "2021-2023")])],
                  value_of=hashed_value(2, 25, 1)),
        "three-year periods stored as text (`2021-2023`)",
        "Region codes `0`, `0301`, `4601`; Tid as `2020-2022`, `2021-2023`. The Alder and "
        "ContentsCode ids are illustrative."),
    "13995": Case(
        FakeTable("13995", "13995: Sosialhjelpsmottakere, utbetalt stønad og stønadstid, "
                           "etter region, statistikkvariabel og år",
                  [KOSTRA,
                   contents([("KOSsosgjantmnd0000", "Gjennomsnittlig stønadslengde (måneder)",
                              "måneder", 1),
                             ("KOSgjsnittvklo0000",
                              "Stønadslengde, sosialhjelp som hovedinntekt (måneder)",
                              "måneder", 1)]),
                   years(2023, 2024)],
                  value_of=hashed_value(2, 9, 1),
                  status={("5001", "KOSsosgjantmnd0000", "2024"): (4.7, "*")}),
        "a preliminary figure: status `*` next to a value that is kept",
        KOSTRA_REAL + " ContentsCode `KOSsosgjantmnd0000` and `KOSgjsnittvklo0000`."),
}


def build(table_id: str, case: Case) -> Path:
    """Write the cassette; only `responses.json` and `responses/*_constructed.json` are
    replaced (and README.md / golden.json when the case owns them)."""
    folder = GOLDEN / f"ssb_{table_id}"
    table = case.table
    (folder / "responses").mkdir(parents=True, exist_ok=True)
    for old in (folder / "responses").glob("*_constructed.json"):
        old.unlink()

    config = {**CONFIG, "maxDataCells": case.max_cells}
    meta_doc = table.metadata()
    meta = pxweb.parse_metadata(meta_doc, table_id)
    queries = pxweb.plan(meta, case.max_cells, table_selection(f"ssb_{table_id}"))
    entries = [("GET", f"{pxweb.BASE_URL}/config", None, "responses/config_constructed.json",
                config),
               ("GET", f"{pxweb.BASE_URL}/tables/{table_id}/metadata?lang=no", None,
                f"responses/metadata_{table_id}_constructed.json", meta_doc)]
    for n, query in enumerate(queries, 1):
        selection = {dim_id: query.codes(meta, dim_id) for dim_id in query.selection}
        doc = table.data(selection)
        name = f"responses/data_{table_id}_{n}_constructed.json"
        if query.fits_in_url():
            entries.append(("GET", query.get_url(), None, name, doc))
        else:
            entries.append(("POST", query.post_url(), json.dumps(query.post_body()), name, doc))
    index = []
    for method, url, body, name, doc in entries:
        (folder / name).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n",
                                   encoding="utf-8")
        entry = {"method": method, "url": url}
        if body is not None:
            entry["body"] = body
        entry.update({"status": 200, "headers": dict(HEADERS), "file": name})
        index.append(entry)
    (folder / "responses.json").write_text(
        json.dumps({"responses": index}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if case.own_readme:
        (folder / "golden.json").write_text(json.dumps(
            {"spider": f"ssb_{table_id}", "data_origin": "constructed", "args": {},
             "tables": [f"ssb_{table_id}"]},
            indent=2) + "\n", encoding="utf-8")
        (folder / "README.md").write_text(readme(table_id, case, len(queries)), encoding="utf-8")
    return folder


def readme(table_id: str, case: Case, calls: int) -> str:
    table = case.table
    dims = " × ".join(f"{d.id} ({len(d.codes)})" for d in table.dimensions)
    symbols = ", ".join(f"`{s}`" for s in sorted({s for _, s in table.status.values()}))
    lowered = (f" with `maxDataCells` lowered to {case.max_cells:,}"
               if case.max_cells != CONFIG["maxDataCells"] else "")
    return f"""# golden/ssb_{table_id} — `scrapy crawl ssb_{table_id} -s ATLAS_REPLAY=1`

**Every response here is constructed, not captured.** No real PxWebApi v2 response of table
{table_id} exists in `../shared/realdata/` (see its SOURCES.md). The cassette follows SSB's
documented v2 format (`/config`, `/tables/{table_id}/metadata`, JSON-stat2 data) and the shape of
the real 05803 capture; `tools/build_ssb_golden.py` wrote it. The values are made up.

What it shows: {case.about}.

- Dimensions: {dims} = {table.cells} cells, fetched in {calls} planned call{"s" if calls > 1 else ""}.
- From SSB: the dimension ids. {case.real_codes} Other codes and the labels of codes not named
  in `../shared/SOURCE-FACTS.md` §10.2 are illustrative.
- Status symbols: {symbols or "none"}. A cell with a symbol has value null, except `*`
  (preliminary), which keeps its value.
- `responses/config_constructed.json` is SSB's documented `/config` (`maxCallsPerTimeWindow` and
  `timeWindow` 0 = not in use){lowered}. Every response carries `x-ratelimit-policy: 40;w=60s`,
  the header SSB sent on 2026-08-30.

`expected/ssb_{table_id}.jsonl` holds what the crawl stores. Regenerate deliberately:
`.venv/bin/python tools/build_ssb_golden.py {table_id}`, then
`pytest tests/test_golden.py --update-golden -k ssb_{table_id}`, and review `git diff golden/`.
"""


def main(argv: list[str]) -> int:
    wanted = argv or sorted(CASES)
    unknown = [t for t in wanted if t not in CASES]
    if unknown:
        print(f"no constructed case for {unknown}; known: {sorted(CASES)}", file=sys.stderr)
        return 2
    for table_id in wanted:
        folder = build(table_id, CASES[table_id])
        print(f"wrote {folder.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
