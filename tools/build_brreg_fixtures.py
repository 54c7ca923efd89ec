"""Build the constructed Brreg responses for the golden folders (deterministic; re-run after a
change and review `git diff golden/`):

    .venv/bin/python tools/build_brreg_fixtures.py

Every organisation here is invented (names, numbers, addresses); the *shapes* follow
SOURCE-FACTS §7 and the real search page in ../shared/realdata/brreg_enhetsregisteret/:
the bulk files are one JSON array pretty-printed the way Jackson does it (``[ {``, ``"key" :
value``, two-space indent, arrays inline), gzipped as a payload; the API (pages, feeds, search)
answers compact HAL JSON. See golden/brreg_*/README.md for what each folder exercises.

`jackson()` and `enhet()` are also used by benchmarks/brreg_bulk.py to generate a million
realistic records.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
API = "https://data.brreg.no/enhetsregisteret/api"
FRIVILLIG_API = "https://data.brreg.no/frivillighetsregisteret/api"
VENDOR = {
    "enheter": "application/vnd.brreg.enhetsregisteret.enhet.v2+gzip",
    "underenheter": "application/vnd.brreg.enhetsregisteret.underenhet.v2+gzip",
}
HAL_JSON = "application/hal+json;charset=UTF-8"


# --------------------------------------------------------------------------------------------
# Serialisation


def jackson(value, indent: int = 0) -> str:
    """JSON the way Jackson's DefaultPrettyPrinter writes it (Brreg's bulk files)."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{ }"
        members = [f"{pad}  {json.dumps(k, ensure_ascii=False)} : {jackson(v, indent + 1)}"
                   for k, v in value.items()]
        return "{\n" + ",\n".join(members) + "\n" + pad + "}"
    if isinstance(value, list):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(jackson(v, indent) for v in value) + " ]"
    return json.dumps(value, ensure_ascii=False)


