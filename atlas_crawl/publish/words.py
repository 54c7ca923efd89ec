"""Plain words for the codes the catalogue stores: periodicities, EU themes, topics, and each
provider's status symbols (what `..`, `:`, `*` ... mean in its tables)."""

from __future__ import annotations

import re

PERIODICITY = {"P1Y": "yearly", "P2Y": "every two years", "P3Y": "every three years",
               "P6M": "half-yearly", "P3M": "quarterly", "P1M": "monthly", "P1W": "weekly",
               "P1D": "daily", "irregular": "irregular"}

#: The EU's data-theme vocabulary (publications.europa.eu, "data-theme"), English labels.
EU_THEMES = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}

#: The manifests' `tags.topic`, as a heading on the front page, in the order shown.
TOPICS = {
    "demographics": "Population",
    "income": "Income and poverty",
    "social": "Welfare, work and safety",
    "health": "Health and care",
    "education": "Schools and education",
    "ngo-supply": "Voluntary sector and leisure",
    "organisations": "Organisations (registers)",
    "reference": "Places and classifications",
}

#: Per provider: symbol -> what it means, in English and in Norwegian (the kommune report), as
#: each publishes it (see SOURCE-FACTS §2.3). The value of a suppressed cell is NULL; only `*` in
#: SSB tables (preliminary) keeps its number.
STATUS_WORDS: dict[str, dict[str, dict[str, str]]] = {
    "ssb": {
        ".": {"en": "not applicable: the category cannot occur (lovlig umulig)",
              "nb": "ikke aktuelt: kategorien kan ikke forekomme"},
        "..": {"en": "figures not available (tallgrunnlag mangler)",
               "nb": "tall mangler (tallgrunnlag mangler)"},
        "...": {"en": "not yet available (oppgave mangler)", "nb": "ikke tilgjengelig ennå"},
        ":": {"en": "hidden for confidentiality (vises ikke av konfidensialitetshensyn)",
              "nb": "skjult av personvernhensyn (konfidensialitet)"},
        "-": {"en": "nil: zero, exactly", "nb": "null"},
        "*": {"en": "preliminary figure; the value is kept", "nb": "foreløpig tall"},
    },
    "bufdir": {
        "..": {"en": "figures not available or suppressed (SSB's convention)",
               "nb": "tall mangler eller er skjult av personvernhensyn"},
        ".": {"en": "not applicable (SSB's convention)", "nb": "ikke aktuelt"},
    },
    "nav": {"*": {"en": "fewer than 4 persons: suppressed (Statistikkloven)",
                  "nb": "skjult av personvernhensyn: færre enn fire personer"}},
    "udir": {"*": {"en": "too few pupils: suppressed to protect privacy",
                   "nb": "skjult av personvernhensyn: for få elever"}},
    "imdi": {
        ":": {"en": "removed for privacy: as a rule fewer than five persons in the cell",
              "nb": "skjult av personvernhensyn: som regel færre enn fem personer"},
        "-": {"en": "no decision, because nothing was requested",
              "nb": "ikke vedtatt, fordi ingenting ble anmodet"},
        "avventer vedtak": {"en": "the kommune has not decided yet (free text kept as written)",
                            "nb": "kommunen har ikke vedtatt ennå"},
    },
}
#: The same in English, the catalogue's language: provider -> symbol -> meaning.
STATUS_SYMBOLS: dict[str, dict[str, str]] = {
    provider: {symbol: words["en"] for symbol, words in symbols.items()}
    for provider, symbols in STATUS_WORDS.items()}

PROVIDERS = {"ssb": "SSB (Statistics Norway)", "nav": "Nav", "imdi": "IMDi", "udir": "Udir",
             "bufdir": "Bufdir", "brreg": "Brønnøysundregistrene", "husbanken": "Husbanken",
             "lottstift": "Lotteri- og stiftelsestilsynet", "dsb": "DSB", "fhi": "FHI"}


def periodicity_words(code: str | None) -> str | None:
    if code is None:
        return None
    if code in PERIODICITY:
        return PERIODICITY[code]
    m = re.fullmatch(r"P(\d+)([YMWD])", code)
    unit = {"Y": "year", "M": "month", "W": "week", "D": "day"}
    return f"every {m[1]} {unit[m[2]]}s" if m else code


def theme_words(code: str | None) -> str | None:
    return EU_THEMES.get(code, code) if code else None
