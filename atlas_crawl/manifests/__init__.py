"""Source manifests: one YAML file per source, loaded and validated once.

A manifest describes a source for the catalogue, the contract check and the geography step. A bad
manifest fails loudly with the file and the field named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from atlas_crawl.manifests import measures as _measures
from atlas_crawl.manifests.monitors import parse_monitors

MANIFEST_DIR = Path(__file__).resolve().parent

PROVIDERS = {
    "ssb", "fhi", "redcross", "brreg", "bufdir", "nav", "husbanken", "udir", "imdi",
    "helsedirektoratet", "dsb", "lottstift", "valgdirektoratet",
}
EU_THEMES = {
    "AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "REGI", "SOCI", "TECH",
    "TRAN",
}
TOPICS = {
    "health", "demographics", "income", "education", "social", "ngo-supply", "organisations",
    "reference", "elections",
}
GEO_TAGS = {"kommune", "fylke", "bydel", "grunnkrets", "national"}
CADENCES = {"annual", "quarterly", "monthly", "weekly", "daily", "irregular"}
POLICIES = {"standard", "sensitive"}
PERIODICITY = re.compile(r"^(P\d+[YMWD]|irregular)$")
# What one period of the data is, when the periodicity does not say it: "event" for sources whose
# years are events (an election), not totals over a calendar year.
PERIOD_GRAIN = re.compile(r"^(P\d+[YMWD]|event)$")
PLACE_LEVELS = {"any", "land", "fylke", "kommune", "bydel", "grunnkrets"}
WRITE_MODES = {"upsert", "replace"}
KEYWORD_LANGUAGES = ("nb", "en")
#: `better:` says which direction of a measure is good for the people of a kommune: one word for
#: every indicator of the source, or {words of the indicator: direction}, first match wins.
BETTER = {"higher", "lower"}

REQUIRED = (
    "source_id", "upstream_id", "upstream_url", "upstream_title", "description", "publisher",
    "license", "license_url", "periodicity", "eu_theme", "attribution", "tags", "dimensions",
    "presentation_policy", "methodology_version",
)


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Place:
    """A column holding places, for the geography pipeline."""

    column: str
    level: str = "any"
    on: str | None = None  # column holding the date or year the row refers to
    within: str | None = None  # column holding a parent (fylke) for ambiguous names
    # An empty value means "no place" rather than an error (a register's organisation without
    # a Norwegian address): the row is kept with geo_status "absent" instead of quarantined.
    optional: bool = False
    unplaced: str = "quarantine"  # or "keep": keep the row, geo_status says why it is unplaced
    eight_digits: str = "grunnkrets"  # or "delbydel" (Bufdir): what an 8-digit code means here
    # The parent only chooses between places sharing a name (a page heading, not a statement of
    # where the place lies): when it names no place, or none of the name's places lies in it,
    # the name is placed on its own. Without this, such a row is quarantined.
    within_if_it_helps: bool = False
    # column holding each row's own level (fylke, kommune, bydel): which level a name shared
    # between levels means on that row ("Oslo" in a fylke table is fylke 03); `level` otherwise
    row_level: str | None = None


@dataclass(frozen=True)
class Dimension:
    code: str
    meaning: str
    value_format: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Manifest:
    path: Path
    source_id: str
    upstream_id: str
    upstream_url: str
    upstream_title: str
    description: str
    publisher: str
    license: str
    license_url: str
    periodicity: str
    eu_theme: str
    attribution: str
    tags: dict[str, str]
    dimensions: tuple[Dimension, ...]
    presentation_policy: str
    methodology_version: str
    upstream_landing_page: str = ""
    watch: tuple[str, ...] = ()
    places: tuple[Place, ...] = ()
    write_mode: str = "upsert"
    replace_by: tuple[str, ...] = ()  # with write_mode replace: replace only delivered partitions
    tables: tuple[str, ...] = ()
    period_grain: str = ""
    monitors: dict[str, Any] = field(default_factory=dict)  # run monitor thresholds, defaulted
    # words people search by, per language: {"nb": (...), "en": (...)}
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # how fast its publisher may be asked: Scrapy settings the source's spider runs with
    pace: dict[str, Any] = field(default_factory=dict)
    # what the publisher writes in place of a number (besides the common symbols)
    status_symbols: frozenset[str] = frozenset()
    # (words an indicator's codes or labels contain, or "*", "higher" | "lower"), in order
    better: tuple[tuple[str, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    # series on today's borders (manifests/measures.py): the column naming the measure in a long
    # table, and which measures add up across former kommuner
    measure_column: str = ""
    additivity: dict[str, _measures.Additivity] = field(default_factory=dict)

    @property
    def period_hint(self) -> str:
        """How to read the source's period codes: its period grain, else its periodicity."""
        return self.period_grain or self.periodicity

    @property
    def provider(self) -> str:
        return self.tags["provider"]

    @property
    def table_names(self) -> tuple[str, ...]:
        """Every table this source writes; the first is named after the source."""
        return (self.source_id, *[t for t in self.tables if t != self.source_id])


