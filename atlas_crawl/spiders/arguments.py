"""The `-a name=value` arguments a spider takes: declared, checked, read and explained in one
line.

A spider declares each argument it takes once, as the attribute it sets (`Arg`): one line of
help, how its text is read, and its value when it is not given. The base spider checks the names
against these (a misspelt or unknown argument is refused with the list of what the spider takes),
reads each given value and sets it on the spider; a value that does not read is refused naming
the argument and what is expected, and neither reaches Scrapy as a 30-line traceback. A spider
whose own `__init__` takes an argument by hand declares its help in `spider_args` (name -> help).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


class ArgumentError(ValueError):
    """A spider argument that is unknown or whose value cannot be used."""


#: How an argument's text becomes its value: `read(name, text)`, refusing text it cannot use
#: with an ArgumentError that names the argument.
Reader = Callable[[str, str], Any]


class Arg:
    """One `-a name=value` argument, declared on the spider class as the attribute it sets:

        years = Arg("years to fetch, like 2024 or 2019-2024", arguments.parse_years)

    Given (and not empty), its text is read by `read` (kept as text without one) and the value is
    set on the spider. Not given, the attribute keeps its default: `default`, or the value a
    subclass gives the attribute (a named FHI spider's `table_id = "338"`). `name` is the
    argument's name where it is not the attribute's (`-a table=` sets `table_id`)."""

    def __init__(self, help: str, read: Reader | None = None, *, default: Any = None,
                 name: str = ""):
        self.help = help
        self.read = read
        self.default = default
        self.name = name
        self.attribute = ""  # set by __set_name__; empty for help declared in `spider_args`

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.attribute = attribute
        self.name = self.name or attribute

    def __get__(self, spider: object, owner: type | None = None) -> Any:
        # Only while the argument is not given: a given one is set on the spider itself.
        return self.default

    def value(self, text: object) -> Any:
        return self.read(self.name, str(text)) if self.read else str(text)


def declared(spidercls: type) -> dict[str, Arg]:
    """Every argument the spider class accepts, its own and its bases', by name."""
    out: dict[str, Arg] = {}
    for klass in reversed(spidercls.__mro__):
        out.update({arg.name: arg for arg in vars(klass).values() if isinstance(arg, Arg)})
        out.update({name: Arg(help_, name=name)
                    for name, help_ in (vars(klass).get("spider_args") or {}).items()})
    return out


def given(spidercls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The declared arguments in `kwargs`, taken out of it and read: attribute -> value. An
    empty value counts as not given; arguments the spider's own `__init__` takes stay."""
    values = {}
    for arg in declared(spidercls).values():
        if arg.attribute and arg.name in kwargs:
            text = kwargs.pop(arg.name)
            if text is not None and str(text) != "":
                values[arg.attribute] = arg.value(text)
    return values


def describe(spidercls: type) -> str:
    accepted = declared(spidercls)
    return "; ".join(f"{name} ({arg.help})" for name, arg in sorted(accepted.items()))


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
        accepted = declared(spidercls)
        if names:
            name = names[0]
            expected = accepted[name].help if name in accepted else "a number"
            return ArgumentError(f"{spidercls.name}: -a {name}={args[name]}: {bad!r} is not a "
                                 f"number; expected {expected}")
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


def parse_year(name: str, text: str) -> int:
    """One year; of several (`2023,2024`), the first."""
    return min(parse_years(name, text))


def parse_day(name: str, text: str) -> str:
    """A day as YYYY-MM-DD."""
    if not re.fullmatch(r"\d{4}-\d\d-\d\d", text.strip()):
        raise ArgumentError(f"-a {name}={text}: expected a day as YYYY-MM-DD")
    return text.strip()


def parse_words(name: str, text: str) -> list[str] | None:
    """`a,b,c` -> the words, in order; None for none (no choice made)."""
    return [word.strip() for word in str(text).split(",") if word.strip()] or None


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


def whole_number(low: int = 1, high: int | None = None) -> Reader:
    """A reader of whole numbers within [low, high] (parse_int)."""
    return lambda name, text: parse_int(name, text, low=low, high=high)


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


def one_of(*choices: str) -> Reader:
    """A reader of one of a few words (parse_choice)."""
    return lambda name, text: parse_choice(name, text, choices)
