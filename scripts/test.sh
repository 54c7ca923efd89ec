#!/usr/bin/env bash
# Set up (virtualenv, packages, Debian's chromium for the browser tests) and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/install-chromium.sh
# Independent tests run in parallel, one worker per core (each test has its own temporary
# database and port); ATLAS_TEST_WORKERS=0 runs them in this process, one after another.
.venv/bin/python -m pytest -n "${ATLAS_TEST_WORKERS:-auto}" "$@"
