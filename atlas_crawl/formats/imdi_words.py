"""Words for IMDi's header tokens (`<family>.<value>`, atlas_crawl.formats.imdi_export), so a
reader sees "innvandrere · alder 0–5 år" rather than `innvkat_3.innvandrere, alder_grupper.0_5`.

One place for them: FAMILIES names each family (the token before the dot, `innvkat_5` ->
`innvkat`), VALUES the values whose meaning is documented (SSB's two-way world-region grouping
`vreg_2/3` 1 and 2, as the IMDi manifests describe it; `landbakgrunn.001`, the total of all
countries). Everything else is read from the key itself where it describes itself
(`befolkningen_ellers` -> "befolkningen ellers", `0_5` -> "0–5 år", `67+` -> "67 år og over",
`alle` -> "alle"); a value that does not (`kjonn.0`: the export does not say which sex 0 is)
keeps its code, beside the family's word: "kjønn (kode 0)". Nothing is guessed.
"""

from __future__ import annotations

import re

# family (the token without its trailing `_<number of groups>`) -> (nb, en)
FAMILIES: dict[str, tuple[str, str]] = {
    "innvkat": ("innvandrerkategori", "immigrant category"),
    "alder_grupper": ("alder", "age"),
    "arbeidsalder_18_69": ("alder", "age"),
    "aldersinndeling_etter_grskole": ("alder", "age"),
    "invalder": ("alder ved innvandring", "age at immigration"),
    "bhgalder": ("barnehagealder", "kindergarten age"),
    "botid": ("botid (år i Norge)", "years in Norway"),
    "kjonn": ("kjønn", "sex"),
    "vreg": ("verdensregion", "world region"),
    "landbakgrunn": ("landbakgrunn", "country background"),
    "innvgrunn": ("innvandringsgrunn", "reason for immigration"),
    "flytting": ("flytting", "moves"),
    "bosetting": ("bosetting", "settlement"),
    "utd": ("utdanningsnivå", "education level"),
    "kohort": ("kull", "cohort"),
    "spraak": ("språk", "language"),
    "spraaknivaa": ("språknivå", "language level"),
    "provetype": ("prøvetype", "test type"),
    "barnikommune": ("barn i kommunen", "children in the kommune"),
    "forste_bosettingskommune": ("første bosettingskommune", "first kommune of settlement"),
    "avslutning_arsak": ("grunn til avslutning", "reason for leaving"),
    "avslutning_status": ("status etter avslutning", "status after leaving"),
    "rettigheter_introlov_nosfk": ("rett og plikt til opplæring",
                                   "right and duty to tuition"),
    "undervisning_grskole": ("grunnskoleundervisning", "primary school tuition"),
    "tilskudd_til_kommuner": ("tilskudd til kommuner", "grants to kommuner"),
}

# (family, value) -> (nb, en): only values whose meaning is documented
VALUES: dict[tuple[str, str], tuple[str, str]] = {
    # SSB's two country groups (the IMDi manifests' `vreg_2`/`vreg_3` descriptions)
    ("vreg", "1"): ("EU/EØS, USA, Canada, Australia og New Zealand",
                    "EU/EEA, USA, Canada, Australia and New Zealand"),
    ("vreg", "2"): ("resten av verden", "rest of the world"),
    ("landbakgrunn", "001"): ("alle land", "all countries"),
}

# words a value is made of, where the Norwegian word is spelt without æøå in the key
SPELLING = {"sor": "sør", "ost": "øst", "hogskole": "høgskole", "norskfodte": "norskfødte",
            "grskole": "grunnskole", "arbutd": "arbeid eller utdanning", "bef": "befolkningen",
            "u": "uten", "m": "med", "innvf": "innvandrerforeldre", "og": "og",
            "norskf": "norskfødte med innvandrerforeldre",
            "innv": "innvandrere", "em": "enslige mindreårige", "tilsk": "tilskudd",
            "sos": "sosial", "stnd": "stønad", "oppl": "opplæring", "spesial": "spesialundervisning",
            "innvandrerbakgr": "innvandrerbakgrunn"}
# world regions (vreg_5, vreg_9), named in the key itself: nb, en
REGIONS = {"afrika": ("Afrika", "Africa"), "asia": ("Asia", "Asia"),
           "europa": ("Europa", "Europe"), "norden": ("Norden", "the Nordic countries"),
           "vest_europa": ("Vest-Europa", "Western Europe"),
           "eu_ost_europa": ("EU-land i Øst-Europa", "EU countries in Eastern Europe"),
           "ost_europa_ellers": ("Øst-Europa ellers", "other Eastern Europe"),
           "nord_amerika_oseania": ("Nord-Amerika og Oseania", "North America and Oceania"),
           "sor_og_mellom_amerika": ("Sør- og Mellom-Amerika",
                                     "South and Central America")}
