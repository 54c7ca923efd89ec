#!/usr/bin/env bash
# Set up, crawl every bundled recording (replay mode) into atlas.db, build the catalogue metadata,
# and serve it read-only with Datasette at http://127.0.0.1:8001
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/python -m atlas_crawl replay-all --db atlas.db
.venv/bin/python -m atlas_crawl publish --db atlas.db --metadata metadata.yml
exec .venv/bin/python -m atlas_crawl serve --db atlas.db --metadata metadata.yml --port "${PORT:-8001}"
