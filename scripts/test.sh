#!/usr/bin/env bash
# The project's checks, exactly as CI runs them: lint, types, then the test suite on two workers.
#   bash scripts/test.sh           everything
#   bash scripts/test.sh --fast    everything but the tests marked `slow` (under a minute), while iterating
# Further arguments go to pytest, e.g. `bash scripts/test.sh --fast tests/test_gate.py`.
set -euo pipefail
cd "$(dirname "$0")/.."
marks=()
if [ "${1:-}" = "--fast" ]; then
    shift
    marks=(-m "not slow")
fi
bash scripts/setup.sh
.venv/bin/ruff check
.venv/bin/ruff format --check
.venv/bin/mypy src
.venv/bin/python -m pytest -n 2 -q "${marks[@]}" "$@"
