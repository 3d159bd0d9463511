// Validates FHIR JSON files offline with the npm package `fhir` (lantanagroup FHIR.js, FHIR R4
// 4.0.0 definitions, value sets included) and prints one JSON line:
// [{"file": ..., "valid": true|false, "errors": [...], "warnings": n}]
// Usage: NODE_PATH=.cache/fhir/node_modules node tests/analytics/fhir_validate.js FILE...
'use strict';
const fs = require('fs');
const { Fhir } = require('fhir');

const fhir = new Fhir();
const results = process.argv.slice(2).map((file) => {
  const resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  const result = fhir.validate(resource, { errorOnUnexpected: true });
  const messages = result.messages || [];
  return {
    file,
    valid: result.valid,
    errors: messages.filter((m) => m.severity === 'error'),
    warnings: messages.filter((m) => m.severity === 'warning'),
  };
});
process.stdout.write(JSON.stringify(results) + '\n');
