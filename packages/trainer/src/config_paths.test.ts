// Every string-valued config key is either a path (CONFIG_PATH_KEYS: the dashboard confines it to its
// roots) or listed as not a path: a new path key cannot slip past the launcher's checks unnoticed.
// And the key scopes say which runs a key applies to.
import { describe, expect, it } from 'vitest';
import { CONFIG_KEY_SCOPES, CONFIG_PATH_KEYS, NON_PATH_STRING_KEYS, configKeyApplies, defaultConfig, flattenConfigValues, validateConfig } from './config.ts';

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
});
