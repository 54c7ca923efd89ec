"""Build Datasette's metadata.yml from the manifests, so the catalogue cannot drift from them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

from atlas_crawl.manifests import Manifest, all_manifests

DATABASE = "atlas"


def table_metadata(manifest: Manifest) -> dict:
    columns = {d.code.lower(): d.meaning for d in manifest.dimensions}
    return {
        "title": manifest.upstream_title,
        "description": manifest.description,
        "license": manifest.license,
        "license_url": manifest.license_url,
        "source": f"{manifest.publisher}: {manifest.attribution}",
        "source_url": manifest.upstream_landing_page or manifest.upstream_url,
        "columns": columns,
    }


def build_metadata(db_path: str | Path | None = None) -> dict:
    existing = None
    if db_path and Path(db_path).exists():
        conn = sqlite3.connect(str(db_path))
        existing = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        conn.close()
    tables = {}
    for manifest in all_manifests().values():
        for table in manifest.table_names:
            if existing is None or table in existing:
                tables[table] = table_metadata(manifest)
    return {
        "title": "atlas_crawl: Norway's public statistics",
        "description": "Tables harvested from SSB, NAV, IMDi, Udir, Bufdir, Brreg and others, "
                       "each with its source, licence and meaning.",
        "databases": {DATABASE: {"tables": tables}},
    }


def write_metadata(path: str | Path, db_path: str | Path | None = None) -> Path:
    path = Path(path)
    path.write_text(yaml.safe_dump(build_metadata(db_path), allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path
