"""scrapyd's job runner for atlas_crawl (`runner = atlas_crawl.run.scrapyd_runner` in scrapyd.conf).

scrapyd's own runner puts the deployed egg, a zip file, on sys.path. atlas_crawl reads its
manifests and reference geography as files next to its modules, which cannot be done inside a
zip, so this runner unpacks the egg once per version (into `<eggs_dir>_unpacked/`) and runs the
job from there; everything else is scrapyd's runner: `scrapy.cmdline.execute()` with the egg's
settings module.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import zipfile
from pathlib import Path


def unpack(egg: Path, root: Path) -> Path:
    """The egg's contents in a folder named after its hash (unpacked once, then reused)."""
    digest = hashlib.sha256(egg.read_bytes()).hexdigest()[:16]
    target = root / digest
    if not target.is_dir():
        partial = root / f".{digest}.{os.getpid()}"
        with zipfile.ZipFile(egg) as archive:
            archive.extractall(partial)
        try:
            partial.rename(target)
        except OSError:  # another job unpacked it meanwhile
            shutil.rmtree(partial, ignore_errors=True)
    return target


def settings_module(folder: Path) -> str:
    """`settings = module` of the `[scrapy]` entry points in the egg's EGG-INFO."""
    section = ""
    for line in (folder / "EGG-INFO" / "entry_points.txt").read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "scrapy" and line.partition("=")[0].strip() == "settings":
            return line.partition("=")[2].strip()
    raise RuntimeError(f"{folder}: the egg declares no [scrapy] settings entry point")


def main() -> None:
    from scrapyd import Config
    from scrapyd.utils import initialize_component

    config = Config()
    storage = initialize_component(config, "eggstorage", "scrapyd.eggstorage.FilesystemEggStorage")
    _, egg = storage.get(os.environ["SCRAPY_PROJECT"], os.environ.get("SCRAPYD_EGG_VERSION"))
    if egg is not None:
        try:
            # Beside eggs_dir, not in it: scrapyd takes every folder there for a project.
            eggs_dir = Path(config.get("eggs_dir", "eggs")).resolve()
            folder = unpack(Path(egg.name), eggs_dir.parent / f"{eggs_dir.name}_unpacked")
        finally:
            egg.close()
        sys.path.insert(0, str(folder))
        # This module was imported from the installed atlas_crawl: the deployed one must win.
        for name in [m for m in sys.modules if m == "atlas_crawl" or m.startswith("atlas_crawl.")]:
            del sys.modules[name]
        os.environ.setdefault("SCRAPY_SETTINGS_MODULE", settings_module(folder))
    from scrapy.cmdline import execute

    execute()


if __name__ == "__main__":
    main()