def compact(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def gz(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"), mtime=0)


# --------------------------------------------------------------------------------------------
# Records


def mod11(first8: str) -> str:
    """A 9-digit organisasjonsnummer with a valid MOD11 check digit (invented numbers)."""
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    rest = sum(int(d) * w for d, w in zip(first8, weights)) % 11
    check = 0 if rest == 0 else 11 - rest
    if check == 10:
        raise ValueError(f"{first8}: no valid check digit; pick another number")
    return f"{first8}{check}"


ORGFORM = {
    "AS": "Aksjeselskap", "ENK": "Enkeltpersonforetak", "FLI": "Forening/lag/innretning",
    "STI": "Stiftelse", "SA": "Samvirkeforetak", "BEDR": "Underenhet til næringsdrivende og "
    "offentlig forvaltning", "AAFY": "Underenhet til ikke-næringsdrivende",
}


def address(adresse, postnummer, poststed, kommune, kommunenummer, land="Norge",
            landkode="NO") -> dict:
    out = {"land": land, "landkode": landkode}
    if postnummer:
        out["postnummer"] = postnummer
    if poststed:
        out["poststed"] = poststed
    out["adresse"] = list(adresse)
    if kommune:
        out["kommune"] = kommune
    if kommunenummer:
        out["kommunenummer"] = kommunenummer
    return out


def enhet(orgnr: str, navn: str, form: str, *, forretning: dict | None = None,
          post: dict | None = None, naering=("88.991", "Ikke-boligbaserte sosialtjenester ellers"),
          ansatte: int | None = 0, registrert="2001-05-14", stiftet: str | None = "2001-04-30",
          frivillig=False, konkurs=False, avvikling=False, sektor=("7000", "Ideelle organisasjoner"),
          aarsregnskap: str | None = None, aktivitet: list[str] | None = None,
          links: bool = False, **extra) -> dict:
    """An enhet in Brreg's field order (as in the real search page)."""
    rec: dict = {"organisasjonsnummer": orgnr, "navn": navn,
                 "organisasjonsform": {"kode": form, "beskrivelse": ORGFORM[form]}}
    if links:
        rec["organisasjonsform"]["_links"] = {
            "self": {"href": f"{API}/organisasjonsformer/{form}"}}
    if post:
        rec["postadresse"] = post
    rec["registreringsdatoEnhetsregisteret"] = registrert
    rec["registrertIMvaregisteret"] = form in ("AS", "SA")
    if naering:
        rec["naeringskode1"] = {"kode": naering[0], "beskrivelse": naering[1]}
    if ansatte is not None:
        rec["antallAnsatte"] = ansatte
        rec["harRegistrertAntallAnsatte"] = ansatte > 0
    if forretning:
        rec["forretningsadresse"] = forretning
    if stiftet:
        rec["stiftelsesdato"] = stiftet
    rec["institusjonellSektorkode"] = {"kode": sektor[0], "beskrivelse": sektor[1]}
    rec["registrertIForetaksregisteret"] = form in ("AS", "SA", "ENK")
    rec["registrertIStiftelsesregisteret"] = form == "STI"
    rec["registrertIFrivillighetsregisteret"] = frivillig
    if aarsregnskap:
        rec["sisteInnsendteAarsregnskap"] = aarsregnskap
    rec["konkurs"] = konkurs
    rec["underAvvikling"] = avvikling
    rec["underTvangsavviklingEllerTvangsopplosning"] = False
    rec["maalform"] = "Bokmål"
    if aktivitet:
        rec["aktivitet"] = aktivitet
    rec.update(extra)
    if links:
        rec["_links"] = {"self": {"href": f"{API}/enheter/{orgnr}"}}
    return rec


def underenhet(orgnr: str, navn: str, parent: str, form: str, beliggenhet: dict, *,
               naering=("88.911", "Barnehager"), ansatte: int | None = 4,
               oppstart="2010-08-01", nedlagt: str | None = None, links=False) -> dict:
    rec: dict = {"organisasjonsnummer": orgnr, "navn": navn,
                 "organisasjonsform": {"kode": form, "beskrivelse": ORGFORM[form]},
                 "registreringsdatoEnhetsregisteret": "2010-06-21",
                 "registrertIMvaregisteret": False,
                 "naeringskode1": {"kode": naering[0], "beskrivelse": naering[1]}}
    if ansatte is not None:
        rec["antallAnsatte"] = ansatte
        rec["harRegistrertAntallAnsatte"] = ansatte > 0
    rec["overordnetEnhet"] = parent
    rec["oppstartsdato"] = oppstart
    if nedlagt:
        rec["nedleggelsesdato"] = nedlagt
    rec["beliggenhetsadresse"] = beliggenhet
    if links:
        rec["_links"] = {"self": {"href": f"{API}/underenheter/{orgnr}"},
                         "overordnetEnhet": {"href": f"{API}/enheter/{parent}"}}
    return rec


# --------------------------------------------------------------------------------------------
# Cassettes


def write_cassette(folder: Path, entries: list[tuple[str, int, str, str, bytes]]) -> None:
    """entries: (url, status, content type, file name, body)."""
    (folder / "responses").mkdir(parents=True, exist_ok=True)
    index = []
    for url, status, ctype, name, body in entries:
        (folder / "responses" / name).write_bytes(body)
        headers = {"Content-Type": ctype}
        index.append({"method": "GET", "url": url, "status": status, "headers": headers,
                      "file": f"responses/{name}"})
    index.sort(key=lambda e: e["url"])
    (folder / "responses.json").write_text(
        json.dumps({"responses": index}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_case(folder: Path, spider: str, tables: list[str], args: dict | None = None) -> None:
    # Everything this builder writes is constructed: a test fixture, never a statistic.
    spec = {"spider": spider, "data_origin": "constructed", "args": args or {}, "tables": tables}
    (folder / "golden.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")


OSLO = ("OSLO", "0301")


def bulk_enheter() -> list[dict]:
    """Six organisations covering what the parser must keep exactly."""
    return [
        enhet(mod11("91000001"), "FJORDLYS BARNEHAGE SA", "SA",
              forretning=address(["Sjøgata 12"], "8006", "BODØ", "BODØ", "1804"),
              naering=("88.911", "Barnehager"), ansatte=23, aarsregnskap="2025"),
        # A name with the delimiters a CSV conversion once destroyed: a pipe, a quote, a
        # backslash and an escaped newline must survive byte for byte.
        enhet(mod11("91000002"), 'KORPS | "LYDEN" AV FROGNER \\ MAJORSTUA', "FLI",
              forretning=address(["c/o Hansen", "Bygdøy allé 5"], "0257", "OSLO", *OSLO),
              frivillig=True, ansatte=None, stiftet="1953-09-01",
              aktivitet=["Drive skolekorps for barn\nog unge i bydelen."]),
        enhet(mod11("91000003"), "HÁRSTTÁK SÁMI SEARVI", "FLI",
              forretning=address(["Postboks 44"], "9480", "HARSTAD", "HARSTAD", "5503"),
              frivillig=True, ansatte=None, sektor=("7000", "Ideelle organisasjoner")),
        # Only a postal address: no forretningsadresse, so no kommunenummer to place.
        enhet(mod11("91000004"), "STIFTELSEN LYSPUNKT", "STI",
              post=address(["Postboks 1200 Sentrum"], "5811", "BERGEN", "BERGEN", "4601"),
              ansatte=2, stiftet="2019-02-11"),
        enhet(mod11("91000005"), "NORDVEST HANDEL AS", "AS",
              forretning=address(["Industrivegen 3"], "6065", "ULSTEINVIK", "ULSTEIN", "1516"),
              naering=("47.190", "Butikkhandel med bredt vareutvalg ellers"),
              ansatte=0, konkurs=True, avvikling=True, konkursdato="2026-03-02",
              sektor=("2100", "Private aksjeselskaper mv."), aarsregnskap="2024"),
        # Registered in Norway, business address abroad (no kommune).
        enhet(mod11("91000006"), "SVENSK-NORSKA FÖRENINGEN I NORGE", "FLI",
              forretning=address(["Drottninggatan 7"], None, "STOCKHOLM", None, None,
                                 land="Sverige", landkode="SE"),
              frivillig=True, ansatte=None),
    ]


def build_enheter() -> None:
    folder = GOLDEN / "brreg_enheter"
    records = bulk_enheter()
    # One record whose organisasjonsnummer is damaged: it must land in quarantine.
    broken = dict(enhet("12345", "SKADET POST", "FLI", ansatte=None))
    text = jackson([*records, broken]) + "\n"
    write_cassette(folder, [(f"{API}/enheter/lastned", 200, "application/gzip",
                             "enheter_lastned_constructed.json.gz", gz(text))])
    write_case(folder, "brreg_enheter", ["brreg_enheter"])


def bulk_underenheter() -> list[dict]:
    parent = mod11("91000001")
    return [
        underenhet(mod11("97000001"), "FJORDLYS BARNEHAGE AVD MORKVED", parent, "BEDR",
                   address(["Morkvedlia 2"], "8026", "BODØ", "BODØ", "1804")),
        underenhet(mod11("97000004"), "FJORDLYS BARNEHAGE AVD HUNSTAD", parent, "BEDR",
                   address(["Hunstadringen 40"], "8029", "BODØ", "BODØ", "1804"), ansatte=0,
                   nedlagt="2025-06-30"),
        underenhet(mod11("97000003"), "KORPSLOKALET MAJORSTUA", mod11("91000002"), "AAFY",
                   address(["Jacob Aalls gate 9"], "0368", "OSLO", *OSLO), ansatte=None),
    ]


def build_underenheter() -> None:
    folder = GOLDEN / "brreg_underenheter"
    (folder / "responses").mkdir(parents=True, exist_ok=True)
    # Not gzipped: `-a file=` accepts a bulk file someone already unpacked.
    text = jackson(bulk_underenheter()) + "\n"
    (folder / "responses" / "underenheter_unpacked_constructed.json").write_text(
        text, encoding="utf-8")
    write_case(folder, "brreg_underenheter", ["brreg_underenheter"],
               {"file": "responses/underenheter_unpacked_constructed.json"})


def feed_page(feed: str, link: str, changes: list[tuple], *, start: int, size: int,
              total: int) -> bytes:
    base = f"{API}/oppdateringer/{feed}"
    links = {"self": {"href": f"{base}?oppdateringsid={start}&size={size}"}}
    if not changes:
        return compact({"_links": links,
                        "page": {"size": size, "totalElements": 0, "totalPages": 0,
                                 "number": 0}}).encode()
    key = "oppdaterteEnheter" if feed == "enheter" else "oppdaterteUnderenheter"
    items = [{"oppdateringsid": oid, "dato": dato, "organisasjonsnummer": orgnr,
              "endringstype": kind,
              "_links": {link: {"href": f"{API}/{feed}/{orgnr}"}}}
             for oid, dato, orgnr, kind in changes]
    pages = -(-total // size)
    links["next"] = {"href": f"{base}?oppdateringsid={start}&page=1&size={size}"}
    return compact({"_embedded": {key: items}, "_links": links,
                    "page": {"size": size, "totalElements": total, "totalPages": pages,
                             "number": 0}}).encode()


def search_page(kind: str, records: list[dict], url: str) -> bytes:
    page = {"_embedded": {kind: records}, "_links": {"self": {"href": url}},
            "page": {"size": len(records), "totalElements": len(records), "totalPages": 1,
                     "number": 0}}
    return compact(page).encode()


def build_oppdateringer() -> None:
    folder = GOLDEN / "brreg_oppdateringer"
    a, b, c, d, e, f = (mod11(f"9200000{i}") for i in range(1, 7))
    first = [
        (16427801, "2026-10-04T04:31:22.512Z", a, "Ny"),
        (16427802, "2026-10-04T05:02:10.001Z", b, "Endring"),
        (16427806, "2026-10-04T06:15:44.250Z", c, "Sletting"),
        (16427809, "2026-10-04T07:40:03.777Z", d, "Endring"),
        (16427810, "2026-10-04T07:41:00.000Z", d, "Sletting"),  # changed, then deleted
    ]
    second = [
        (16427815, "2026-10-04T09:12:30.100Z", e, "Endring"),
        (16427816, "2026-10-04T09:20:00.000Z", f, "Fjernet"),
        (16427820, "2026-10-04T10:05:59.999Z", b, "Endring"),
    ]
    size = 5
    new_a = enhet(a, "NY IDRETTSLAG TROMSDALEN", "FLI",
                  forretning=address(["Tromsdalsvegen 10"], "9020", "TROMSDALEN", "TROMSØ",
                                     "5501"), frivillig=False, ansatte=None, links=True,
                  registrert="2026-10-03", stiftet="2026-09-20",
                  naering=("93.120", "Idrettslag og -klubber"))
    changed_b = enhet(b, "ELVEBREDDEN SKOLEFRITIDSORDNING SA", "SA",
                      forretning=address(["Elvegata 1"], "3015", "DRAMMEN", "DRAMMEN", "3301"),
                      ansatte=12, links=True, naering=("88.911", "Barnehager"))
    changed_e = enhet(e, "VESTLANDSKE HJELPEKORPS", "FLI",
                      forretning=address(["Kaigaten 4"], "5015", "BERGEN", "BERGEN", "4601"),
                      frivillig=True, ansatte=None, links=True)
    search1 = f"{API}/enheter?organisasjonsnummer={a},{b}&size=2"
    search2 = f"{API}/enheter?organisasjonsnummer={e},{b}&size=2"
    entries = [
        (f"{API}/oppdateringer/enheter?oppdateringsid=16427801&size={size}", 200, HAL_JSON,
         "feed_16427801_constructed.json",
         feed_page("enheter", "enhet", first, start=16427801, size=size, total=8)),
        (f"{API}/oppdateringer/enheter?oppdateringsid=16427811&size={size}", 200, HAL_JSON,
         "feed_16427811_constructed.json",
         feed_page("enheter", "enhet", second, start=16427811, size=size, total=3)),
        (f"{API}/oppdateringer/enheter?oppdateringsid=16427821&size={size}", 200, HAL_JSON,
         "feed_16427821_caught_up_constructed.json",
         feed_page("enheter", "enhet", [], start=16427821, size=size, total=0)),
        (search1, 200, HAL_JSON, "search_1_constructed.json",
         search_page("enheter", [new_a, changed_b], search1)),
        # b was changed again; e is found; the same b comes back with a new address.
        (search2, 200, HAL_JSON, "search_2_constructed.json",
         search_page("enheter", [changed_e, {**changed_b, "forretningsadresse": address(
             ["Bragernes torg 2"], "3017", "DRAMMEN", "DRAMMEN", "3301")}], search2)),
    ]
    write_cassette(folder, entries)
    write_case(folder, "brreg_oppdateringer",
               ["brreg_oppdateringer", "brreg_enheter", "brreg_feed_cursor"],
               {"oppdateringsid": "16427801", "size": str(size)})


def build_underenheter_oppdateringer() -> None:
    folder = GOLDEN / "brreg_underenheter_oppdateringer"
    a, b = mod11("97000011"), mod11("97000012")
    parent = mod11("91000001")
    changes = [
        (21390731, "2026-10-04T03:05:00.000Z", a, "Ny"),
        (21390735, "2026-10-04T08:45:12.345Z", b, "Fjernet"),
    ]
    seed = f"{API}/oppdateringer/underenheter?dato=2026-10-04T00:00:00.000Z&size=1"
    search = f"{API}/underenheter?organisasjonsnummer={a}&size=1"
    new_a = underenhet(a, "FJORDLYS BARNEHAGE AVD SALTVERN", parent, "BEDR",
                       address(["Saltvernveien 5"], "8008", "BODØ", "BODØ", "1804"),
                       oppstart="2026-10-01", links=True)
    entries = [
        (seed, 200, HAL_JSON, "seed_dato_2026-10-04_constructed.json",
         feed_page("underenheter", "underenhet", changes[:1], start=0, size=1, total=2)),
        (f"{API}/oppdateringer/underenheter?oppdateringsid=21390731&size=10000", 200, HAL_JSON,
         "feed_21390731_constructed.json",
         feed_page("underenheter", "underenhet", changes, start=21390731, size=10000,
                   total=2)),
        (f"{API}/oppdateringer/underenheter?oppdateringsid=21390736&size=10000", 200, HAL_JSON,
         "feed_21390736_caught_up_constructed.json",
         feed_page("underenheter", "underenhet", [], start=21390736, size=10000, total=0)),
        (search, 200, HAL_JSON, "search_constructed.json",
         search_page("underenheter", [new_a], search)),
    ]
    write_cassette(folder, entries)
    write_case(folder, "brreg_underenheter_oppdateringer",
               ["brreg_underenheter_oppdateringer", "brreg_underenheter", "brreg_feed_cursor"],
               {"dato": "2026-10-04"})


def frivillig(orgnr: str, categories: list[tuple[str, str, str, int]], *, status="Aktiv",
              grasrot=True) -> dict:
    return {
        "organisasjonsnummer": orgnr,
        "frivilligOrganisasjonsstatus": status,
        "innfoertDato": "2015-03-02",
        "foersteGangInnfoert": "2009-11-20",
        "grasrotandel": {"deltarI": grasrot},
        "regnskapsrapportering": {"harPaatattSegRapporteringsplikt": False},
        "vedtekter": {"frivilligRegistrerteVedtekter": True,
                      "sistOppdaterteVedtekter": "2021-06-01"},
        "icnpoKategorier": [{"kategori": k, "icnpoNummer": n, "navn": name, "rekkefoelge": r}
                            for n, k, name, r in categories],
        "_links": {"self": {"href": f"{FRIVILLIG_API}/frivillige-organisasjoner/{orgnr}"},
                   "enhet": {"href": f"{API}/enheter/{orgnr}"}},
    }


def build_frivillige() -> None:
    folder = GOLDEN / "brreg_frivillige"
    korps, samisk, svensk = mod11("91000002"), mod11("91000003"), mod11("91000006")
    extra = mod11("93000001")
    music = ("2100", "ICNPOKategori.kunstOgKultur", "Kunst og kultur")
    child = ("4100", "ICNPOKategori.sosialeTjenester", "Sosiale tjenester")
    intl = ("9100", "ICNPOKategori.internasjonaleOrganisasjoner", "Internasjonale organisasjoner")
    sport = ("1200", "ICNPOKategori.idrett", "Idrett")
    page1 = [
        # Categories out of order on purpose: rekkefoelge, not position, gives the order.
        frivillig(korps, [(*child, 2), (*music, 1)]),
        frivillig(samisk, [(*music, 1)], grasrot=False),
    ]
    page2 = [
        frivillig(svensk, [(*intl, 1), (*music, 2), (*sport, 3)]),
        # In Frivillighetsregisteret but not (yet) in the enheter table: the view keeps it.
        frivillig(extra, [(*sport, 1)], status="Aktiv"),
    ]
    base = f"{FRIVILLIG_API}/frivillige-organisasjoner"
    first = f"{base}?size=100"
    second = f"{base}?size=100&searchAfter={samisk}"

    def page(records, url, nxt):
        links = {"self": {"href": url}}
        if nxt:
            links["next"] = {"href": nxt}
        return compact({"_embedded": {"frivilligeOrganisasjoner": records},
                        "_links": links}).encode()

    entries = [
        (first, 200, HAL_JSON, "page_1_constructed.json", page(page1, first, second)),
        (second, 200, HAL_JSON, "page_2_constructed.json", page(page2, second, None)),
    ]
    write_cassette(folder, entries)
    write_case(folder, "brreg_frivillige", ["brreg_frivillige", "brreg_frivillige_icnpo"])


def main() -> None:
    build_enheter()
    build_underenheter()
    build_oppdateringer()
    build_underenheter_oppdateringer()
    build_frivillige()


if __name__ == "__main__":
    main()
