import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findImportCycles, formatCycle, SOURCE_DIRS } from './import_cycles.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'ssmb-cycles-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('import cycles', () => {
  it('finds cycles through static, type-only and dynamic imports (the detector can fail)', async () => {
    mkdirSync(path.join(tmp, 'src', 'views'), { recursive: true });
    const put = (f: string, text: string) => writeFileSync(path.join(tmp, 'src', f), text);
    put('a.ts', "import { b } from './b.ts';\nexport const a = () => b;\n");
    put('b.ts', "export async function b() { return (await import('./a.ts')).a; }\n");
    put('app.tsx', "import { View } from './views/view.tsx';\nexport type Route = 'x';\nexport const App = () => View;\n");
    put('views/view.tsx', "import type { Route } from '../app.tsx';\nexport const View = (r: Route) => r;\n");
    put('leaf.ts', "import { a } from './a.ts';\nexport const leaf = a;\n");
    const { cycles } = await findImportCycles(['src'], tmp);
    expect(cycles.map(formatCycle).sort()).toEqual(['src/a.ts -> src/b.ts -> src/a.ts', 'src/app.tsx -> src/views/view.tsx -> src/app.tsx']);
  });

  it(`none in the repository's TypeScript sources (${SOURCE_DIRS.join(', ')})`, async () => {
    const { cycles, files } = await findImportCycles(SOURCE_DIRS);
    expect(files).toBeGreaterThan(100); // the sources were really read
    expect(cycles.map(formatCycle)).toEqual([]);
  });
});
