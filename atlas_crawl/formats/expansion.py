"""Limits on what a ZIP archive (Bufdir's bundle, every .xlsx) may expand to.

A few megabytes of deflated zeros can declare gigabytes; reading such an entry whole takes the
crawl down with a MemoryError. Every archive is checked against its declared sizes before
anything is read (one entry at most `entry_max` bytes, the archive at most `total_max`), and
entries read here are counted while they are read, so a header that lies is caught too.

The limits are settings (`ATLAS_ZIP_ENTRY_MAX_BYTES`, `ATLAS_ZIP_TOTAL_MAX_BYTES`); the spider
base applies them with :func:`configure` when a crawl starts. Pure Python, no Scrapy.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

MiB = 2**20
DEFAULT_ENTRY_MAX = 200 * MiB
DEFAULT_TOTAL_MAX = 1024 * MiB
CHUNK = MiB


class ExpansionError(ValueError):
    """An archive (or one of its entries) would expand beyond the configured limit."""


@dataclass(frozen=True)
class Limits:
    entry_max: int = DEFAULT_ENTRY_MAX
    total_max: int = DEFAULT_TOTAL_MAX


_limits = Limits()


def configure(entry_max: int | None = None, total_max: int | None = None) -> Limits:
    """Set the limits for this process (None keeps the default); returns them."""
    global _limits
    _limits = Limits(entry_max or DEFAULT_ENTRY_MAX, total_max or DEFAULT_TOTAL_MAX)
    return _limits


def limits() -> Limits:
    return _limits


def _mib(n: int) -> str:
    return f"{n / MiB:,.1f} MiB"


def check_declared(archive: zipfile.ZipFile, name: str, lim: Limits | None = None) -> None:
    """Refuse an archive whose entries declare more than the limits, before reading any."""
    lim = lim or _limits
    total = 0
    for info in archive.infolist():
        if info.file_size > lim.entry_max:
            raise ExpansionError(
                f"{name}: entry {info.filename} would expand to {_mib(info.file_size)} "
                f"({_mib(info.compress_size)} compressed), more than the "
                f"{_mib(lim.entry_max)} allowed (ATLAS_ZIP_ENTRY_MAX_BYTES); refused")
        total += info.file_size
    if total > lim.total_max:
        raise ExpansionError(
            f"{name}: its entries would expand to {_mib(total)} together, more than the "
            f"{_mib(lim.total_max)} allowed (ATLAS_ZIP_TOTAL_MAX_BYTES); refused")


class Budget:
    """Bytes still allowed for one archive while its entries are read."""

    def __init__(self, name: str, lim: Limits | None = None):
        self.name = name
        self.limits = lim or _limits
        self.read = 0

    def read_entry(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        """The entry's bytes, counted chunk by chunk against the entry and archive limits."""
        parts: list[bytes] = []
        got = 0
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                got += len(chunk)
                self.read += len(chunk)
                if got > self.limits.entry_max:
                    raise ExpansionError(
                        f"{self.name}: entry {info.filename} expands beyond "
                        f"{_mib(self.limits.entry_max)} (it declared {_mib(info.file_size)}); "
                        "refused")
                if self.read > self.limits.total_max:
                    raise ExpansionError(
                        f"{self.name}: entries expand beyond {_mib(self.limits.total_max)} "
                        "together; refused")
                parts.append(chunk)
        return b"".join(parts)
