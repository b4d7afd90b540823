#!/usr/bin/env bash
# The project's checks, exactly as CI runs them: lint, types, then the test suite on two workers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check
.venv/bin/ruff format --check
.venv/bin/mypy src
.venv/bin/python -m pytest -n 2 -q "$@"
