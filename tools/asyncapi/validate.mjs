// Parse an AsyncAPI document with the official parser and print its diagnostics as JSON lines:
// one per diagnostic, then a summary. Exit 0 only if it parsed with no error and no warning.
//   node tools/asyncapi/validate.mjs docs/asyncapi.yaml
import { readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';

const SEVERITIES = ['error', 'warning', 'info', 'hint'];
const path = process.argv[2];
if (!path) {
  console.error('usage: node tools/asyncapi/validate.mjs FILE');
  process.exit(2);
}
const { document, diagnostics } = await new Parser().parse(readFileSync(path, 'utf8'), { source: path });
for (const d of diagnostics) {
  console.log(JSON.stringify({ severity: SEVERITIES[d.severity], code: d.code, message: d.message, path: d.path.join('/') }));
}
const count = (severity) => diagnostics.filter((d) => d.severity === severity).length;
const summary = { parsed: document !== undefined, errors: count(0), warnings: count(1), version: document?.version() };
console.log(JSON.stringify(summary));
process.exit(summary.parsed && summary.errors === 0 && summary.warnings === 0 ? 0 : 1);
