"""Brønnøysundregistrene: Enhetsregisteret (enheter, underenheter, the change feeds) and
Frivillighetsregisteret, as rows.

Pure: bytes or text streams in, row tuples out. Facts this is built on (SOURCE-FACTS §7, and the
real search page in ``realdata/brreg_enhetsregisteret/``):

- the bulk files (``/enheter/lastned``, ``/underenheter/lastned``) are one pretty-printed JSON
  array, gzipped as a payload; the API's list pages are HAL objects with the records under
  ``_embedded.<key>``, and leave ``_embedded`` out altogether when a page is empty;
- ``organisasjonsnummer`` is a 9-character string (leading zeros matter);
- a record is kept byte for byte as received in ``doc``; the fields analysts filter on are also
  columns, named as Brreg names them (nested fields flattened with ``_``:
  ``forretningsadresse_kommunenummer``);
- the change feeds list ``{oppdateringsid, dato, organisasjonsnummer, endringstype}`` under
  ``_embedded.oppdaterteEnheter`` / ``oppdaterteUnderenheter``; ``Sletting`` and ``Fjernet``
  are deletions (a deleted entity may still answer HTTP 200, so the type decides, never the
  status);
- Frivillighetsregisteret lists ``_embedded.frivilligeOrganisasjoner`` with ICNPO categories
  ``{icnpoNummer, kategori, navn, rekkefoelge}`` in no guaranteed order.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import IO, Any

from atlas_crawl.formats.jsonstream import JsonStreamError, iter_array, open_text, peek_kind

API = "https://data.brreg.no/enhetsregisteret/api"
FRIVILLIG_API = "https://data.brreg.no/frivillighetsregisteret/api"
ORGNR = re.compile(r"^\d{9}$")
DELETIONS = frozenset({"Sletting", "Fjernet"})
CHANGE_TYPES = frozenset({"Ny", "Endring", "Sletting", "Fjernet", "Ukjent"})


class BrregFormatError(ValueError):
    """A Brreg response that is not shaped as documented; the message names file and place."""


class BadRecord(ValueError):
    """One record that cannot be stored (kept in quarantine with this reason)."""

    def __init__(self, reason: str, column: str = "organisasjonsnummer", raw_value: Any = None):
        super().__init__(reason)
        self.reason = reason
        self.column = column
        self.raw_value = raw_value


# --------------------------------------------------------------------------------------------
# Field specs: which columns a record becomes


def _text(v: Any) -> Any:
    return v if v is None or isinstance(v, str) else str(v)


def _flag(v: Any) -> Any:
    return int(v) if isinstance(v, bool) else v


def _count(v: Any) -> Any:
    return v if v is None or isinstance(v, int) and not isinstance(v, bool) else None


def _lines(v: Any) -> Any:
    if isinstance(v, list):
        return ", ".join(str(x) for x in v if x is not None)
    return _text(v)


CONVERT = {"text": _text, "flag": _flag, "int": _count, "lines": _lines}
SQL_TYPE = {"text": str, "flag": int, "int": int, "lines": str}


@dataclass(frozen=True)
class Field:
    column: str
    key: str
    sub: str | None = None
    kind: str = "text"


def F(spec: str, kind: str = "text") -> Field:
    """``"forretningsadresse.kommunenummer"`` -> column ``forretningsadresse_kommunenummer``."""
    key, _, sub = spec.partition(".")
    return Field(spec.replace(".", "_"), key, sub or None, kind)


@dataclass(frozen=True)
class RecordSpec:
    """How one kind of record (an enhet, an underenhet, ...) becomes a row."""

    kind: str
    embedded: str  # key under _embedded in the API's list pages
    fields: tuple[Field, ...]

    @property
    def columns(self) -> list[str]:
        return ["organisasjonsnummer", *(f.column for f in self.fields), "doc"]

    @property
    def types(self) -> dict[str, type]:
        return {f.column: SQL_TYPE[f.kind] for f in self.fields}

    def row(self, raw: str, rec: Any) -> tuple:
        """The row for one record; raises :class:`BadRecord`."""
        if not isinstance(rec, dict):
            raise BadRecord(f"not a JSON object but {type(rec).__name__}", "doc", raw[:200])
        orgnr = rec.get("organisasjonsnummer")
        if not isinstance(orgnr, str) or not ORGNR.match(orgnr):
            raise BadRecord(f"organisasjonsnummer {orgnr!r} is not a 9-digit string",
                            raw_value=None if orgnr is None else str(orgnr))
        out: list[Any] = [orgnr]
        append = out.append
        get = rec.get
        for f in self.fields:
            v = get(f.key)
            if f.sub is not None:
                v = v.get(f.sub) if isinstance(v, dict) else None
            append(CONVERT[f.kind](v))
        append(raw)
        return tuple(out)


#: The organisation form and industry (NACE) fields every entity has.
_FORM_AND_INDUSTRY = (F("organisasjonsform.kode"), F("organisasjonsform.beskrivelse"),
                      F("naeringskode1.kode"), F("naeringskode1.beskrivelse"),
                      F("naeringskode2.kode"), F("naeringskode3.kode"))
#: The postal address: no street lines and no kommune name.
_POSTADRESSE = (F("postadresse.postnummer"), F("postadresse.poststed"),
                F("postadresse.kommunenummer"), F("postadresse.landkode"))


def _address(name: str) -> tuple[Field, ...]:
    """The fields of an entity's street address (forretningsadresse, beliggenhetsadresse)."""
    return (F(f"{name}.adresse", "lines"), F(f"{name}.postnummer"), F(f"{name}.poststed"),
            F(f"{name}.kommune"), F(f"{name}.kommunenummer"), F(f"{name}.landkode"))


