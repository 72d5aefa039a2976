#!/usr/bin/env node
// Runs every project's tests through nx, then sums the per-package vitest JSON reports into one
// closing line "N passed, N failed" (what CI reads). Exit code: non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensureSystemPackages } from './system-deps.mjs';

const root = path.resolve(import.meta.dirname, '..');

// System packages first (Chromium for the browser tests, ...): a fresh machine gets them with apt-get.
const deps = ensureSystemPackages();
if (!deps.ok) {
  console.error(`\nnpm test: ${deps.message}`);
  console.log('\n0 passed, 1 failed');
  process.exit(1);
}
const resultsDir = path.join(root, '.test-results');
rmSync(resultsDir, { recursive: true, force: true });

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
const args = ['nx', 'run-many', '-t', 'test', '--output-style=stream', '--nxBail=false', ...process.argv.slice(2)];
const nx = spawnSync('npx', args, { cwd: root, env, stdio: 'inherit' });

let passed = 0, failed = 0, skipped = 0;
// Every failed test by name, with its first message line, just above the totals: a CI log keeps only
// its tail, and a failure that does not say which test it was cannot be chased.
const failures = [];
const reports = existsSync(resultsDir) ? readdirSync(resultsDir).filter((f) => f.endsWith('.json')) : [];
for (const file of reports) {
  const report = JSON.parse(readFileSync(path.join(resultsDir, file), 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0);
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that failed to load has no tests inside it: count it as a failure so it is not silent.
  for (const suite of report.testResults ?? []) {
    const file = path.relative(root, suite.name ?? '');
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) {
      failed += 1;
      failures.push(`${file}: the file failed to load: ${firstLine(suite.message)}`);
    }
    for (const t of suite.assertionResults ?? []) {
      if (t.status === 'failed') failures.push(`${file} > ${t.fullName ?? t.title}: ${firstLine((t.failureMessages ?? [])[0])}`);
    }
  }
}
function firstLine(message) {
  const line = String(message ?? '').split('\n').find((l) => l.trim() !== '') ?? '(no message)';
  return line.replace(/\u001b\[[0-9;]*m/g, '').slice(0, 400);
}
if (failures.length > 0) {
  console.log(`\nFailed tests (${failures.length}):`);
  for (const f of failures) console.log(`  ${f}`);
}
const nxFailed = nx.status !== 0;
if (nxFailed && failed === 0) failed = 1; // nx itself failed (typecheck, missing report): never report green
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || nxFailed ? 1 : 0);
