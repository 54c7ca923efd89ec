#!/usr/bin/env bash
# Set up, run `update` on the bundled recordings (replay mode: the change monitor, then every
# source that is due, into atlas.db, then the catalogue metadata), and serve it read-only with
# Datasette at http://127.0.0.1:8001
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/python -m atlas_crawl update --replay --db atlas.db --metadata metadata.yml
exec .venv/bin/python -m atlas_crawl serve --db atlas.db --metadata metadata.yml --port "${PORT:-8001}"
