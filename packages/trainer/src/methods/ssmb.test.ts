import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.ts';
import { runKindFor } from '../launch.ts';
import { SSMB } from './ssmb.ts';

describe('method ssmb', () => {
  it('builds the HFR model from the ssmb keys exactly as before the registry (no label, every key, every loss part)', () => {
    const c = resolveConfig({ base: { seed: 3, ssmb: { numExperts: 2, positions: ['stem', 'layer2'], hiddenWidth: 24, routerInput: 'mean', routerJitter: 0.1, routing: 'soft' } } });
    expect(SSMB.model!(c)).toEqual({ taps: ['stem', 'layer2'], numExperts: 2, hidden: 24, kind: 'style', routerInput: 'mean', routerJitter: 0.1, routing: 'soft', seed: 3 });
    expect(SSMB.model!(resolveConfig({})).hidden).toBeUndefined();
    expect(SSMB).toMatchObject({ trains: true, losses: ['cc', 'ts', 'lb'], label: { training: false, inference: false } });
    expect(SSMB.selection).toBeUndefined();
    expect(runKindFor(resolveConfig({}))).toBe('train');
  });
});
