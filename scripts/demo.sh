#!/usr/bin/env bash
# Set up, run `update` on the bundled recordings (replay mode: every source whose recording is
# a real capture, into atlas.db, then the catalogue metadata; constructed fixtures are left out),
# show how fresh each source is and where its numbers came from, and serve it read-only with
# Datasette at http://127.0.0.1:8001 (PORT=8002 for another port)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8001}"
./scripts/setup.sh
# A taken port is reported now, not after the replay
.venv/bin/python -m atlas_crawl check-port --port "$PORT"
.venv/bin/python -m atlas_crawl update --replay --db atlas.db --metadata metadata.yml
.venv/bin/python -m atlas_crawl status --db atlas.db
exec .venv/bin/python -m atlas_crawl serve --db atlas.db --metadata metadata.yml --port "$PORT"
