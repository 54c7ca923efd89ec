"""The `-a name=value` arguments a spider takes: declared, checked, explained in one line.

Every spider declares what it accepts in `spider_args` (name -> one line of help); the base
spider's are inherited. A misspelt or unknown argument is refused with the list, a value that
does not parse is refused naming the argument and what is expected, and neither reaches Scrapy
as a 30-line traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path


class ArgumentError(ValueError):
    """A spider argument that is unknown or whose value cannot be used."""


def declared(spidercls: type) -> dict[str, str]:
    """Every argument the spider class accepts, its own and its bases', with their help."""
    out: dict[str, str] = {}
    for klass in reversed(spidercls.__mro__):
        out.update(vars(klass).get("spider_args") or {})
    return out


def describe(spidercls: type) -> str:
    accepted = declared(spidercls)
    return "; ".join(f"{name} ({help_})" for name, help_ in sorted(accepted.items()))


def check_names(spidercls: type, args: Mapping[str, object]) -> None:
    accepted = declared(spidercls)
    unknown = sorted(k for k in args if k not in accepted and not k.startswith("_"))
    if unknown:
        raise ArgumentError(
            f"{spidercls.name}: unknown argument{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(f'-a {k}' for k in unknown)}; {spidercls.name} takes: "
            f"{describe(spidercls)}")


def check_file(args: Mapping[str, object]) -> None:
    file = args.get("file")
    if file and not Path(str(file)).expanduser().is_file():
        raise ArgumentError(f"-a file={file}: no such file")


_INT_ERROR = re.compile(r"invalid literal for int\(\) with base 10: '(.*)'")


def explain(spidercls: type, args: Mapping[str, object], exc: Exception) -> ArgumentError:
    """A spider's own ValueError from its __init__, as one line naming the argument."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    m = _INT_ERROR.fullmatch(text)
    if m:
        bad = m.group(1).strip()
        names = [k for k, v in args.items()
                 if bad in {p.strip() for p in re.split(r"[,-]", str(v))} or str(v) == bad]
        help_ = declared(spidercls)
        if names:
            name = names[0]
            return ArgumentError(f"{spidercls.name}: -a {name}={args[name]}: {bad!r} is not a "
                                 f"number; expected {help_.get(name, 'a number')}")
    if text.startswith((f"{spidercls.name}", "-a ")):
        return ArgumentError(text)
    return ArgumentError(f"{spidercls.name}: {text}")


def parse_years(name: str, text: str) -> set[int]:
    """`2025`, `2025,2026` or `2020-2026` -> years; anything else is an ArgumentError."""
    years: set[int] = set()
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            continue
        m = re.fullmatch(r"(\d{4})(?:\s*-\s*(\d{4}))?", part)
        if not m or (m.group(2) and int(m.group(2)) < int(m.group(1))):
            raise ArgumentError(f"-a {name}={text}: {part!r} is not a year; expected years "
                                "like 2025, 2025,2026 or 2020-2026")
        years.update(range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1))
    if not years:
        raise ArgumentError(f"-a {name}={text}: expected years like 2025, 2025,2026 or "
                            "2020-2026")
    return years


def parse_int(name: str, value: object, *, low: int = 1, high: int | None = None) -> int:
    """A whole number within [low, high], or an ArgumentError saying what is expected."""
    text = str(value).strip()
    expected = f"a whole number from {low}" + (f" to {high}" if high is not None else " up")
    if not re.fullmatch(r"-?\d+", text):
        raise ArgumentError(f"-a {name}={value}: expected {expected}")
    number = int(text)
    if number < low or (high is not None and number > high):
        raise ArgumentError(f"-a {name}={value}: expected {expected}")
    return number


def ssb_table_id(value: object) -> str:
    """SSB's table numbers are five digits as text: 05803, 07459, 12451."""
    text = str(value).strip()
    if not re.fullmatch(r"\d{5}", text):
        raise ArgumentError(f"-a table={value}: an SSB table id is five digits, such as 05803 "
                            "or 07459 (keep the leading zero)")
    return text


FLAG_WORDS = {"1": True, "true": True, "yes": True, "on": True,
              "0": False, "false": False, "no": False, "off": False}


def parse_flag(name: str, value: object) -> bool:
    """A yes/no argument: 1 or 0 (true/false, yes/no, on/off); anything else is refused, since
    `-a allow_shrink=perhaps` must not quietly mean either."""
    word = str(value).strip().lower()
    if word not in FLAG_WORDS:
        raise ArgumentError(f"-a {name}={value}: expected 1 or 0 (or true/false, yes/no)")
    return FLAG_WORDS[word]


def parse_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """One of a few words, or an ArgumentError naming them."""
    word = str(value).strip()
    if word not in choices:
        raise ArgumentError(f"-a {name}={value}: expected {' or '.join(choices)}")
    return word