# the English of the words a key is made of (after SPELLING)
ENGLISH = {"alle": "all", "innvandrere": "immigrants", "befolkningen ellers": "everyone else",
           "ja": "yes", "nei": "no", "uoppgitt": "not stated",
           "norskfødte med innvandrerforeldre": "Norwegian-born to immigrant parents",
           "befolkningen uten innvandrere og norskfødte med innvandrerforeldre":
               "population excluding immigrants and Norwegian-born to immigrant parents",
           "innflytting": "moving in", "utflytting": "moving out",
           "innvandring": "immigration", "utvandring": "emigration",
           "nettoinnflytting": "net moving in", "nettoinnvandring": "net immigration",
           "innvandring og innflytting": "immigration and moving in",
           "utvandring og utflytting": "emigration and moving out",
           "nettoinnvandring og nettoinnflytting": "net immigration and net moving in",
           "flukt": "refuge", "familie": "family", "arbeid": "work",
           "utdanning": "education", "annet eller uoppgitt": "other or not stated"}
# a few values read better with a word added (`annet_uoppgitt`)
NORWEGIAN = {"annet uoppgitt": "annet eller uoppgitt"}
TOTALS = {"alle", "totalt"}
TOTAL_CODES = {("landbakgrunn", "001")}  # documented totals written as a code
_RANGE = re.compile(r"^(\d+)[_-](\d+)$")  # 0_5, 0-4
_FROM = re.compile(r"^(\d+)\+$")  # 67+, 10+
_GROUPS = re.compile(r"_\d+$")  # innvkat_5 -> innvkat
_AGES = {"alder_grupper", "arbeidsalder_18_69", "aldersinndeling_etter_grskole", "invalder",
         "bhgalder"}


def family_of(dimension: str) -> str:
    if dimension in FAMILIES:
        return dimension
    return _GROUPS.sub("", dimension)


def token_words(token: str, lang: str = "nb") -> str:
    """Words for one `family.value` token ("alder 0–5 år", "kjønn (kode 0)"); a token that
    is not `family.value` is given back as written."""
    dimension, dot, value = token.strip().partition(".")
    if not dot or not value:
        return token.strip()
    en = lang == "en"
    family = family_of(dimension)
    named = FAMILIES.get(family)
    name = (named[1] if en else named[0]) if named else dimension
    known = VALUES.get((family, value))
    if known:
        return f"{name}: {known[1] if en else known[0]}"
    if family == "vreg" and value in REGIONS:
        return f"{name}: {REGIONS[value][1 if en else 0]}"
    if value in TOTALS:
        return f"{name}: {'all' if en else 'alle'}"
    ages = family in _AGES or family == "botid"
    m = _RANGE.match(value)
    if m and ages:
        return _age(family, name, f"{m[1]}–{m[2]}", en)
    m = _FROM.match(value)
    if m and ages:
        return _age(family, name, m[1] + (" or more" if en else " år og over"), en)
    if any(ch.isdigit() for ch in value) or not named:  # a code the export does not explain
        return f"{name} ({'code' if en else 'kode'} {value})"
    words = " ".join(SPELLING.get(w, w) for w in value.split("_"))
    words = NORWEGIAN.get(words, words)
    if en:
        return f"{name}: {ENGLISH.get(words, words)}"
    return f"{name}: {words}"


def _age(family: str, name: str, span: str, en: bool) -> str:
    """ "alder 0–5 år", "botid 0–4 år"; "age 0–5 years", "0–4 years in Norway"."""
    if en:
        span = span if span.endswith("more") else span + " years"
        span = span.replace(" or more", " years or more")
        return f"{span} in Norway" if family == "botid" else f"{name} {span}"
    if not span.endswith("over"):
        span += " år"
    return f"{'botid' if family == 'botid' else name} {span}"


def key_words(key: str, lang: str = "nb") -> str:
    """Words for a variable or breakdown key: one token, or several comma-separated
    (`alder_grupper.0_5, kjonn.0` -> "alder 0–5 år, kjønn (kode 0)")."""
    if not key:
        return ""
    return ", ".join(token_words(t, lang) for t in key.split(","))


def totals(key: str) -> tuple[int, int]:
    """(tokens that are totals, tokens) of a key: `innvkat_3.alle, kjonn.alle` is (2, 2),
    `alder_grupper.0_5, kjonn.alle` (1, 2), `landbakgrunn.001` (the total of all countries)
    (1, 1); an empty key (no breakdowns) is (0, 0)."""
    tokens = [t.strip() for t in key.split(",") if t.strip()]
    whole = 0
    for token in tokens:
        dimension, _, value = token.partition(".")
        if value in TOTALS or (family_of(dimension), value) in TOTAL_CODES:
            whole += 1
    return whole, len(tokens)


def is_total(key: str) -> bool:
    """Every token of the key is a total (`kjonn.alle`, `innvkat_3.alle, vreg_3.alle`); so is
    an empty key (no breakdowns)."""
    whole, tokens = totals(key)
    return whole == tokens
