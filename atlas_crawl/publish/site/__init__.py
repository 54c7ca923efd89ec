"""The catalogue's own pages and look, served by Datasette (`python -m atlas_crawl serve`):

- `templates/`: a front page for people (sources by topic, search, status symbols explained),
  canned queries titled by their title, column descriptions folded on table pages;
- `plugins/atlas_site.py`: the Datasette plugin (template data, cell rendering, chart and map
  pages), a thin layer over `front.py`, `charts.py` and `maps.py`; `plugins/precomputed_facets.py`
  answers row counts and facets of large tables from `_facet_counts` (see `publish/fast.py`);
- `static/`: the page script and style, and the kommune boundaries for the map.
"""

from pathlib import Path

SITE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = SITE_DIR / "templates"
PLUGINS_DIR = SITE_DIR / "plugins"
STATIC_DIR = SITE_DIR / "static"
STATIC_MOUNT = "atlas-static"  # served at /atlas-static/
