"""The package keeps one home per concern (docs: the house in ../README.md): spiders reach the
network only through `fetch` and read earlier runs only through `store.earlier`; parsers import no
wing above them; the root holds only the items, the settings and the entry point; and no import, at
module level or inside a function, closes a circle, between modules or between wings."""

import ast
import sys
from pathlib import Path

import atlas_crawl

PACKAGE = Path(atlas_crawl.__file__).parent
SPIDER_MAY_IMPORT = ("atlas_crawl.items", "atlas_crawl.formats", "atlas_crawl.geo",
                     "atlas_crawl.fetch", "atlas_crawl.spiders.base", "atlas_crawl.manifests",
                     "atlas_crawl.store.earlier", "atlas_crawl.signals", "atlas_crawl.spiders.arguments",
                     "atlas_crawl.spiders.settings_check", "atlas_crawl.watch",
                     # the project's default settings, which a refused -s names
                     "atlas_crawl.settings")


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


#: What a spider may take from the geography: the snapshot's files (ssb_klass refreshes them) and
#: the name of a code (Udir writes the name where a code was asked for). Placing what a source
#: published, a name or a code, is the geography pipeline's alone: a spider hands it the label,
#: the heading it sits under and the row's level, and the manifest's `places:` say how to place
#: it (geo.resolve, the Reference behind it, and any helper that calls them are not for spiders).
GEO_FOR_SPIDERS = ("atlas_crawl.geo.snapshot", "atlas_crawl.geo.klass_snapshot",
                   "atlas_crawl.geo.name_of")


def geography_uses(source: str) -> list[str]:
    """The geography's names a module takes, imported or reached through `geo.` (after `from
    atlas_crawl import geo` or `import atlas_crawl.geo`), other than GEO_FOR_SPIDERS."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("atlas"):
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Attribute) and (
                isinstance(node.value, ast.Name) and node.value.id == "geo"
                or isinstance(node.value, ast.Attribute) and node.value.attr == "geo"):
            found.add(f"atlas_crawl.geo.{node.attr}")
    return sorted(m for m in found
                  if m.startswith("atlas_crawl.geo.") and not m.startswith(GEO_FOR_SPIDERS))


def test_spiders_leave_placing_to_the_geography_pipeline():
    placing = {path.name: geography_uses(path.read_text(encoding="utf-8"))
               for path in sorted((PACKAGE / "spiders").glob("*.py"))}
    assert {name: uses for name, uses in placing.items() if uses} == {}


def test_the_placing_check_finds_the_resolver_and_its_helpers():
    assert geography_uses("from atlas_crawl.geo import resolve") == ["atlas_crawl.geo.resolve"]
    assert geography_uses("from atlas_crawl.geo.reference import resolve") == [
        "atlas_crawl.geo.reference", "atlas_crawl.geo.reference.resolve"]
    assert geography_uses("from atlas_crawl.geo.labels import place_of_label") == [
        "atlas_crawl.geo.labels", "atlas_crawl.geo.labels.place_of_label"]
    assert geography_uses("from atlas_crawl import geo\ngeo.resolve('Bø')") == [
        "atlas_crawl.geo.resolve"]
    assert geography_uses("import atlas_crawl.geo\natlas_crawl.geo.reference().resolve('Bø')"
                          ) == ["atlas_crawl.geo.reference"]
    assert geography_uses("from atlas_crawl.geo import name_of, klass_snapshot\n"
                          "from atlas_crawl.geo.snapshot import DATA_DIR") == []


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


ROOT_MODULES = {"__init__.py", "__main__.py", "items.py", "settings.py", "signals.py"}
WINGS = {"fetch", "spiders", "formats", "geo", "pipelines", "store", "run", "watch", "publish",
         "manifests"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def import_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports (a name imported from a package is an arrow to
    that submodule where one exists, else to the package)."""
    graph = {}
    for name, path in MODULES.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module \
                    and node.module.startswith("atlas_crawl"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    targets.add(sub if sub in MODULES else node.module)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name in MODULES}
        graph[name] = targets - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def wing_of(module: str) -> str:
    """The wing a module lives in; each module at the root (items, settings, the entry point,
    the package's face) stands for itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in WINGS else module


def test_the_root_holds_items_settings_and_the_entry_point_only():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ROOT_MODULES)
    folders = sorted(p.name for p in PACKAGE.iterdir()
                     if p.is_dir() and p.name not in WINGS and not p.name.startswith("__"))
    assert (loose, folders) == ([], [])


def test_no_import_circle_between_modules():
    assert circles(import_graph()) == []


def test_no_import_circle_between_wings():
    wings: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        for target in targets:
            if wing_of(module) != wing_of(target):
                wings.setdefault(wing_of(module), set()).add(wing_of(target))
    assert circles(wings) == []


def test_the_circle_check_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_parsers_import_nothing_from_store_run_watch_pipelines_or_publish():
    graph = import_graph()
    wrong = {m: sorted(t for t in targets if wing_of(t) in
                       {"store", "run", "watch", "pipelines", "publish", "spiders"})
             for m, targets in graph.items() if wing_of(m) == "formats"}
    assert {m: t for m, t in wrong.items() if t} == {}


def test_the_store_imports_no_wing_that_runs_or_publishes():
    graph = import_graph()
    wrong = {m: sorted(t for t in targets if wing_of(t) in {"run", "publish", "pipelines",
                                                            "spiders"})
             for m, targets in graph.items() if wing_of(m) == "store"}
    assert {m: t for m, t in wrong.items() if t} == {}
