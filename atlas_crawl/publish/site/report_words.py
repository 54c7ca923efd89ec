"""The kommune report's words, Norwegian (nb, the default) and English (en): headings, sentences,
numbers written the way each language writes them, topics and status symbols said in words."""

from __future__ import annotations

from atlas_crawl.publish.words import STATUS_SYMBOLS, TOPICS

TOPIC_ORDER = (*TOPICS, "elections", "other")
TOPICS_NB = {
    "demographics": "Befolkning",
    "income": "Inntekt og fattigdom",
    "social": "Velferd, arbeid og trygghet",
    "health": "Helse og omsorg",
    "education": "Skole og utdanning",
    "ngo-supply": "Frivillighet og fritid",
    "organisations": "Organisasjoner (registre)",
    "reference": "Steder og klassifikasjoner",
    "elections": "Valg",
    "other": "Annet",
}
TOPICS_EN = {**TOPICS, "elections": "Elections", "other": "Other"}

#: What a provider's status symbol means, in Norwegian (English: publish/words.py).
STATUS_NB: dict[str, dict[str, str]] = {
    "ssb": {".": "ikke aktuelt: kategorien kan ikke forekomme",
            "..": "tall mangler (tallgrunnlag mangler)",
            "...": "ikke tilgjengelig ennå",
            ":": "skjult av personvernhensyn (konfidensialitet)",
            "-": "null",
            "*": "foreløpig tall"},
    "bufdir": {"..": "tall mangler eller er skjult av personvernhensyn",
               ".": "ikke aktuelt"},
    "nav": {"*": "skjult av personvernhensyn: færre enn fire personer"},
    "udir": {"*": "skjult av personvernhensyn: for få elever"},
    "imdi": {":": "skjult av personvernhensyn: som regel færre enn fem personer",
             "-": "ikke vedtatt, fordi ingenting ble anmodet",
             "avventer vedtak": "kommunen har ikke vedtatt ennå"},
}
GENERIC = {"nb": "ingen verdi publisert (symbol «{symbol}»)",
           "en": "no value published (symbol “{symbol}”)"}

ORIGIN = {
    "nb": {"live": "hentet direkte fra kilden", "capture": "ekte uttrekk av kilden",
           "constructed": "eksempel: oppdiktede tall", None: "ukjent opphav: ikke statistikk"},
    "en": {"live": "fetched live from the source", "capture": "real capture of the source",
           "constructed": "sample: invented values", None: "origin unknown: not a statistic"},
}


def origin_words(origin: tuple[str | None, str | None] | None, lang: str) -> str:
    """(data_origin, capture_date) of a row's run in words: "ekte uttrekk av kilden (2026-03)"."""
    if origin is None:
        return ""
    kind, date = origin
    words = ORIGIN[lang].get(kind, ORIGIN[lang][None])
    return f"{words} ({date})" if kind == "capture" and date else words


