#!/usr/bin/env bash
# Set up (virtualenv, packages, Debian's chromium for the browser tests) and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/install-chromium.sh
.venv/bin/python -m pytest "$@"
