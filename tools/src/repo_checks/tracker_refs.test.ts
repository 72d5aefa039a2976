import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findTrackerRefs, trackerScanFiles } from './tracker_refs.ts';
import { REPO_ROOT } from './import_cycles.ts';

// The references are built from parts: the repository scan below must not find them in this file's text.
const REF = ['issue', '14'].join(' ');
const HASH = ['(', '#', '15', ')'].join('');
const tmp = mkdtempSync(path.join(tmpdir(), 'ssmb-tracker-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('issue-tracker references', () => {
  it('are found in code, tests, docs and printed text; dependencies and build output are not scanned (the check can fail)', () => {
    const put = (f: string, text: string) => {
      mkdirSync(path.dirname(path.join(tmp, f)), { recursive: true });
      writeFileSync(path.join(tmp, f), text);
    };
    put('tools/src/a.ts', `log('Convergence (${REF}: under 5%)');\nconst tissue = 14; // no reference\n`);
    put('packages/x/src/b.test.ts', `// the ablation of ${REF.replace('issue', 'Issue')}\n`);
    put('docs/guide.md', `Fixed in ${HASH}.\n`);
    put('packages/x/node_modules/y/c.ts', `// ${REF}\n`);
    put('packages/x/dist/d.js', `// ${REF}\n`);
    expect(trackerScanFiles(tmp)).toEqual(['docs/guide.md', 'packages/x/src/b.test.ts', 'tools/src/a.ts']);
    expect(findTrackerRefs(tmp).map((r) => `${r.file}:${r.line}`)).toEqual(['docs/guide.md:1', 'packages/x/src/b.test.ts:1', 'tools/src/a.ts:1']);
  });

  it('none in the repository', () => {
    const found = findTrackerRefs(REPO_ROOT);
    expect(found.map((r) => `${r.file}:${r.line}: ${r.text}`)).toEqual([]);
  });
});
