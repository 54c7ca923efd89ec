"""Helsedirektoratet's API (HAPI): the national quality indicators (NKI).

Pure parsing, bytes in, rows out. The shape is taken from public clients of the API (R and
TypeScript code that reads it; Helsedirektoratet's own reference sits behind the developer
portal's sign-in), not from a capture:

- `GET https://api.helsedirektoratet.no/innhold/nki/kvalitetsindikatorer/` with the header
  `Ocp-Apim-Subscription-Key` lists the indicators: `[{id, tittel, attachments: [{fileName,
  fileType, fileUri}]}]`; the data of an indicator is the attachment of type application/json;
- that attachment (same key) is `{"AttachmentDataRows": [{QualityIndicatorName, MeasureName,
  MeasureType, PeriodType ("Årlig", "Tertialvis", ...), TimeFrom, TimeTo, LocationName,
  ParentName, LocationParentId, Value}]}`; a Value of -10,000,000 means "no data".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

INDEX_URL = "https://api.helsedirektoratet.no/innhold/nki/kvalitetsindikatorer/"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
NO_DATA = -1e7
NO_DATA_STATUS = "ingen data"
HOW_TO_GET_A_KEY = (
    "needs a HAPI subscription key: sign up at https://utvikler.helsedirektoratet.no "
    "(Helsedirektoratets API-tjeneste, free, NLOD), then set ATLAS_HELSEDIR_KEY in the "
    "environment or pass -s ATLAS_HELSEDIR_KEY=<key>")

COLUMNS = ["indicator_id", "indicator_title", "measure_name", "measure_type", "period_type",
           "time_from", "time_to", "periode", "location_name", "parent_name",
           "location_parent_id", "value", "status"]
KEY = ["indicator_id", "measure_name", "measure_type", "period_type", "time_from",
       "location_name", "parent_name"]


class HelsedirError(ValueError):
    """An answer the parser cannot use; the message names the field."""


@dataclass(frozen=True)
class Indicator:
    id: str
    title: str
    data_url: str


def _load(data: bytes | str) -> object:
    try:
        return json.loads(data.decode("utf-8-sig") if isinstance(data, bytes) else data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HelsedirError(f"not JSON: {exc}") from None


def parse_index(data: bytes | str, where: str = "<index>") -> list[Indicator]:
    """Indicators with a JSON attachment; the others (PDF only) are left out."""
    doc = _load(data)
    if not isinstance(doc, list):
        raise HelsedirError(f"{where}: expected a list of indicators, found {type(doc).__name__}")
    out = []
    for n, item in enumerate(doc):
        if not isinstance(item, dict) or item.get("id") in (None, ""):
            raise HelsedirError(f"{where}: item {n}: field 'id' is missing")
        attachment = next((a for a in item.get("attachments") or []
                           if isinstance(a, dict) and a.get("fileType") == "application/json"
                           and a.get("fileUri")), None)
        if attachment:
            out.append(Indicator(str(item["id"]), str(item.get("tittel") or ""),
                                 str(attachment["fileUri"])))
    return out


def _text(value) -> str | None:
    return None if value is None else str(value).strip()


def parse_indicator(data: bytes | str, indicator: Indicator,
                    where: str = "<indicator>") -> list[tuple]:
    """Rows in COLUMNS order. `periode` is the year of TimeFrom for yearly figures, else its
    first day."""
    doc = _load(data)
    rows = doc.get("AttachmentDataRows") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise HelsedirError(f"{where}: field 'AttachmentDataRows': expected a list")
    out = []
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            raise HelsedirError(f"{where}: AttachmentDataRows[{n}] is not an object")
        raw = row.get("Value")
        try:
            number = None if raw is None else float(raw)
        except (TypeError, ValueError):
            raise HelsedirError(f"{where}: AttachmentDataRows[{n}], field 'Value': not a "
                                f"number: {raw!r}") from None
        status = None
        if number is None or abs(number - NO_DATA) < 1:
            number, status = None, NO_DATA_STATUS
        time_from = _text(row.get("TimeFrom"))
        period_type = _text(row.get("PeriodType")) or ""
        periode = time_from[:4] if time_from and period_type == "Årlig" else (time_from or "")[:10]
        out.append((indicator.id, indicator.title, _text(row.get("MeasureName")) or "",
                    _text(row.get("MeasureType")) or "", period_type, time_from or "",
                    _text(row.get("TimeTo")), periode, _text(row.get("LocationName")) or "",
                    _text(row.get("ParentName")) or "", row.get("LocationParentId"), number,
                    status))
    return out