ENHET = RecordSpec("enhet", "enheter", (
    F("navn"),
    *_FORM_AND_INDUSTRY,
    F("institusjonellSektorkode.kode"), F("institusjonellSektorkode.beskrivelse"),
    F("antallAnsatte", "int"),
    *_address("forretningsadresse"), *_POSTADRESSE,
    F("registreringsdatoEnhetsregisteret"), F("stiftelsesdato"),
    F("registrertIFrivillighetsregisteret", "flag"), F("registrertIMvaregisteret", "flag"),
    F("registrertIForetaksregisteret", "flag"), F("registrertIStiftelsesregisteret", "flag"),
    F("konkurs", "flag"), F("konkursdato"),
    F("underAvvikling", "flag"), F("underAvviklingDato"),
    F("underTvangsavviklingEllerTvangsopplosning", "flag"),
    F("slettedato"), F("overordnetEnhet"), F("hjemmeside"), F("maalform"),
    F("sisteInnsendteAarsregnskap"),
))

UNDERENHET = RecordSpec("underenhet", "underenheter", (
    F("navn"), F("overordnetEnhet"),
    *_FORM_AND_INDUSTRY,
    F("antallAnsatte", "int"),
    *_address("beliggenhetsadresse"), *_POSTADRESSE,
    F("registreringsdatoEnhetsregisteret"), F("oppstartsdato"), F("datoEierskifte"),
    F("nedleggelsesdato"), F("slettedato"),
    F("registrertIMvaregisteret", "flag"), F("hjemmeside"),
))

FRIVILLIG = RecordSpec("frivillig organisasjon", "frivilligeOrganisasjoner", (
    F("frivilligOrganisasjonsstatus"), F("innfoertDato"), F("foersteGangInnfoert"),
    F("grasrotandel.deltarI", "flag"),
    F("vedtekter.frivilligRegistrerteVedtekter", "flag"),
    F("regnskapsrapportering.harPaatattSegRapporteringsplikt", "flag"),
))

SPECS = {"enheter": ENHET, "underenheter": UNDERENHET}
#: Columns the change feed owns on the entity tables (the bulk files cannot express deletion).
DELETION_COLUMNS = ["organisasjonsnummer", "slettet", "deleted_at", "slettet_endringstype"]
DELETION_TYPES = {"slettet": int}


