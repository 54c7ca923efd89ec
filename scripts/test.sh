#!/usr/bin/env bash
# Set up (virtualenv, packages, Debian's chromium for the browser tests) and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/install-chromium.sh
# Python keeps what it compiles. Where PYTHONDONTWRITEBYTECODE is set, each of the hundred-odd
# `scrapy` processes the suite starts would compile the package again, and every worker would
# rewrite the asserts of every test module again on every run (pytest keeps its rewritten
# modules only where Python may write). The package is compiled once, before the workers start.
unset PYTHONDONTWRITEBYTECODE
.venv/bin/python -m compileall -q -j 0 atlas_crawl
# Independent tests run in parallel (each test has its own temporary database and port), a
# whole module to a worker so that its shared fixtures (a published catalogue, a Datasette
# server) are built once; tests/conftest.py hands out the golden cases and the fault tests one
# at a time and starts the slowest modules first. A third of the suite's time is spent waiting on
# servers, browsers and timeouts, so there is one worker more than there are cores;
# ATLAS_TEST_WORKERS=0 runs the tests in this process, one after another.
workers="${ATLAS_TEST_WORKERS:-$(( $(nproc) + 1 ))}"
.venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
