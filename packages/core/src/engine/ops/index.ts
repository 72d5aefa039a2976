// The op table's one list is this directory: every `<op>.ts` here (not tests, not `_`-prefixed) registers
// one op with registerOp when imported, so adding an op gradient is one new file (and its test beside it).
// ops.test.ts checks that each file registers the op its name says and that each has its test.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Op files of this directory, sorted (the order of registration). */
export function opFiles(dir = import.meta.dirname): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'index.ts' && !f.startsWith('_')).sort();
}

for (const f of opFiles()) await import(pathToFileURL(path.join(import.meta.dirname, f)).href);
