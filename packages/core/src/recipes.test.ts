// Pins docs/recipes.md: each pinned recipe is followed as written on its throw-away example. The files it
// says to save are written under `_recipe_`-prefixed names (the op directory's scan and every registry list
// skip them, so a package test running at the same time never sees a half-written extension) and removed
// afterwards; the example's own test runs as a separate vitest process, as a contributor would run it.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from './tf.ts';
import { getExpertKind, hasExpertKind } from './ssmb/experts/index.ts';
import { SSMBBlock } from './ssmb/ssmb_block.ts';
import { compare, SYNTH_SEED, useParitySuite } from './engine/parity_compare.ts';

const PKG = path.resolve(import.meta.dirname, '..');
const REPO = path.resolve(PKG, '..', '..');
const RECIPES = readFileSync(path.join(REPO, 'docs', 'recipes.md'), 'utf8');
const written: string[] = [];
afterAll(() => { for (const f of written) rmSync(f, { force: true }); });

/** The recipe section's "Save as `path`:" blocks, as [repository path, text]. */
function savedFiles(section: string): [string, string][] {
  const start = RECIPES.indexOf(`## ${section}`);
  expect(start, `docs/recipes.md has a section "${section}"`).toBeGreaterThanOrEqual(0);
  const end = RECIPES.indexOf('\n## ', start + 3);
  const text = RECIPES.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/Save as `([^`]+)`:\s*\n\s*```ts\n([\s\S]*?)```/g)].map((m) => [m[1], m[2]]);
}

/** Writes a recipe file beside where it belongs, under a `_recipe_` name; `renames` maps the recipe's own
 *  file names (as other saved files import them) to the written ones. */
function save(repoPath: string, text: string, renames: Record<string, string>): string {
  let out = text;
  for (const [from, to] of Object.entries(renames)) out = out.replaceAll(`'./${from}'`, `'./${to}'`);
  const file = path.join(REPO, path.dirname(repoPath), `_recipe_${path.basename(repoPath)}`);
  writeFileSync(file, out);
  written.push(file);
  return file;
}

describe('docs/recipes.md, followed as written', () => {
  it('a gradient op: the op file and its test; the test passes in its own vitest run', () => {
    const files = savedFiles('A gradient op');
    expect(files.map(([f]) => f)).toEqual(['packages/core/src/engine/ops/tanh.ts', 'packages/core/src/engine/ops/tanh.test.ts']);
    const renames = { 'tanh.ts': '_recipe_tanh.ts' };
    for (const [f, text] of files) save(f, text, renames);
    const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', 'src/engine/ops/_recipe_tanh.test.ts'], { cwd: PKG, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/1 passed/);
  });

  describe('an expert kind', () => {
    useParitySuite();
    beforeAll(async () => {
      const files = savedFiles('An expert kind');
      expect(files.map(([f]) => f)).toEqual(['packages/core/src/ssmb/experts/shift.ts']);
      const [[f, text]] = files;
      await import(save(f, text, {}));
    });

    it('registers; the block starts as the identity', () => {
      expect(hasExpertKind('shift')).toBe(true);
      expect(getExpertKind('shift').params({ channels: 3, numExperts: 2, hidden: 4 }).map((p) => p.key)).toEqual(['experts.dbeta']);
      const block = new SSMBBlock({ channels: 4, numExperts: 3, kind: 'shift', seed: 1 });
      const x = tf.randomNormal([5, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
      const out = block.apply(x);
      expect(Array.from(out.y.dataSync())).toEqual(Array.from(x.dataSync()));
      tf.dispose([x, out.y, out.routing.probs, out.routing.expert, out.routing.gate]);
      block.dispose();
    });

    it('trains on onnxruntime with tfjs autodiff\'s gradients (the engine parity check every kind passes)', async () => {
      await compare('iresnet-synth', 2, 'shift', ['stem', 'layer1'], 4, SYNTH_SEED);
    });
  });
});
