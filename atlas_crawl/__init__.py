"""atlas_crawl: harvest Norway's public statistics into SQLite, publish them with Datasette."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
__version__ = "0.1.0"
