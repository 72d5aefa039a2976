import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkDocLinks, headingAnchors, scannedFiles } from './doc_links.ts';
import { REPO_ROOT } from './import_cycles.ts';

// Broken references are built from parts: the repository scan below must not find them in this file's text.
const DOC = ['docs', 'design.md'].join('/');
const GONE = ['docs', 'gone.md'].join('/');
const OLD = ['DESIGN', 'section', '4'].join(' ');
const tmp = mkdtempSync(path.join(tmpdir(), 'ssmb-links-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('references to documents', () => {
  it('anchors are GitHub\'s: lower case, punctuation dropped, spaces to hyphens, repeats numbered, fences ignored', () => {
    const a = headingAnchors('# Design reference\n## The SSMB block\n## Evaluation and metric conventions\n```sh\n# not a heading\n```\n## Losses\n## Losses\n### `ssmb reproduce` (paper tables)\n');
    expect([...a]).toEqual(['design-reference', 'the-ssmb-block', 'evaluation-and-metric-conventions', 'losses', 'losses-1', 'ssmb-reproduce-paper-tables']);
  });

  it('finds missing files, missing sections and citations of a design file outside the repository (the check can fail)', () => {
    const put = (f: string, text: string) => {
      mkdirSync(path.dirname(path.join(tmp, f)), { recursive: true });
      writeFileSync(path.join(tmp, f), text);
    };
    put('docs/design.md', '# Design\n## The SSMB block\n## Losses\n');
    put('README.md', `See [the block](docs/design.md#the-ssmb-block), [gone](${GONE}), [web](https://x.org/a.md), [here](#top).\n`);
    put('packages/core/src/a.ts', `// L_cc (docs/design.md#losses)\n// the router (${DOC}#router), see ${OLD}\n`);
    put('packages/core/src/a.test.ts', `// fixtures are not checked: ${DOC}#nowhere\n`);
    put('packages/core/node_modules/x/b.ts', `// ${DOC}#nowhere (a dependency: not ours)\n`);
    put('docs/guide.md', 'Back to [the README](../README.md) and [a section](design.md#losses-and-more).\n');
    expect(scannedFiles(tmp)).toEqual(['README.md', 'docs/design.md', 'docs/guide.md', 'packages/core/src/a.ts']);
    expect(checkDocLinks(tmp).map((p) => `${p.file}:${p.line} ${p.ref}: ${p.problem}`)).toEqual([
      `README.md:1 ${GONE}: ${GONE} does not exist`,
      'docs/guide.md:1 design.md#losses-and-more: docs/design.md has no section #losses-and-more (sections: design, the-ssmb-block, losses)',
      `packages/core/src/a.ts:2 ${DOC}#router: docs/design.md has no section #router (sections: design, the-ssmb-block, losses)`,
      `packages/core/src/a.ts:2 ${OLD}: cites a design file outside the repository; point to docs/design.md#<section>`,
    ]);
  });

  it('every document, section and design citation in the repository exists', () => {
    const files = scannedFiles(REPO_ROOT);
    expect(files.length).toBeGreaterThan(200); // the repository was really walked
    expect(files).toContain('docs/design.md');
    expect(checkDocLinks(REPO_ROOT, files).map((p) => `${p.file}:${p.line} ${p.ref}: ${p.problem}`)).toEqual([]);
  });
});
