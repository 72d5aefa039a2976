// Every string-valued config key is either a path (CONFIG_PATH_KEYS: the dashboard confines it to its
// roots) or listed as not a path: a new path key cannot slip past the launcher's checks unnoticed.
// And the key scopes say which runs a key applies to.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromCli } from './cli_support.ts';
import {
  CONFIG_KEY_SCOPES, CONFIG_PATH_KEYS, NON_PATH_STRING_KEYS, configKeyApplies, defaultConfig, flattenConfigValues, resolveConfig, validateConfig,
} from './config.ts';

describe('config path keys', () => {
  it('every key that can hold a string is a path key or a listed non-path key', () => {
    const keys = Object.keys(flattenConfigValues(defaultConfig()));
    const stringy = keys.filter((k) => {
      // A key holds a string when the schema accepts one for it.
      const probe = k.split('.').reduceRight<unknown>((acc, part) => ({ [part]: acc }), '/probe/value');
      try {
        validateConfig(probe);
        return true;
      } catch {
        return false;
      }
    });
    const listed = new Set<string>([...Object.keys(CONFIG_PATH_KEYS), ...NON_PATH_STRING_KEYS]);
    expect(stringy.filter((k) => !listed.has(k))).toEqual([]);
    for (const k of Object.keys(CONFIG_PATH_KEYS)) expect(keys, k).toContain(k);
    // Enum-valued keys refuse the probe string; they must still be known keys.
    for (const k of NON_PATH_STRING_KEYS) expect(keys, k).toContain(k);
  });

  it('key scopes: ssmb.* only for SSMB runs, pretrain.* only for pre-training, nothing for a sweep parent', () => {
    expect(configKeyApplies('ssmb.numExperts', { kind: 'train', method: 'ssmb' })).toBe(true);
    expect(configKeyApplies('ssmb.numExperts', { kind: 'evaluate', method: 'baseline' })).toBe(false);
    expect(configKeyApplies('pretrain.steps', { kind: 'pretrain', method: null })).toBe(true);
    expect(configKeyApplies('dataset.protocol', { kind: 'pretrain', method: null })).toBe(false);
    expect(configKeyApplies('optim.lr', { kind: 'evaluate', method: 'baseline' })).toBe(false);
    expect(configKeyApplies('backbone.model', { kind: 'pretrain', method: null })).toBe(true);
    expect(configKeyApplies('backbone.model', { kind: 'sweep', method: null })).toBe(false);
    for (const s of CONFIG_KEY_SCOPES) for (const h of s.heads) expect(Object.keys(flattenConfigValues(defaultConfig())).some((k) => k === h || k.startsWith(`${h}.`)), h).toBe(true);
  });

  it('the command line\'s paths (--set and -c files) are recorded absolute, against its working directory; others and defaults untouched', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-paths-'));
    try {
      const file = path.join(dir, 'o.yaml');
      writeFileSync(file, 'backbone: { weights: w/b.safetensors }\noutputDir: out\n');
      const c = resolveConfig({ files: [file], sets: ['dataset.root=../data/tufts', 'pretrain.output=p.safetensors', 'dataset.protocol=synthetic-vis-nir'], cwd: '/home/u/work' });
      expect(c.dataset.root).toBe('/home/u/data/tufts');
      expect(c.backbone.weights).toBe('/home/u/work/w/b.safetensors');
      expect(c.outputDir).toBe('/home/u/work/out');
      expect(c.pretrain.output).toBe('/home/u/work/p.safetensors');
      expect(c.dataset.protocol).toBe('synthetic-vis-nir');
      expect(resolveConfig({ cwd: '/home/u' }).dataset.root).toBe(defaultConfig().dataset.root); // the default is not the user's
      expect(resolveConfig({ base: { dataset: { root: 'rel' } }, cwd: '/home/u' }).dataset.root).toBe('rel'); // a table's base resolves its own
      expect(resolveConfig({ sets: ['dataset.root=rel'] }).dataset.root).toBe('rel'); // no cwd: as given
      expect(configFromCli({ set: ['dataset.root=data/x', 'backbone.weights=null'] })).toMatchObject({ dataset: { root: path.resolve('data/x') }, backbone: { weights: null } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