TEXT = {
    "nb": {
        "report": "Kommunerapport", "find": "Finn en kommune", "find_label":
        "Kommunenavn eller kommunenummer (også samiske og kvenske navn og gamle nummer)",
        "go": "Vis", "fylke": "Fylke", "norway": "Norge", "indicator": "Indikator",
        "value": "Verdi", "period": "Periode", "rank": "Plass i fylket", "trend": "Utvikling",
        "source": "Kilde", "computed": "beregnet fra kommunene",
        "rank_words": "{rank}. høyest av {n} kommuner i {fylke}",
        "better": "bedre enn landet", "worse": "dårligere enn landet",
        "same": "omtrent som landet", "no_value": "ingen verdi",
        "hidden": "skjult", "row": "raden", "run": "kjøringen", "fetch": "hentingen",
        "fetched": "hentet {date}", "from": "fra",
        "more": "{n} flere tall i tabellen", "table": "hele tabellen for kommunen",
        "neighbours": "Nærmeste i fylket", "similar": "Kommuner av samme størrelse",
        "people": "{people} innbyggere ({period})",
        "band": "størrelse {low}–{high} innbyggere", "band_open": "størrelse over {low} innbyggere",
        "old_code": "{old} var kommunenummeret til {old_name} fram til {until}. I dag hører "
                    "{old_name} til {name} ({code}).",
        "renumbered": "{old} var kommunenummeret til {old_name} fram til {until}. I dag har "
                      "{name} nummeret {code}.",
        "old_name": "«{asked}» er et tidligere navn (nummer {old}, til {until}). I dag: {name} "
                    "({code}).",
        "split": "{old} ({old_name}) ble delt. Velg en av dagens kommuner:",
        "ambiguous": "Flere kommuner heter «{asked}». Velg en:",
        "suggest": "Fant ingen kommune som heter «{asked}». Mente du",
        "none": "Fant ingen kommune for «{asked}». Skriv et kommunenavn eller et nummer "
                "som 4601.",
        "no_data": "Denne katalogen har ingen tall for {name} ennå.",
        "constructed_hidden": "Utelatt: {n} tabeller som for kommunen bare har eksempeltall "
                              "(oppdiktede tall eller ukjent opphav, ikke statistikk):",
        "show_constructed": "vis dem likevel, merket",
        "slow": "Tok for lang tid å lese nå, se tabellene direkte:",
        "sensitive": "Sensitiv indikator: små tall om sårbare grupper. Les dem i sammenheng.",
        "intro": "Nøkkeltall for {name} i {fylke}, sammenlignet med fylket, kommuner av samme "
                 "størrelse og hele landet. Hvert tall lenker til raden det står i og til "
                 "hvor og når det ble hentet.",
        "other_lang": "English", "all_kommuner": "Alle kommuner etter fylke",
        "kommune": "kommune", "print_note": "Skriv ut: ett tema per side.",
        "questions": "Spørsmål om kommunen",
    },
    "en": {
        "report": "Kommune report", "find": "Find a kommune", "find_label":
        "Kommune name or number (Sámi and Kven names and old numbers too)",
        "go": "Show", "fylke": "Fylke", "norway": "Norway", "indicator": "Indicator",
        "value": "Value", "period": "Period", "rank": "Rank in fylke", "trend": "Over time",
        "source": "Source", "computed": "computed from the kommuner",
        "rank_words": "{rank}{suffix} highest of {n} kommuner in {fylke}",
        "better": "better than Norway", "worse": "worse than Norway",
        "same": "about as Norway", "no_value": "no value",
        "hidden": "hidden", "row": "row", "run": "run", "fetch": "fetch",
        "fetched": "fetched {date}", "from": "from",
        "more": "{n} more figures in the table", "table": "the whole table for the kommune",
        "neighbours": "Nearest in the fylke", "similar": "Kommuner of the same size",
        "people": "{people} inhabitants ({period})",
        "band": "size {low}–{high} inhabitants", "band_open": "size over {low} inhabitants",
        "old_code": "{old} was {old_name}'s kommune number until {until}. Today {old_name} is "
                    "part of {name} ({code}).",
        "renumbered": "{old} was {old_name}'s kommune number until {until}. Today {name} has "
                      "the number {code}.",
        "old_name": "“{asked}” is a former name (number {old}, until {until}). Today: {name} "
                    "({code}).",
        "split": "{old} ({old_name}) was split. Choose one of today's kommuner:",
        "ambiguous": "Several kommuner are called “{asked}”. Choose one:",
        "suggest": "No kommune is called “{asked}”. Did you mean",
        "none": "No kommune found for “{asked}”. Type a kommune name or a number such as 4601.",
        "no_data": "This catalogue has no figures for {name} yet.",
        "constructed_hidden": "Left out: {n} tables that have only sample numbers for the "
                              "kommune (invented or of unknown origin, not statistics):",
        "show_constructed": "show them anyway, marked",
        "slow": "Took too long to read just now; see the tables themselves:",
        "sensitive": "Sensitive indicator: small numbers about vulnerable groups. Read them in "
                     "context.",
        "intro": "Key figures for {name} in {fylke}, compared with the fylke, kommuner of the "
                 "same size and all of Norway. Every figure links to the row it is in and to "
                 "where and when it was fetched.",
        "other_lang": "Norsk", "all_kommuner": "All kommuner by fylke",
        "kommune": "kommune", "print_note": "Print: one topic per page.",
        "questions": "Questions about the kommune",
    },
}


def ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def number(value: float | None, lang: str = "nb") -> str:
    """285 911 and 3,6 in Norwegian; 285,911 and 3.6 in English."""
    if value is None:
        return ""
    if float(value).is_integer():
        text = f"{int(value):,}"
    else:
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    if lang == "nb":
        return text.replace(",", "\u00a0").replace(".", ",")
    return text


def topic_heading(key: str, lang: str) -> str:
    table = TOPICS_NB if lang == "nb" else TOPICS_EN
    return table.get(key) or key.replace("-", " ").capitalize()


def status_words(provider: str, symbol: str | None, lang: str) -> str:
    """A suppressed or missing cell's symbol in words, never the bare symbol."""
    if symbol is None:
        return TEXT[lang]["no_value"]
    meanings = (STATUS_NB if lang == "nb" else STATUS_SYMBOLS).get(provider, {})
    meaning = meanings.get(symbol) or meanings.get(symbol.strip())
    return meaning or GENERIC[lang].format(symbol=symbol)
