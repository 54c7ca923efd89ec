"""Valgdirektoratet's election results API (valgresultat.no): one answer per area.

Pure parsing, bytes in, rows out. Facts the parser is built on (real answers in
golden/valgresultat*/, archived by HNygard/valgresultat.no-copy):

- `GET https://valgresultat.no/api/{year}/{valgtype}` answers for the whole country, `/{fylke}`
  for a fylke, `/{fylke}/{kommune}` for a kommune (`valgtype` st, k, f). `id` says which
  (`valgaar`, `valgtype` upper-case, `nivaa` land/fylke/kommune, `nr` "0"/"03"/"0301");
  `_links.related` lists the areas one level down (href relative to `/api`).
- Turnout: `antallsb` (persons entitled to vote), `stemmer.total`/`fhs` (votes, of which
  advance votes), `frammote.prosent`. Party results in `partier[]`: `id.partikode`, `navn`,
  `partikategori` (1 national party, 2 other list, 3 blank votes / local lists, 0 sums of
  "others"), `stemmer.resultat.antall.total`/`fhs`, `prosent`, `fhsProsent`, `vtsProsent`,
  `endring.samme` (change in percentage points since the previous election of the same kind).
- The count's progress: answers from 2025 carry `opptellingsStatus` (per phase `forste`,
  `andre`, `oppgjor` and kind of polling place: `status` null / "paagaar" / "ferdig", `ferdig`
  of `totalt`); older answers carry `opptalt` (percent counted: `forelopig`, `endelig`,
  `oppgjor`). Before counting every number is 0 and every status null: nothing to store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

API_ROOT = "https://valgresultat.no/api"
VALGTYPER = {"st": "stortingsvalg", "k": "kommunestyrevalg", "f": "fylkestingsvalg"}

PRECOUNT = "ikke_startet"  # nothing counted yet: no result
PROVISIONAL = "paagaar"  # counting: stored, replaced by a later answer
FINAL = "ferdig"  # every phase of the count is done


class ValgresultatError(ValueError):
    """An answer that is not a valgresultat area answer; the message names the field."""


@dataclass(frozen=True)
class Area:
    year: int
    valgtype: str  # lower-case, as in the URL: st, k, f
    level: str  # land, fylke, kommune (as the API says in id.nivaa)
    nr: str  # "0", "03", "0301"
    name: str
    count_status: str
    stemmeberettigede: int | None
    stemmer: int | None
    stemmer_fhs: int | None
    forkastede: int | None
    frammote_prosent: float | None
    mandater: int | None
    rapport_generert: str | None
    siste_stemmer: str | None


@dataclass(frozen=True)
class PartyResult:
    partikode: str
    partinavn: str
    partikategori: int | None
    stemmer: int | None
    stemmer_fhs: int | None
    prosent: float | None
    prosent_fhs: float | None
    prosent_vts: float | None
    endring_prosentpoeng: float | None


@dataclass(frozen=True)
class Answer:
    area: Area
    parties: list[PartyResult]
    related: list[str]  # hrefs of the areas one level down, relative to API_ROOT

    @property
    def counted(self) -> bool:
        return self.area.count_status != PRECOUNT


def area_url(year: int | str, valgtype: str, *codes: str) -> str:
    return "/".join([API_ROOT, str(year), valgtype.lower(), *codes])


def count_status(doc: dict) -> str:
    """ikke_startet, paagaar or ferdig, from either generation of the answer."""
    votes = (doc.get("stemmer") or {}).get("total") or 0
    phases = doc.get("opptellingsStatus")
    if isinstance(phases, dict):
        parts = [p for phase in ("forste", "andre", "oppgjor")
                 for p in (phases.get(phase) or {}).values() if isinstance(p, dict)]
        statuses = [p.get("status") for p in parts if (p.get("totalt") or 0) > 0]
        if not votes and not any(statuses):
            return PRECOUNT
        if statuses and all(s == FINAL for s in statuses):
            return FINAL
        return PROVISIONAL
    counted = doc.get("opptalt")
    if isinstance(counted, dict):
        if (counted.get("endelig") or 0) >= 100:
            return FINAL
        if not votes and not any(counted.get(k) for k in ("forelopig", "forelopigFhs",
                                                            "forelopigVts")):
            return PRECOUNT
        return PROVISIONAL
    return PRECOUNT if not votes else PROVISIONAL


def _int(value) -> int | None:
    return None if value is None else int(value)


def _float(value) -> float | None:
    return None if value is None else float(value)


def parse_answer(data: bytes | str | dict, where: str = "<answer>") -> Answer:
    """One area answer. A missing `id` or a non-JSON body raises ValgresultatError."""
    if isinstance(data, dict):
        doc = data
    else:
        try:
            doc = json.loads(data.decode("utf-8-sig") if isinstance(data, bytes) else data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValgresultatError(f"{where}: not a JSON answer: {exc}") from None
    ident = doc.get("id") if isinstance(doc, dict) else None
    if not isinstance(ident, dict) or not all(ident.get(k) for k in ("valgaar", "valgtype",
                                                                      "nivaa", "nr")):
        raise ValgresultatError(f"{where}: field 'id': expected valgaar, valgtype, nivaa and nr, "
                                f"found {ident!r}")
    status = count_status(doc)
    votes = doc.get("stemmer") or {}
    turnout = doc.get("frammote") or {}
    when = doc.get("tidspunkt") or {}
    area = Area(
        year=int(ident["valgaar"]), valgtype=str(ident["valgtype"]).lower(),
        level=str(ident["nivaa"]), nr=str(ident["nr"]), name=str(ident.get("navn") or ""),
        count_status=status,
        stemmeberettigede=_int(doc.get("antallsb")),
        stemmer=_int(votes.get("total")), stemmer_fhs=_int(votes.get("fhs")),
        forkastede=_int(votes.get("totalForkastede")),
        frammote_prosent=_float(turnout.get("prosent")),
        mandater=_int((doc.get("mandater") or {}).get("antall")),
        rapport_generert=when.get("rapportGenerert"), siste_stemmer=when.get("sisteStemmer"))
    parties = []
    for n, party in enumerate(doc.get("partier") or []):
        pid = party.get("id") or {}
        if not pid.get("partikode"):
            raise ValgresultatError(f"{where}: partier[{n}]: field 'id.partikode' is missing")
        result = (party.get("stemmer") or {}).get("resultat") or {}
        count = result.get("antall") or {}
        parties.append(PartyResult(
            partikode=str(pid["partikode"]), partinavn=str(pid.get("navn") or ""),
            partikategori=_int(pid.get("partikategori")),
            stemmer=_int(count.get("total")), stemmer_fhs=_int(count.get("fhs")),
            prosent=_float(result.get("prosent")), prosent_fhs=_float(result.get("fhsProsent")),
            prosent_vts=_float(result.get("vtsProsent")),
            endring_prosentpoeng=_float((result.get("endring") or {}).get("samme"))))
    related = [str(r["href"]) for r in ((doc.get("_links") or {}).get("related") or [])
               if isinstance(r, dict) and r.get("href")]
    return Answer(area, parties, related)
