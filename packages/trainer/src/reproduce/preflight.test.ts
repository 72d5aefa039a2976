import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseRootFlags, preflight, PreflightError, resolveInputs } from './preflight.ts';
import { demoTable } from './fixtures.test-helpers.ts';

describe('preflight', async () => {
  const repo = mkdtempSync(path.join(tmpdir(), 'ssmb-preflight-'));

  it('names every missing path at once: dataset root and weights file', async () => {
    const cfg = demoTable();
    const inputs = resolveInputs(cfg, { baseDir: repo, roots: { synth: 'nope/synth' }, weights: 'nope/w.safetensors', cwd: repo });
    const problems = await preflight(cfg, inputs);
    expect(problems.map((p) => p.kind)).toEqual(['dataset-root', 'weights']);
    expect(problems[0].subject).toBe(path.join(repo, 'nope/synth'));
    expect(problems[1].subject).toBe(path.join(repo, 'nope/w.safetensors'));
    const err = new PreflightError(problems, 'demo');
    expect(err.message).toContain(path.join(repo, 'nope/synth'));
    expect(err.message).toContain(path.join(repo, 'nope/w.safetensors'));
    expect(err.message).toMatch(/nothing was run/);
  });

  it('uses the table defaults relative to the repo, and passes when everything exists', async () => {
    mkdirSync(path.join(repo, 'data/synth'), { recursive: true });
    mkdirSync(path.join(repo, 'weights'), { recursive: true });
    writeFileSync(path.join(repo, 'weights/backbone.safetensors'), 'x');
    const cfg = demoTable();
    const inputs = resolveInputs(cfg, { baseDir: repo, cwd: '/' });
    expect(inputs).toEqual({ roots: { synth: path.join(repo, 'data/synth') }, weights: path.join(repo, 'weights/backbone.safetensors') });
    expect(await preflight(cfg, inputs)).toEqual([]);
  });

  it('resolves symlinked roots and weights to the real paths (runs record what they read)', () => {
    mkdirSync(path.join(repo, 'data/synth-abc123'), { recursive: true });
    symlinkSync(path.join(repo, 'data/synth-abc123'), path.join(repo, 'link-synth'));
    const inputs = resolveInputs(demoTable(), { baseDir: repo, roots: { synth: 'link-synth' }, cwd: repo });
    expect(inputs.roots.synth).toBe(path.join(repo, 'data/synth-abc123'));
  });

  it('reports unregistered protocols and files a protocol check finds missing', async () => {
    const cfg = demoTable();
    const inputs = resolveInputs(cfg, { baseDir: repo });
    const problems = await preflight(cfg, inputs, {
      hasProtocol: (p) => p !== 'p-vis-vis',
      datasetProblems: (p, root) => [`${root}/lists/${p}.txt is missing`],
    });
    expect(problems.map((p) => p.kind)).toEqual(['protocol', 'dataset-files']);
    expect(problems[0].message).toMatch(/"p-vis-vis" is not registered/);
    expect(problems[1].subject).toBe(`${path.join(repo, 'data/synth')}/lists/p-vis-nir.txt is missing`);
  });

  it('asks for roots and weights the table does not default', async () => {
    const cfg = { ...demoTable(), datasets: { synth: { root: null } }, weights: null };
    const problems = await preflight(cfg, resolveInputs(cfg, { baseDir: repo }));
    expect(problems.map((p) => p.message)).toEqual([
      'dataset "synth" has no root: pass --root synth=DIR',
      'table "demo" needs pre-trained backbone weights: pass --weights FILE',
    ]);
    expect(await preflight(cfg, resolveInputs(cfg, { baseDir: repo }), { weightsOptional: true })).toHaveLength(1);
  });

  it('a missing weights file of a backbone that ships on npm says how to import it', async () => {
    const cfg = { ...demoTable(), base: { backbone: { model: 'dlib-resnet29' } } };
    const inputs = resolveInputs(cfg, { baseDir: repo, weights: 'nope/dlib.safetensors', cwd: repo });
    const w = (await preflight(cfg, inputs)).find((p) => p.kind === 'weights')!;
    expect(w.message).toBe(`weights file ${path.join(repo, 'nope/dlib.safetensors')} does not exist (pass --weights FILE); the weights of dlib-resnet29 ` +
      `ship in @vladmandic/face-api: \`ssmb import-weights --family dlib-resnet29 --out ${path.join(repo, 'nope/dlib.safetensors')}\``);
  });

  it('parses --root flags and rejects unknown dataset names', async () => {
    expect(parseRootFlags(['a=/x', 'b=rel/y=z'])).toEqual({ a: '/x', b: 'rel/y=z' });
    expect(() => parseRootFlags(['nodir'])).toThrow(/dataset=DIR/);
    expect(() => resolveInputs(demoTable(), { baseDir: repo, roots: { casia: '/x' } })).toThrow(/no dataset "casia"; its datasets are: synth/);
  });
});
