#!/usr/bin/env bash
# Creates .venv and installs infusionist with its development tools. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# System libraries, installed only when missing: Pango for WeasyPrint (patient handout PDF),
# poppler-utils (pdftoppm, pdftotext) for the handout's rendering test.
missing=()
ldconfig -p | grep -q 'libpango-1.0.so' || missing+=(libpango-1.0-0)
ldconfig -p | grep -q 'libpangoft2-1.0.so' || missing+=(libpangoft2-1.0-0)
command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update && $SUDO apt-get install -y "${missing[@]}"
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
# The browser tests drive Debian's chromium (never `playwright install`); install it when missing.
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update && apt-get install -y chromium
fi
# axe-core for the browser tests' accessibility checks, from the npm registry, only when missing.
if [ ! -f .cache/axe/node_modules/axe-core/axe.min.js ]; then
  if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update && apt-get install -y npm
  fi
  npm install --prefix .cache/axe --no-audit --no-fund axe-core@4
fi
# The npm package `fhir` (FHIR.js, R4 definitions) validates the FHIR export offline in
# tests/analytics/test_fhir_export.py; only when missing.
if [ ! -f .cache/fhir/node_modules/fhir/package.json ]; then
  if command -v npm >/dev/null 2>&1; then
    npm install --prefix .cache/fhir --no-audit --no-fund fhir@4.12.0
  else
    echo "npm missing: the FHIR validator test will be skipped (it fails when CI=true)" >&2
  fi
fi
