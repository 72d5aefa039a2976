// The methods registry and the checks every method goes through: the config's `method` values, keys that
// do not apply to the chosen method, the loss parts, the label use recorded with a run.
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, resolveConfig, validateConfig } from '../config.ts';
import { launchRun } from '../launch.ts';
import { RunStore } from '../store/run_store.ts';
import { getMethod, isLabelAware, labelProblem, labelUseText, listMethods, methodKeyProblems, methodLossWeights, registerMethod, METHOD_KEYS } from './index.ts';

describe('methods registry', () => {
  it('lists the registered methods in order, and the config schema takes exactly those', () => {
    expect(listMethods()).toEqual(['baseline', 'ssmb', 'ssmb-oracle', 'caim']);
    expect(() => validateConfig({ method: 'pdq' })).toThrow(/config key `method`: expected one of "baseline", "ssmb", "ssmb-oracle", "caim", got "pdq"/);
    expect(() => getMethod('pdq', 'row x')).toThrow('row x: unknown method "pdq"; registered methods: baseline, ssmb, ssmb-oracle, caim');
  });

  it('refuses a malformed or duplicate registration, naming the problem', () => {
    const base = { name: 'x-test', description: 'd', trains: false, trainable: '', network: '', losses: [], keys: [], label: { training: false, inference: false } } as const;
    expect(() => registerMethod({ ...base, name: 'ssmb' })).toThrow('method "ssmb" is already registered');
    expect(() => registerMethod({ ...base, name: 'Bad Name' })).toThrow('name must be lower-case');
    expect(() => registerMethod({ ...base, keys: ['ssmb.nope' as never] })).toThrow('lists unknown key(s) ssmb.nope');
    expect(() => registerMethod({ ...base, trains: true })).toThrow('a method that trains builds a model');
    expect(() => registerMethod({ ...base, label: { training: true, inference: false } })).toThrow('a method that reads the modality label defines selection()');
  });

  it('every method declares what it trains, how it changes the network, its losses, keys and label use', () => {
    for (const name of listMethods()) {
      const m = getMethod(name);
      expect(m.description.length, name).toBeGreaterThan(10);
      expect(m.trainable.length, name).toBeGreaterThan(3);
      expect(m.network.length, name).toBeGreaterThan(3);
      for (const k of m.keys) expect(METHOD_KEYS).toContain(k);
      expect(m.trains, name).toBe(m.losses.length > 0);
    }
    expect(listMethods().filter((n) => isLabelAware(getMethod(n)))).toEqual(['ssmb-oracle', 'caim']);
    expect(listMethods().map((n) => labelUseText(getMethod(n)))).toEqual(['none', 'none', 'training+inference', 'training+inference']);
  });

  it('a key that does not apply to the chosen method is an error naming the method and its keys; at its default it is not', () => {
    expect(() => validateConfig({ method: 'caim', ssmb: { numExperts: 2 } })).toThrow(
      'invalid config: config key `ssmb.numExperts`: 2 does not apply to method caim; its keys: ssmb.hiddenWidth, ssmb.positions, ssmb.expertKind, loss.margin, loss.lambdaTs');
    expect(() => validateConfig({ method: 'caim', ssmb: { routerInput: 'mean' }, loss: { alpha: 0.5 } })).toThrow(
      /config key `ssmb.routerInput`: "mean" does not apply to method caim; its keys: .*; config key `loss.alpha`: 0.5 does not apply to method caim/);
    // baseline trains nothing: the training keys a shared base sets for the rows that train are unused by it
    expect(validateConfig({ method: 'baseline', ssmb: { positions: ['stem'] }, loss: { alpha: 0.5 } }).method).toBe('baseline');
    expect(() => validateConfig({ method: 'ssmb-oracle', ssmb: { routing: 'soft' } })).toThrow('config key `ssmb.routing`: "soft" does not apply to method ssmb-oracle');
    // the stored, resolved config of any run holds every key at its default: it validates again
    for (const m of listMethods()) expect(validateConfig({ ...defaultConfig(), method: m }).method).toBe(m);
    expect(methodKeyProblems({ ...defaultConfig(), method: 'ssmb' }, defaultConfig())).toEqual([]);
  });

  it('trains each method on its loss parts only (ssmb: all three, as before; label methods: no load balancing)', () => {
    const loss = { margin: 0.1, lambdaTs: 2, alpha: 0.05 };
    expect(methodLossWeights(getMethod('ssmb'), loss)).toEqual(loss);
    expect(methodLossWeights(getMethod('caim'), loss)).toEqual({ margin: 0.1, lambdaTs: 2, alpha: 0 });
    expect(methodLossWeights(getMethod('ssmb-oracle'), loss)).toEqual({ margin: 0.1, lambdaTs: 2, alpha: 0 });
  });

  it('a label-aware method asked to evaluate a protocol whose images it has no label for: a clear error; others never', () => {
    const c = resolveConfig({ base: { method: 'ssmb-oracle', dataset: { protocol: 'synthetic-vis-nir' } } });
    expect(labelProblem(getMethod('ssmb-oracle'), c, 'synthetic-vis-nir')).toBeNull();
    expect(labelProblem(getMethod('ssmb-oracle'), c, 'synthetic-vis-thermal')).toBe(
      "method ssmb-oracle needs each image's modality label at inference and was built for VIS, NIR (the training images of synthetic-vis-nir); protocol synthetic-vis-thermal's probe images are THERMAL, a modality it has no label for");
    expect(labelProblem(getMethod('ssmb'), c, 'synthetic-vis-thermal')).toBeNull();
  });

  it('launching: a label method whose training protocol is unknown is refused before anything is queued', () => {
    const store = RunStore.open(':memory:');
    try {
      const c = resolveConfig({ base: { method: 'caim', dataset: { protocol: 'no-such-protocol' } } });
      expect(() => launchRun(store, c, { experiment: 'x' })).toThrow(ConfigError);
      expect(() => launchRun(store, c, { experiment: 'x' })).toThrow(/method caim: .*no-such-protocol/);
      expect(store.listRuns({}).length).toBe(0);
    } finally {
      store.close();
    }
  });
});
