#!/usr/bin/env bash
# Set up (virtualenv, packages, Debian's chromium for the browser tests) and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/install-chromium.sh
# Compiled once here: where PYTHONDONTWRITEBYTECODE is set, each of the hundred-odd `scrapy`
# processes the suite starts would compile the package again.
.venv/bin/python -m compileall -q -j 0 atlas_crawl
# Independent tests run in parallel, one worker per core (each test has its own temporary
# database and port), a whole module to a worker so that its shared fixtures (a published
# catalogue, a Datasette server) are built once; ATLAS_TEST_WORKERS=0 runs them in this
# process, one after another.
.venv/bin/python -m pytest -n "${ATLAS_TEST_WORKERS:-auto}" --dist loadfile "$@"
