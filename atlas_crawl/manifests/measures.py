"""What a manifest says about its measures for series on today's borders: which add up.

    # the column naming the measure in a long table (SSB's contentscode, IMDi's metric);
    # leave it out when each measure is a column of its own (Valgresultat's stemmer)
    measure_column: contentscode
    measures:
      Personer1: {additive: true}          # counts add up over former kommuner
      Andel: {additive: false}             # rates, shares, medians and indices do not
      frammote_prosent:                    # a rate recomputed from its parts when they add up
        additive: false
        ratio_of: [stemmer, stemmeberettigede]
        per: 100                           # percent

Only ``additive``, ``ratio_of`` and ``per`` are read here; other keys of a measure belong to other
readers and are left to them. A measure not declared is not summed (its value on today's borders
is given only where one published place covers today's kommune).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KEYS = ("additive", "ratio_of", "per")


class MeasureError(ValueError):
    """The message names the field: ``'measures.<name>.<key>': problem``."""


def _fail(field: str, problem: str) -> MeasureError:
    return MeasureError(f"'{field}': {problem}")


@dataclass(frozen=True)
class Additivity:
    measure: str
    additive: bool | None  # None: not declared
    ratio_of: tuple[str, str] | None = None
    per: float = 1.0


def parse_measure_column(data: dict) -> str:
    value = data.get("measure_column")
    if value is None:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _fail("measure_column", f"must be a column name, found {value!r}")
    return value.strip()


def parse_additivity(data: dict) -> dict[str, Additivity]:
    """The manifest's `measures:` block, as far as adding up goes."""
    block = data.get("measures")
    if block is None:
        return {}
    if not isinstance(block, dict) or not block:
        raise _fail("measures", f"must be a mapping of measure -> settings, found {block!r}")
    out: dict[str, Additivity] = {}
    for name, spec in block.items():
        where = f"measures.{name}"
        if not isinstance(spec, dict):
            raise _fail(where, f"must be a mapping (e.g. {{additive: true}}), found {spec!r}")
        additive = spec.get("additive")
        if additive is not None and not isinstance(additive, bool):
            raise _fail(f"{where}.additive", f"must be true or false, found {additive!r}")
        ratio = spec.get("ratio_of")
        if ratio is not None:
            if (not isinstance(ratio, list) or len(ratio) != 2
                    or not all(isinstance(x, str) and x for x in ratio)):
                raise _fail(f"{where}.ratio_of", f"must be [numerator, denominator], found "
                                                 f"{ratio!r}")
            if additive:
                raise _fail(f"{where}.ratio_of", "a ratio is not additive; say additive: false")
            ratio = (ratio[0], ratio[1])
        per = spec.get("per", 1)
        if "per" in spec and ratio is None:
            raise _fail(f"{where}.per", "only applies with ratio_of")
        if isinstance(per, bool) or not isinstance(per, (int, float)) or per <= 0:
            raise _fail(f"{where}.per", f"must be a positive number, found {per!r}")
        out[str(name)] = Additivity(str(name), additive, ratio, float(per))
    for a in out.values():
        for part in a.ratio_of or ():
            if part not in out or out[part].additive is not True:
                raise _fail(f"measures.{a.measure}.ratio_of", f"{part!r} must be a measure of the "
                                                              "same table declared additive: true")
    return out


def is_additive(additivity: dict[str, Additivity], measure: Any) -> bool | None:
    found = additivity.get(str(measure)) if measure is not None else None
    return found.additive if found else None