# --------------------------------------------------------------------------------------------
# Reading records


def iter_records(source: IO[bytes], spec: RecordSpec, *, name: str = "<file>",
                 ) -> Iterator[tuple[str, Any]]:
    """``(raw, record)`` for every record in a bulk file (a JSON array, gzipped or not) or in a
    saved API page (``_embedded.<key>``, no ``_embedded`` when empty, or one entity as fetched
    from ``/enheter/{orgnr}``). The array is streamed; pages are small and read whole."""
    kind, text = peek_kind(open_text(source), name=name)
    if kind == "array":
        count = 0
        for count, record in enumerate(iter_array(text, (), name=name), 1):
            yield record
        if not count:
            # An empty bulk file is a broken delivery, never "Norway has no organisations"
            # (an API page with no hits is a valid empty answer, below).
            raise BrregFormatError(f"{name}: the bulk file holds no records (an empty array); "
                                   "nothing stored, the previous data is kept")
        return
    body = text.read()
    try:
        page = json.loads(body)
    except json.JSONDecodeError as exc:
        raise BrregFormatError(f"{name}: not valid JSON: {exc}") from None
    embedded = page.get("_embedded")
    if embedded is None:
        if "organisasjonsnummer" in page:  # a single entity
            yield body.strip(), page
        elif "page" not in page and "_links" not in page:
            raise BrregFormatError(f"{name}: neither a bulk array, an API page nor an entity; "
                                   f"top-level keys {sorted(page)[:10]}")
        return
    if not isinstance(embedded, dict) or spec.embedded not in embedded:
        keys = sorted(embedded) if isinstance(embedded, dict) else type(embedded).__name__
        raise BrregFormatError(f"{name}: _embedded has {keys}, expected {spec.embedded!r} "
                               f"(is this a page of another register?)")
    yield from iter_array(io.StringIO(body), ("_embedded", spec.embedded), name=name)


@dataclass
class Chunk:
    rows: list[tuple]
    problems: list[BadRecord]


def chunks(records: Iterable[tuple[str, Any]], row: Callable[[str, Any], tuple], *,
           size: int) -> Iterator[Chunk]:
    """Rows in chunks of ``size``, with the records that could not become rows alongside."""
    rows: list[tuple] = []
    problems: list[BadRecord] = []
    for raw, rec in records:
        try:
            rows.append(row(raw, rec))
        except BadRecord as bad:
            problems.append(bad)
        if len(rows) >= size:
            yield Chunk(rows, problems)
            rows, problems = [], []
    if rows or problems:
        yield Chunk(rows, problems)


def read_page(body: bytes, *, name: str = "<page>") -> dict:
    """A small API page as a dict (for its ``_links`` and ``page`` blocks)."""
    try:
        page = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BrregFormatError(f"{name}: not valid JSON: {exc}") from None
    if not isinstance(page, dict):
        raise BrregFormatError(f"{name}: expected a JSON object, found {type(page).__name__}")
    return page


def page_records(body: bytes, key: str, *, name: str = "<page>") -> list[tuple[str, Any]]:
    """``(raw, record)`` under ``_embedded.<key>`` of a page (empty when ``_embedded`` is absent)."""
    return list(iter_array(open_text(io.BytesIO(body)), ("_embedded", key), name=name))


def next_link(page: dict) -> str | None:
    link = (page.get("_links") or {}).get("next")
    return link.get("href") if isinstance(link, dict) else None


# --------------------------------------------------------------------------------------------
# The change feeds


@dataclass(frozen=True)
class Feed:
    """One of the two change feeds; they differ in names only, and reading the wrong names
    silently reads as "caught up" forever, so each feed names its own."""

    name: str  # enheter | underenheter
    embedded: str
    link: str
    spec: RecordSpec

    @property
    def url(self) -> str:
        return f"{API}/oppdateringer/{self.name}"


