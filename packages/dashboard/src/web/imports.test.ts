// The browser app's module graph: no import cycles (views import router.ts / meta.ts / components.tsx,
// never App.tsx or each other), and no node code reaches the bundle (value imports from the server side
// only through pure subpaths such as @ssmb/trainer/flatten; types are erased).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const WEB = import.meta.dirname;
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : [];
  });

interface Import { spec: string; typeOnly: boolean }
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)].map((m) => ({ spec: m[2] ?? m[3], typeOnly: !!m[1] }));
}

describe('web app imports', () => {
  const all = files(WEB);
  const graph = new Map(all.map((f) => [f, importsOf(f).filter((i) => i.spec.startsWith('.') && !i.typeOnly).map((i) => path.resolve(path.dirname(f), i.spec)).filter((p) => p.startsWith(WEB))]));

  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'visiting') {
        cycles.push([...trail.slice(trail.indexOf(f)), f].map((x) => path.relative(WEB, x)).join(' -> '));
        return;
      }
      state.set(f, 'visiting');
      for (const g of graph.get(f) ?? []) visit(g, [...trail, f]);
      state.set(f, 'done');
    };
    for (const f of all) visit(f, []);
    expect(cycles).toEqual([]);
    expect(all.length).toBeGreaterThan(10);
  });

  it('views import no other view and not the shell', () => {
    for (const f of all.filter((x) => x.includes(`${path.sep}views${path.sep}`))) {
      const bad = (graph.get(f) ?? []).filter((g) => g.includes(`${path.sep}views${path.sep}`) || g.endsWith(`${path.sep}App.tsx`));
      expect(bad.map((b) => path.relative(WEB, b)), path.relative(WEB, f)).toEqual([]);
    }
  });

  it('pulls no node code into the bundle', () => {
    const allowed = /^(react|react-dom|react-dom\/client|recharts|@tanstack\/react-virtual|@ssmb\/trainer\/flatten|@ssmb\/trainer\/display-order|\.{1,2}\/.*)$/;
    for (const f of all) {
      for (const i of importsOf(f)) {
        if (i.typeOnly) continue;
        expect(i.spec, `${path.relative(WEB, f)} imports ${i.spec}`).toMatch(allowed);
        if (i.spec.startsWith('..')) expect(path.resolve(path.dirname(f), i.spec).startsWith(WEB), `${path.relative(WEB, f)} imports ${i.spec}`).toBe(true);
      }
    }
  });
});
