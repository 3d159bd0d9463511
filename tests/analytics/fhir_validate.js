// Validates FHIR JSON files offline with the npm package `fhir` (lantanagroup FHIR.js, FHIR R4
// 4.0.0 definitions, value sets included) and prints one JSON line:
// [{"file": ..., "valid": true|false, "resources": n, "errors": [...], "warnings": [...]}]
// A `.ndjson` file (FHIR Bulk Data) holds one resource per line: each line is validated and its
// errors carry the line number (`line`, from 1).
// Usage: NODE_PATH=.cache/fhir/node_modules node tests/analytics/fhir_validate.js FILE...
'use strict';
const fs = require('fs');
const { Fhir } = require('fhir');

const fhir = new Fhir();
const results = process.argv.slice(2).map((file) => {
  const text = fs.readFileSync(file, 'utf8');
  const resources = file.endsWith('.ndjson')
    ? text.split('\n').map((line, i) => [i + 1, line]).filter(([, line]) => line !== '')
    : [[null, text]];
  let valid = true;
  const errors = [];
  const warnings = [];
  for (const [line, json] of resources) {
    const result = fhir.validate(JSON.parse(json), { errorOnUnexpected: true });
    const messages = (result.messages || []).map((m) => (line === null ? m : { ...m, line }));
    valid = valid && result.valid;
    errors.push(...messages.filter((m) => m.severity === 'error'));
    warnings.push(...messages.filter((m) => m.severity === 'warning'));
  }
  return { file, valid, resources: resources.length, errors, warnings };
});
process.stdout.write(JSON.stringify(results) + '\n');