def _fail(path: Path, field_name: str, problem: str) -> ManifestError:
    return ManifestError(f"{path}: field '{field_name}': {problem}")


def _text(path: Path, data: dict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, name, f"must be a non-empty string, found {value!r}")
    return value.strip()


def _scalar(path: Path, data: dict, name: str) -> str:
    """A required identifier that YAML may read as a number (`upstream_id: 12063`)."""
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not str(value).strip():
        raise _fail(path, name, f"must be a non-empty string or number, found {value!r}")
    return str(value).strip()


def _one_of(path: Path, name: str, value: Any, allowed: set[str]) -> str:
    if value not in allowed:
        raise _fail(path, name, f"{value!r} is not one of {sorted(allowed)}")
    return value


def _keywords(path: Path, data: dict) -> dict[str, tuple[str, ...]]:
    """Optional `keywords: {nb: [...], en: [...]}`: both languages, each a list of words."""
    value = data.get("keywords")
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) != set(KEYWORD_LANGUAGES):
        raise _fail(path, "keywords", f"must have exactly the keys {', '.join(KEYWORD_LANGUAGES)}"
                    f", found {value!r}")
    out = {}
    for lang in KEYWORD_LANGUAGES:
        words = value[lang]
        if (not isinstance(words, list) or not words
                or not all(isinstance(w, str) and w.strip() for w in words)):
            raise _fail(path, f"keywords.{lang}", f"must be a non-empty list of words, found "
                        f"{words!r}")
        out[lang] = tuple(w.strip() for w in words)
    return out


#: manifest `pace:` key -> the Scrapy setting it sets
PACE_SETTINGS = {"concurrent_requests": "CONCURRENT_REQUESTS_PER_DOMAIN",
                 "delay_seconds": "DOWNLOAD_DELAY"}


