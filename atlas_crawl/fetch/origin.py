"""Where a run's data came from, decided once when the run starts and kept in `_runs`.

Two things are recorded:

- `mode`, how the run got its data: `live` (the publisher's servers), `replay` (recorded
  responses, ATLAS_REPLAY) or `file` (one saved response, `-a file=`, also when a replay runs a
  golden case that reads a file);
- `data_origin`, what that data is: `live` (fetched from the publisher now), `capture` (a real
  answer of the publisher saved earlier; `capture_date` says when), `constructed` (a test
  fixture written from documentation: its values are invented) or `unknown`.

The rule:

1. A live run is `live`.
2. A replay takes the origin its golden case declares (`golden/<case>/golden.json`:
   `"data_origin"`, and for a capture `"captured"` and `"capture_source"`). A case that reads a
   file (`args.file`) declares the origin of that file: a replay of the same folder's cassette
   without that file is `unknown`, and so is a folder that declares nothing.
3. A `-a file=` run takes the origin of the golden case whose `args.file` is exactly that file;
   `-a origin=capture -a captured=YYYY-MM-DD` (or `-a origin=constructed`) says it for any other
   file. Anything else is `unknown`.

Only `live` and `capture` are statistics; `constructed` and `unknown` are shown to readers as
samples, never as numbers of the publisher.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

MODES = ("live", "replay", "file")
ORIGINS = ("live", "capture", "constructed", "unknown")
REAL_ORIGINS = ("live", "capture")
DECLARED_ORIGINS = ("capture", "constructed")  # what a golden case or `-a origin=` may say
# A capture's date: the day when it is known, else the month (never a guessed day).
CAPTURED = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$")


@dataclass(frozen=True)
class Origin:
    mode: str
    data_origin: str
    capture_date: str | None = None
    capture_source: str | None = None

    @property
    def real(self) -> bool:
        return self.data_origin in REAL_ORIGINS


class OriginError(ValueError):
    """A golden case or the arguments declare an origin that cannot be used."""


def declared(spec: dict, where: str) -> Origin:
    """The origin a golden.json (or the arguments) declare, checked: `data_origin` is
    `capture` or `constructed`, and a capture names its date."""
    origin = spec.get("data_origin")
    if origin not in DECLARED_ORIGINS:
        raise OriginError(f"{where}: data_origin must be one of {', '.join(DECLARED_ORIGINS)}, "
                          f"not {origin!r}")
    captured = spec.get("captured")
    if origin == "capture":
        if not isinstance(captured, str) or not CAPTURED.match(captured):
            raise OriginError(f"{where}: a capture needs `captured` as YYYY-MM-DD (or YYYY-MM "
                              f"when only the month is known), not {captured!r}")
    elif captured:
        raise OriginError(f"{where}: `captured` belongs to a capture, not to {origin!r} data")
    return Origin("", origin, captured if origin == "capture" else None,
                  spec.get("capture_source"))


def case_spec(folder: Path) -> dict | None:
    spec = Path(folder) / "golden.json"
    if not spec.is_file():
        return None
    try:
        return json.loads(spec.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise OriginError(f"{spec}: not valid JSON: {exc}") from exc


def case_file(folder: Path, spec: dict) -> Path | None:
    """The file a golden case reads (`args.file`), resolved; None for a cassette case."""
    file = (spec.get("args") or {}).get("file")
    return (Path(folder) / file).resolve() if file else None


def _same_file(a: str | Path | None, b: Path | None) -> bool:
    return a is not None and b is not None and Path(a).expanduser().resolve() == b


def case_origin(folder: Path, mode: str, file: str | None) -> Origin:
    """The origin of a run that replays `folder` or reads `file` from it."""
    spec = case_spec(folder)
    if spec is None or "data_origin" not in spec:
        return Origin(mode, "unknown")
    reads = case_file(folder, spec)
    if reads is not None and not _same_file(file, reads):
        return Origin(mode, "unknown")  # the folder's other recording, not the case's file
    found = declared(spec, str(Path(folder) / "golden.json"))
    return Origin(mode, found.data_origin, found.capture_date, found.capture_source)


def file_case(file: str | Path) -> Path | None:
    """The golden folder whose case reads exactly this file (an ancestor folder of it)."""
    path = Path(file).expanduser().resolve()
    for folder in path.parents:
        spec = case_spec(folder) if (folder / "golden.json").is_file() else None
        if spec is not None and _same_file(path, case_file(folder, spec)):
            return folder
    return None


def check_arguments(arguments: dict) -> None:
    """`-a origin=` and `-a captured=` belong to a `-a file=` run and must be usable."""
    if "origin" not in arguments and "captured" not in arguments:
        return
    if not arguments.get("file"):
        raise OriginError("-a origin= and -a captured= describe a saved file: use them with "
                          "-a file=")
    declared({"data_origin": arguments.get("origin"), "captured": arguments.get("captured")},
             "-a origin=")


def run_mode(*, replay: bool, arguments: dict) -> str:
    """`file` when the run reads a saved file (also in a replay of a golden case that reads one),
    `replay` when it replays recorded responses, else `live`."""
    if arguments.get("file"):
        return "file"
    return "replay" if replay else "live"


def run_origin(*, replay: bool, arguments: dict, cassette: Path | None) -> Origin:
    """The mode and origin of a run, from ATLAS_REPLAY, its arguments and (for a replay) its
    cassette folder."""
    mode = run_mode(replay=replay, arguments=arguments)
    if mode == "live":
        return Origin("live", "live")
    if mode == "replay":
        return case_origin(cassette, "replay", None) if cassette else Origin("replay", "unknown")
    file = arguments["file"]
    if arguments.get("origin"):
        check_arguments(arguments)
        found = declared({"data_origin": arguments["origin"],
                          "captured": arguments.get("captured")}, "-a origin=")
        return Origin("file", found.data_origin, found.capture_date, "-a origin=")
    folder = file_case(file)
    return case_origin(folder, "file", file) if folder else Origin("file", "unknown")


def describe(data_origin: str | None, capture_date: str | None) -> str:
    """The origin in the words a reader sees."""
    if data_origin == "live":
        return "live"
    if data_origin == "capture":
        return f"real capture of {capture_date}" if capture_date else "real capture"
    if data_origin == "constructed":
        return "sample: invented values"
    return "origin unknown: not shown as a statistic"
