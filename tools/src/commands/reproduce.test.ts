import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, runReproduce } from './reproduce.ts';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'ssmb-reproduce-'));

describe('reproduce preflight', () => {
  it('names every missing path before any training starts and writes nothing to the store', async () => {
    const dir = tmp();
    const store = path.join(dir, 'runs.sqlite');
    const root = path.join(dir, 'no-such-casia');
    const weights = path.join(dir, 'no-such-weights.safetensors');
    const err = await runReproduce({ config: path.join(REPO_ROOT, 'tables/main-casia.yaml'), roots: { casia: root }, weights, store, log: () => {} }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('PreflightError');
    expect(err.message).toContain(root);
    expect(err.message).toContain(weights);
    expect(err.message).toMatch(/nothing was run/);
    expect(existsSync(store)).toBe(false);
  });

  it('lists the protocol files missing under an existing but incomplete dataset root', async () => {
    const dir = tmp();
    const root = path.join(dir, 'casia');
    mkdirSync(root);
    const err = await runReproduce({
      config: path.join(REPO_ROOT, 'tables/main-casia.yaml'), roots: { casia: root }, weights: path.join(dir, 'w.safetensors'), store: path.join(dir, 's.sqlite'), log: () => {},
    }).catch((e) => e);
    expect(err.name).toBe('PreflightError');
    expect(err.message).toContain('protocols/vis_gallery_1.txt');
    expect(err.message).toContain('protocols/nir_probe_10.txt');
    expect(err.message).toContain(path.join(dir, 'w.safetensors'));
  });
});
