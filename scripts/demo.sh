#!/usr/bin/env bash
# Sets up and runs the main job: for now, the planner on an example patient.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/infusionist plan --course 1 --first-day 2026-12-07 --start 09:00 \
  --timezone Europe/Berlin --sex female --childbearing-potential yes --patient-id EXAMPLE-001 \
  --config examples/centre.yaml "$@"
