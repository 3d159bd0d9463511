#!/usr/bin/env bash
# Sets up and opens the demo unit: a fresh database with patients in every state of a day,
# served at http://127.0.0.1:8000/ (users nurse, physician, investigator, admin; password demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/infusionist demo "$@"