FEEDS = {
    "enheter": Feed("enheter", "oppdaterteEnheter", "enhet", ENHET),
    "underenheter": Feed("underenheter", "oppdaterteUnderenheter", "underenhet", UNDERENHET),
}
FEED_COLUMNS = ["oppdateringsid", "dato", "organisasjonsnummer", "endringstype"]
FEED_TYPES = {"oppdateringsid": int}


@dataclass(frozen=True)
class Change:
    oppdateringsid: int
    dato: str
    organisasjonsnummer: str
    endringstype: str

    @property
    def is_deletion(self) -> bool:
        return self.endringstype in DELETIONS

    def row(self) -> tuple:
        return (self.oppdateringsid, self.dato, self.organisasjonsnummer, self.endringstype)


@dataclass
class FeedPage:
    changes: list[Change]
    caught_up: bool  # no _embedded: the feed has nothing at or after the requested id
    total: int | None  # page.totalElements: the backlog from the requested id on
    problems: list[BadRecord]


def read_feed_page(body: bytes, feed: Feed, *, name: str = "<feed page>") -> FeedPage:
    page = read_page(body, name=name)
    total = (page.get("page") or {}).get("totalElements")
    embedded = page.get("_embedded")
    if embedded is None:
        return FeedPage([], True, total, [])
    items = embedded.get(feed.embedded) if isinstance(embedded, dict) else None
    if not isinstance(items, list):
        keys = sorted(embedded) if isinstance(embedded, dict) else embedded
        raise BrregFormatError(f"{name}: _embedded has {keys}, expected {feed.embedded!r} "
                               f"for the {feed.name} feed")
    changes, problems = [], []
    for item in items:
        try:
            changes.append(_change(item))
        except BadRecord as bad:
            problems.append(bad)
    return FeedPage(changes, not changes and not problems, total, problems)


def _change(item: Any) -> Change:
    if not isinstance(item, dict):
        raise BadRecord(f"feed item is not an object: {item!r}", "oppdateringsid")
    oid = item.get("oppdateringsid")
    if not isinstance(oid, int) or isinstance(oid, bool):
        raise BadRecord(f"oppdateringsid {oid!r} is not an integer", "oppdateringsid",
                        None if oid is None else str(oid))
    orgnr = item.get("organisasjonsnummer")
    if not isinstance(orgnr, str) or not ORGNR.match(orgnr):
        raise BadRecord(f"organisasjonsnummer {orgnr!r} is not a 9-digit string",
                        raw_value=None if orgnr is None else str(orgnr))
    kind = item.get("endringstype")
    if kind not in CHANGE_TYPES:
        raise BadRecord(f"unknown endringstype {kind!r} (known: {sorted(CHANGE_TYPES)})",
                        "endringstype", None if kind is None else str(kind))
    return Change(oid, str(item.get("dato") or ""), orgnr, kind)


@dataclass
class Plan:
    """What a page of changes asks for: entities to fetch again, and deletions to record."""

    fetch: list[str]
    deletions: list[Change]


def plan_changes(changes: Iterable[Change]) -> Plan:
    """The last change per organisation decides (a Ny followed by a Sletting is a deletion)."""
    last: dict[str, Change] = {}
    for change in sorted(changes, key=lambda c: c.oppdateringsid):
        last[change.organisasjonsnummer] = change
    fetch = [c.organisasjonsnummer for c in last.values() if not c.is_deletion]
    deletions = [c for c in last.values() if c.is_deletion]
    return Plan(fetch, deletions)


def deletion_row(change: Change) -> tuple:
    return (change.organisasjonsnummer, 1, change.dato, change.endringstype)


def search_url(kind: str, orgnrs: Iterable[str]) -> str:
    """One search call for up to 100 organisations: ``/enheter?organisasjonsnummer=a,b&size=2``."""
    numbers = list(orgnrs)
    return f"{API}/{kind}?organisasjonsnummer={','.join(numbers)}&size={len(numbers)}"


