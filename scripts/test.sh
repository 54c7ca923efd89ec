#!/usr/bin/env bash
# Set up (virtualenv, packages, Debian's chromium for the browser tests) and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/install-chromium.sh
# Compiled once here: where PYTHONDONTWRITEBYTECODE is set, each of the hundred-odd `scrapy`
# processes the suite starts would compile the package again.
.venv/bin/python -m compileall -q -j 0 atlas_crawl
# Independent tests run in parallel (each test has its own temporary database and port), a
# whole module to a worker so that its shared fixtures (a published catalogue, a Datasette
# server) are built once. A third of the suite's time is spent waiting on servers, browsers and
# timeouts, so there is one worker more than there are cores; ATLAS_TEST_WORKERS=0 runs the
# tests in this process, one after another.
workers="${ATLAS_TEST_WORKERS:-$(( $(nproc) + 1 ))}"
.venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
