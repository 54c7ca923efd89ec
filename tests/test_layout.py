"""The package keeps one home per concern: spiders reach the network only through `fetch`, read
earlier runs only through `stored`, and never import a pipeline, the store or the catalogue."""

import ast
from pathlib import Path

import atlas_crawl

PACKAGE = Path(atlas_crawl.__file__).parent
SPIDER_MAY_IMPORT = ("atlas_crawl.items", "atlas_crawl.formats", "atlas_crawl.geo",
                     "atlas_crawl.fetch", "atlas_crawl.spiders.base", "atlas_crawl.manifests",
                     "atlas_crawl.stored", "atlas_crawl.signals", "atlas_crawl.spiders.arguments")


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("atlas"):
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            if node.module == "atlas_crawl":
                found |= {f"atlas_crawl.{a.name}" for a in node.names} - {"atlas_crawl"}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("atlas")}
    return found


def test_spiders_import_only_items_formats_geo_fetch_and_their_base():
    wrong = {}
    for path in sorted((PACKAGE / "spiders").glob("*.py")):
        if path.name in ("__init__.py", "base.py"):
            continue
        bad = sorted(m for m in imports(path) if m.startswith("atlas_crawl.")
                     and not m.startswith(SPIDER_MAY_IMPORT)
                     and m not in ("atlas_crawl.PROJECT_DIR", "atlas_crawl.spiders"))
        if bad:
            wrong[path.name] = bad
    assert wrong == {}


def test_no_spider_writes_sql():
    for path in sorted((PACKAGE / "spiders").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle in (".execute(", "CREATE VIEW", "self.store.", "sqlite3.connect"):
            assert needle not in text, f"{path.name} contains {needle!r}"


def test_parsers_do_not_import_scrapy_or_the_geography():
    for path in sorted((PACKAGE / "formats").glob("*.py")):
        found = imports(path)
        assert not any(m.startswith("atlas_crawl.geo") for m in found), path.name
        assert "import scrapy" not in path.read_text(encoding="utf-8"), path.name