def _pace(path: Path, value: Any) -> dict[str, Any]:
    """`pace: {concurrent_requests: 1, delay_seconds: 1.0}` -> Scrapy settings."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not set(value) <= set(PACE_SETTINGS):
        raise _fail(path, "pace", f"must map {sorted(PACE_SETTINGS)} to numbers, found {value!r}")
    settings: dict[str, Any] = {}
    for key, number in value.items():
        if isinstance(number, bool) or not isinstance(number, (int, float)) or number < 0 \
                or (key == "concurrent_requests" and (number < 1 or number != int(number))):
            raise _fail(path, f"pace.{key}", f"must be a {'whole number from 1' if key == 'concurrent_requests' else 'number of seconds'}, found {number!r}")
        settings[PACE_SETTINGS[key]] = int(number) if key == "concurrent_requests" else float(number)
    return settings


def _better(path: Path, data: dict) -> tuple[tuple[str, str], ...]:
    """Optional `better: higher | lower`, or `better: {<words of an indicator>: higher | lower}`
    for sources whose indicators point different ways (neutral ones are simply not named)."""
    value = data.get("better")
    if value is None:
        return ()
    rules = {"*": value} if isinstance(value, str) else value
    if not isinstance(rules, dict) or not rules:
        raise _fail(path, "better", f"must be higher, lower or a mapping of indicator words to "
                    f"one of them, found {value!r}")
    out = []
    for words, direction in rules.items():
        if not isinstance(words, str) or not words.strip():
            raise _fail(path, "better", f"indicator words must be non-empty text, found {words!r}")
        _one_of(path, f"better.{words}" if words != "*" else "better", direction, BETTER)
        out.append((words.strip(), direction))
    return tuple(out)


def parse_manifest(path: Path, data: Any) -> Manifest:
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: must be a YAML mapping, found {type(data).__name__}")
    for name in REQUIRED:
        if name not in data:
            raise _fail(path, name, "is required")
    source_id = _text(path, data, "source_id")
    if source_id != path.stem:
        raise _fail(path, "source_id", f"{source_id!r} must equal the file name {path.stem!r}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", source_id):
        raise _fail(path, "source_id", f"{source_id!r} must be lower-case snake_case")

    tags = data["tags"]
    if not isinstance(tags, dict) or set(tags) != {"provider", "topic", "geo", "cadence"}:
        raise _fail(path, "tags", "must have exactly the keys provider, topic, geo, cadence")
    _one_of(path, "tags.provider", tags["provider"], PROVIDERS)
    _one_of(path, "tags.topic", tags["topic"], TOPICS)
    _one_of(path, "tags.geo", tags["geo"], GEO_TAGS)
    _one_of(path, "tags.cadence", tags["cadence"], CADENCES)

    periodicity = str(data["periodicity"])
    if not PERIODICITY.match(periodicity):
        raise _fail(path, "periodicity", f"{periodicity!r} is not an ISO duration like P1Y")

    period_grain = str(data.get("period_grain") or "")
    if period_grain and not PERIOD_GRAIN.match(period_grain):
        raise _fail(path, "period_grain", f"{period_grain!r} is not an ISO duration or 'event'")

    dims = data["dimensions"]
    if not isinstance(dims, list) or not dims:
        raise _fail(path, "dimensions", "must be a non-empty list")
    dimensions = []
    for i, d in enumerate(dims):
        if not isinstance(d, dict) or not d.get("code") or not d.get("meaning"):
            raise _fail(path, f"dimensions[{i}]", "needs at least 'code' and 'meaning'")
        dimensions.append(Dimension(str(d["code"]), str(d["meaning"]).strip(),
                                    str(d.get("value_format", "")), str(d.get("notes", ""))))

    places = []
    for i, p in enumerate(data.get("places") or []):
        if isinstance(p, str):
            p = {"column": p}
        if not isinstance(p, dict) or not p.get("column"):
            raise _fail(path, f"places[{i}]", "needs a 'column'")
        level = _one_of(path, f"places[{i}].level", p.get("level", "any"), PLACE_LEVELS)
        # YAML 1.1 reads a bare `on:` key as the boolean True.
        on = p.get("on", p.get(True))
        for name, given in (("on", on), ("within", p.get("within")),
                            ("row_level", p.get("row_level"))):
            if given is not None and (not isinstance(given, str) or not given):
                raise _fail(path, f"places[{i}].{name}", "must name a column")
        if p.get("within_if_it_helps") and not p.get("within"):
            raise _fail(path, f"places[{i}].within_if_it_helps", "needs a 'within' column")
        places.append(Place(p["column"], level, on, p.get("within"),
                            bool(p.get("optional", False)),
                            _one_of(path, f"places[{i}].unplaced", p.get("unplaced", "quarantine"),
                                    {"quarantine", "keep"}),
                            _one_of(path, f"places[{i}].eight_digits",
                                    p.get("eight_digits", "grunnkrets"),
                                    {"grunnkrets", "delbydel"}),
                            bool(p.get("within_if_it_helps", False)), p.get("row_level")))

    watch = data.get("watch") or []
    if not isinstance(watch, list) or not all(isinstance(w, str) for w in watch):
        raise _fail(path, "watch", "must be a list of URL patterns")
    replace_by = data.get("replace_by") or []
    if not isinstance(replace_by, list) or not all(isinstance(c, str) for c in replace_by):
        raise _fail(path, "replace_by", "must be a list of key column names")
    if replace_by and data.get("write_mode") != "replace":
        raise _fail(path, "replace_by", "only applies with write_mode: replace")
    tables = data.get("tables") or []
    if not isinstance(tables, list):
        raise _fail(path, "tables", "must be a list of table names")

    try:
        monitors = parse_monitors(data.get("monitors"))
    except ValueError as exc:
        raise ManifestError(f"{path}: field {exc}") from None

    pace = _pace(path, data.get("pace"))
    symbols = data.get("status_symbols") or []
    if not isinstance(symbols, list) or not all(isinstance(s, str) and s.strip()
                                                 for s in symbols):
        raise _fail(path, "status_symbols", "must be a list of the publisher's symbols (text)")

    try:
        measure_column = _measures.parse_measure_column(data)
        additivity = _measures.parse_additivity(data)
    except _measures.MeasureError as exc:
        raise ManifestError(f"{path}: field {exc}") from None

    known = set(REQUIRED) | {"upstream_landing_page", "watch", "places", "write_mode", "tables",
                             "replace_by", "period_grain",
                             "monitors", "keywords", "pace", "status_symbols", "better",
                             "measure_column"}
    return Manifest(
        path=path,
        source_id=source_id,
        upstream_id=_scalar(path, data, "upstream_id"),
        upstream_url=_text(path, data, "upstream_url"),
        upstream_title=_text(path, data, "upstream_title"),
        description=_text(path, data, "description"),
        publisher=_text(path, data, "publisher"),
        license=_text(path, data, "license"),
        license_url=_text(path, data, "license_url"),
        periodicity=periodicity,
        eu_theme=_one_of(path, "eu_theme", data["eu_theme"], EU_THEMES),
        attribution=_text(path, data, "attribution"),
        tags={k: str(v) for k, v in tags.items()},
        dimensions=tuple(dimensions),
        presentation_policy=_one_of(path, "presentation_policy", data["presentation_policy"],
                                    POLICIES),
        methodology_version=_scalar(path, data, "methodology_version"),
        upstream_landing_page=str(data.get("upstream_landing_page") or ""),
        watch=tuple(watch),
        places=tuple(places),
        write_mode=_one_of(path, "write_mode", data.get("write_mode", "upsert"), WRITE_MODES),
        replace_by=tuple(replace_by),
        tables=tuple(str(t) for t in tables),
        period_grain=period_grain,
        monitors=monitors,
        pace=pace,
        keywords=_keywords(path, data),
        status_symbols=frozenset(symbols),
        better=_better(path, data),
        extra={k: v for k, v in data.items() if k not in known},
        measure_column=measure_column,
        additivity=additivity,
    )


# libyaml's parser when PyYAML was built with it (its wheels are): the pure-Python one takes
# half a second for the manifests, paid by every `scrapy` command at start-up.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str):
    """YAML text as Python data (safe: plain data only)."""
    return yaml.load(text, Loader=_SAFE_LOADER)


def load_manifest(path: Path) -> Manifest:
    try:
        data = read_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: not valid YAML: {exc}") from exc
    return parse_manifest(path, data)


@cache
def all_manifests(directory: Path = MANIFEST_DIR) -> dict[str, Manifest]:
    """Every manifest in the folder, by source id, validated once per process."""
    manifests = {}
    for path in sorted(directory.glob("*.yml")):
        manifest = load_manifest(path)
        manifests[manifest.source_id] = manifest
    return manifests


def get_manifest(source_id: str) -> Manifest:
    try:
        return all_manifests()[source_id]
    except KeyError:
        raise ManifestError(
            f"no manifest for source {source_id!r} in {MANIFEST_DIR} "
            f"(add {source_id}.yml)"
        ) from None


def manifest_for_table(table: str) -> Manifest | None:
    """The manifest whose source writes `table` (the source a table is named after, first)."""
    manifests = all_manifests()
    named = manifests.get(table)
    if named is not None and table in named.table_names:
        return named  # asked for every batch: a dict lookup, not a walk through every manifest
    for manifest in manifests.values():
        if table in manifest.table_names:
            return manifest
    return None


def register(manifest: Manifest) -> None:
    """Make a manifest built at run time (e.g. an SSB table named on the command line) known."""
    all_manifests()[manifest.source_id] = manifest