def feed_url(feed: Feed, oppdateringsid: int, size: int) -> str:
    return f"{feed.url}?oppdateringsid={oppdateringsid}&size={size}"


def feed_seed_url(feed: Feed, dato: str) -> str:
    """The first change on or after 00:00 UTC of ``dato`` (YYYY-MM-DD)."""
    day = datetime.strptime(dato, "%Y-%m-%d").date()
    return f"{feed.url}?dato={day.isoformat()}T00:00:00.000Z&size=1"


# --------------------------------------------------------------------------------------------
# Frivillighetsregisteret

ICNPO_COLUMNS = ["organisasjonsnummer", "rekkefoelge", "icnpoNummer", "kategori", "navn"]
ICNPO_TYPES = {"rekkefoelge": int}
FRIVILLIG_EXTRA = ["icnpo_primaer"]


def frivillig_rows(raw: str, rec: Any) -> tuple[tuple, list[tuple], list[BadRecord]]:
    """The organisation's row (with its primary ICNPO number), its category rows keyed by
    (orgnr, rekkefoelge), and categories that could not be keyed."""
    row = FRIVILLIG.row(raw, rec)
    orgnr = row[0]
    categories, problems = [], []
    seen: set[int] = set()
    primary = None
    for cat in rec.get("icnpoKategorier") or []:
        order = cat.get("rekkefoelge") if isinstance(cat, dict) else None
        if not isinstance(order, int) or isinstance(order, bool) or order in seen:
            why = "repeated" if order in seen else "missing or not an integer"
            problems.append(BadRecord(f"{orgnr}: ICNPO category rekkefoelge {order!r} is {why}",
                                      "rekkefoelge", json.dumps(cat, ensure_ascii=False)))
            continue
        seen.add(order)
        categories.append((orgnr, order, _text(cat.get("icnpoNummer")),
                           _text(cat.get("kategori")), _text(cat.get("navn"))))
        if order == 1:
            primary = _text(cat.get("icnpoNummer"))
    categories.sort(key=lambda c: c[1])
    # doc stays last: the primary category goes just before it
    return (*row[:-1], primary, row[-1]), categories, problems


FRIVILLIG_COLUMNS = [*FRIVILLIG.columns[:-1], *FRIVILLIG_EXTRA, "doc"]


def frivillige_url(size: int) -> str:
    if not 1 <= size <= 100:
        raise ValueError(f"Frivillighetsregisteret pages hold 1 to 100 records, not {size}")
    return f"{FRIVILLIG_API}/frivillige-organisasjoner?size={size}"


# --------------------------------------------------------------------------------------------
# Headers

_JAVA_DATE = re.compile(
    r"^\w{3} (?P<mon>\w{3}) (?P<day>\d{1,2}) (?P<time>\d{2}:\d{2}:\d{2}) (?P<tz>[A-Z]{2,5}) "
    r"(?P<year>\d{4})$")
_ZONES = {"UTC": 0, "GMT": 0, "CET": 1, "CEST": 2}


def parse_last_modified(value: str | bytes | None) -> str | None:
    """Brreg's ``Last-Modified`` is Java's ``Date.toString()`` (``Sat Oct 03 04:30:43 CEST
    2026``), not an HTTP date; both are read. ISO 8601 with offset, or None."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    m = _JAVA_DATE.match(text)
    if m and m["tz"] in _ZONES:
        when = datetime.strptime(f"{m['year']} {m['mon']} {m['day']} {m['time']}",
                                 "%Y %b %d %H:%M:%S")
        return when.replace(tzinfo=timezone(timedelta(hours=_ZONES[m["tz"]]))).isoformat()
    try:
        return parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError):
        return None


__all__ = [
    "API",
    "ENHET",
    "FEEDS",
    "FRIVILLIG",
    "UNDERENHET",
    "BadRecord",
    "BrregFormatError",
    "Change",
    "JsonStreamError",
    "chunks",
    "iter_records",
    "parse_last_modified",
    "plan_changes",
    "read_feed_page",
]
