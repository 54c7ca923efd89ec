"""The kommune report's words, Norwegian (nb, the default) and English (en): headings, sentences,
numbers written the way each language writes them, topics and status symbols said in words."""

from __future__ import annotations

from atlas_crawl.publish.words import STATUS_WORDS, TOPICS

#: The report's languages; every phrase and status symbol is said in each.
LANGUAGES = ("nb", "en")
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


#: Every phrase of the report, in each language.
PHRASES: dict[str, dict[str, str]] = {
    "report": {"nb": "Kommunerapport", "en": "Kommune report"},
    "find": {"nb": "Finn en kommune", "en": "Find a kommune"},
    "find_label": {
        "nb": "Kommunenavn eller kommunenummer (også samiske og kvenske navn og gamle nummer)",
        "en": "Kommune name or number (Sámi and Kven names and old numbers too)",
    },
    "go": {"nb": "Vis", "en": "Show"},
    "fylke": {"nb": "Fylke", "en": "Fylke"},
    "norway": {"nb": "Norge", "en": "Norway"},
    "indicator": {"nb": "Indikator", "en": "Indicator"},
    "value": {"nb": "Verdi", "en": "Value"},
    "period": {"nb": "Periode", "en": "Period"},
    "rank": {"nb": "Plass i fylket", "en": "Rank in fylke"},
    "trend": {"nb": "Utvikling", "en": "Over time"},
    "source": {"nb": "Kilde", "en": "Source"},
    "computed": {"nb": "beregnet fra kommunene", "en": "computed from the kommuner"},
    "rank_words": {"nb": "{rank}. høyest av {n} kommuner i {fylke}",
                   "en": "{rank}{suffix} highest of {n} kommuner in {fylke}"},
    "better": {"nb": "bedre enn landet", "en": "better than Norway"},
    "worse": {"nb": "dårligere enn landet", "en": "worse than Norway"},
    "same": {"nb": "omtrent som landet", "en": "about as Norway"},
    "no_value": {"nb": "ingen verdi", "en": "no value"},
    "hidden": {"nb": "skjult", "en": "hidden"},
    "row": {"nb": "raden", "en": "row"},
    "run": {"nb": "kjøringen", "en": "run"},
    "fetch": {"nb": "hentingen", "en": "fetch"},
    "fetched": {"nb": "hentet {date}", "en": "fetched {date}"},
    "from": {"nb": "fra", "en": "from"},
    "more": {"nb": "{n} flere tall i tabellen", "en": "{n} more figures in the table"},
    "table": {"nb": "hele tabellen for kommunen", "en": "the whole table for the kommune"},
    "neighbours": {"nb": "Nærmeste i fylket", "en": "Nearest in the fylke"},
    "similar": {"nb": "Kommuner av samme størrelse", "en": "Kommuner of the same size"},
    "people": {"nb": "{people} innbyggere ({period})", "en": "{people} inhabitants ({period})"},
    "band": {"nb": "størrelse {low}–{high} innbyggere", "en": "size {low}–{high} inhabitants"},
    "band_open": {"nb": "størrelse over {low} innbyggere", "en": "size over {low} inhabitants"},
    "old_code": {
        "nb": "{old} var kommunenummeret til {old_name} fram til {until}. I dag hører {old_name} "
              "til {name} ({code}).",
        "en": "{old} was {old_name}'s kommune number until {until}. Today {old_name} is part of "
              "{name} ({code}).",
    },
    "renumbered": {
        "nb": "{old} var kommunenummeret til {old_name} fram til {until}. I dag har {name} "
              "nummeret {code}.",
        "en": "{old} was {old_name}'s kommune number until {until}. Today {name} has the number "
              "{code}.",
    },
    "old_name": {
        "nb": "«{asked}» er et tidligere navn (nummer {old}, til {until}). I dag: {name} ({code}).",
        "en": "“{asked}” is a former name (number {old}, until {until}). Today: {name} ({code}).",
    },
    "split": {"nb": "{old} ({old_name}) ble delt. Velg en av dagens kommuner:",
              "en": "{old} ({old_name}) was split. Choose one of today's kommuner:"},
    "ambiguous": {"nb": "Flere kommuner heter «{asked}». Velg en:",
                  "en": "Several kommuner are called “{asked}”. Choose one:"},
    "suggest": {"nb": "Fant ingen kommune som heter «{asked}». Mente du",
                "en": "No kommune is called “{asked}”. Did you mean"},
    "none": {
        "nb": "Fant ingen kommune for «{asked}». Skriv et kommunenavn eller et nummer som 4601.",
        "en": "No kommune found for “{asked}”. Type a kommune name or a number such as 4601.",
    },
    "no_data": {"nb": "Denne katalogen har ingen tall for {name} ennå.",
                "en": "This catalogue has no figures for {name} yet."},
    "constructed_hidden": {
        "nb": "Utelatt: {n} tabeller som for kommunen bare har eksempeltall (oppdiktede tall eller "
              "ukjent opphav, ikke statistikk):",
        "en": "Left out: {n} tables that have only sample numbers for the kommune (invented or of "
              "unknown origin, not statistics):",
    },
    "show_constructed": {"nb": "vis dem likevel, merket", "en": "show them anyway, marked"},
    "slow": {"nb": "Tok for lang tid å lese nå, se tabellene direkte:",
             "en": "Took too long to read just now; see the tables themselves:"},
    "sensitive": {
        "nb": "Sensitiv indikator: små tall om sårbare grupper. Les dem i sammenheng.",
        "en": "Sensitive indicator: small numbers about vulnerable groups. Read them in context.",
    },
    "intro": {
        "nb": "Nøkkeltall for {name} i {fylke}, sammenlignet med fylket, kommuner av samme "
              "størrelse og hele landet. Hvert tall lenker til raden det står i og til hvor og når "
              "det ble hentet.",
        "en": "Key figures for {name} in {fylke}, compared with the fylke, kommuner of the same "
              "size and all of Norway. Every figure links to the row it is in and to where and "
              "when it was fetched.",
    },
    "other_lang": {"nb": "English", "en": "Norsk"},
    "all_kommuner": {"nb": "Alle kommuner etter fylke", "en": "All kommuner by fylke"},
    "kommune": {"nb": "kommune", "en": "kommune"},
    "print_note": {"nb": "Skriv ut: ett tema per side.", "en": "Print: one topic per page."},
    "questions": {"nb": "Spørsmål om kommunen", "en": "Questions about the kommune"},
}
TEXT = {lang: {key: words[lang] for key, words in PHRASES.items()} for lang in LANGUAGES}


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
    meanings = STATUS_WORDS.get(provider, {})
    words = meanings.get(symbol) or meanings.get(symbol.strip())
    return words[lang] if words else GENERIC[lang].format(symbol=symbol)
