#!/usr/bin/env bash
# Create .venv (if missing) and install atlas_crawl with its test extra. Safe to run again: pip
# runs only when pyproject.toml, or the checkout the editable install points at, changed since
# the last install (delete .venv/.installed-from to install again regardless).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-from
installed="$(sha256sum pyproject.toml | cut -d' ' -f1) $PWD"
if [ "$(cat "$stamp" 2>/dev/null)" != "$installed" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[test]'
  echo "$installed" > "$stamp"
fi
