import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getProtocol, listProtocols, loadFold, loadSpecDir, protocolFolds, readFold } from './registry.ts';
import { formatSplitFile, makeIdentitySplits, SPLIT_DEFINITIONS, SPLITS_DIR } from './splits.ts';
import { tempRoot, put } from './testing/fake_tree.ts';
import { parseSpec } from './spec.ts';
import YAML from 'yaml';

const tmp = tempRoot('registry');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('protocol registry', () => {
  it('loads every shipped spec, each with folds, including the contract names', () => {
    const names = listProtocols().map((p) => p.name);
    for (const n of ['synthetic-vis-vis', 'synthetic-vis-nir', 'synthetic-vis-thermal', 'synthetic-vis-sketch', 'synthetic-vis-universal']) {
      expect(names).toContain(n);
    }
    for (const p of listProtocols()) {
      expect(protocolFolds(p).length).toBeGreaterThan(0);
      // our own splits are named so nobody mistakes them for another group's
      if (p.origin === 'ssmb' && !p.name.startsWith('synthetic-')) expect(p.name).toMatch(/^ssmb-.*-s\d+-seed\d+$|^mcxface-vis-universal$/);
    }
  });

  it('errors name the unknown protocol, fold or root and list the known ones', async () => {
    expect(() => getProtocol('nope')).toThrow(/unknown protocol 'nope'; known protocols: .*synthetic-vis-nir/);
    expect(() => readFold('synthetic-vis-nir', tmp, '9')).toThrow("protocol 'synthetic-vis-nir' has no fold '9'; its folds: 1, 2, 3");
    await expect(loadFold('synthetic-vis-nir', path.join(tmp, 'absent'), '1')).rejects.toThrow(`dataset root ${path.join(tmp, 'absent')} does not exist`);
  });

  it('rejects a spec with an unknown key, naming the file and the key (built-in dirs throw, user dirs record it)', () => {
    const dir = path.join(tmp, 'specs');
    put(dir, 'bad-spec.yaml', 'name: bad-spec\ndescription: x\nreader: tufts-face\norigin: ssmb\nflavour: 1\nroles: {train: {modalities: [VIS]}, gallery: {modalities: [VIS]}, probe: {modalities: [NIR]}}\nfolds: {kind: fixed-test, name: "1", test: [1]}\n');
    expect(() => loadSpecDir(dir, { strict: true })).toThrow(/bad-spec\.yaml[\s\S]*flavour/);
    const { specs, invalid } = loadSpecDir(dir);
    expect(specs).toEqual([]);
    expect(invalid).toEqual([{ name: 'bad-spec', source: path.join(dir, 'bad-spec.yaml'), reason: expect.stringContaining('flavour') }]);
    expect(() => getProtocol('bad-spec')).toThrow(`protocol spec ${path.join(dir, 'bad-spec.yaml')} is invalid: `);
  });

  it('the README walk-through spec is a valid spec (tools/src/commands/protocols_readme.test.ts runs all of it)', () => {
    const readme = fs.readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const section = readme.indexOf('## Adding a protocol without touching the package');
    expect(section).toBeGreaterThan(0);
    const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(section))![1];
    const spec = parseSpec(YAML.parse(block), 'README.md');
    expect(spec.name).toBe('ssmb-exampleswir-vis-swir-s5-seed2026');
    expect(spec.roles.probe.modalities).toEqual(['SWIR']);
    expect(spec.folds).toMatchObject({ kind: 'subjects', definition: { seed: 2026, folds: 5, train: 20 } });
  });

  it('shipped split files are exactly what the seeded generator produces', () => {
    for (const def of SPLIT_DEFINITIONS) {
      const shipped = fs.readFileSync(path.join(SPLITS_DIR, `${def.name}.json`), 'utf8');
      const split = makeIdentitySplits(def);
      expect(shipped).toBe(formatSplitFile(split));
      for (const f of split.folds) {
        expect(f.train.length + f.test.length).toBe(def.subjects.length);
        expect(f.train.some((id) => f.test.includes(id))).toBe(false);
      }
      expect(split.folds[0].test).not.toEqual(split.folds[1].test);
    }
  });
});
