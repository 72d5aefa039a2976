import { describe, expect, it } from 'vitest';
import { checkRouterOptions, DEFAULT_ROUTER_OPTIONS, routerInputWidth, routerJitterFactors, routerParams, ROUTER_INPUTS, ROUTING_MODES } from './router.ts';
import { mulberry32 } from '../rng.ts';

describe('router options', () => {
  it('defaults are what every block computed before the options existed', () => {
    expect(DEFAULT_ROUTER_OPTIONS).toEqual({ routerInput: 'style', routerJitter: 0, routing: 'top1' });
    expect(checkRouterOptions({})).toEqual(DEFAULT_ROUTER_OPTIONS);
    expect(checkRouterOptions({ routing: 'soft', routerInput: undefined })).toEqual({ ...DEFAULT_ROUTER_OPTIONS, routing: 'soft' });
    expect(ROUTER_INPUTS).toEqual(['style', 'mean']);
    expect(ROUTING_MODES).toEqual(['top1', 'soft']);
  });

  it('bad values name the input and the valid ones', () => {
    expect(() => checkRouterOptions({ routing: 'top2' as never }, 'HFR config')).toThrow('HFR config: routing must be one of top1, soft, received "top2"');
    expect(() => checkRouterOptions({ routerInput: 'var' as never })).toThrow('SSMB router: routerInput must be one of style, mean, received "var"');
    for (const e of [-0.1, 1, Number.NaN, '0.1']) expect(() => checkRouterOptions({ routerJitter: e as never })).toThrow(/routerJitter must be a number in \[0, 1\)/);
  });

  it('router input width and parameters (none for one expert)', () => {
    expect(routerInputWidth('style', 8)).toBe(16);
    expect(routerInputWidth('mean', 8)).toBe(8);
    expect(routerParams(8, 1, 'style')).toEqual([]);
    expect(routerParams(8, 4, 'mean').map((p) => [p.key, p.shape, p.init])).toEqual([
      ['router.weight', [8, 4], { type: 'uniform', bound: 1 / Math.sqrt(8) }], ['router.bias', [4], { type: 'zeros' }],
    ]);
  });

  it('jitter factors lie in [1 - e, 1 + e], cover it, and repeat for the same seed', () => {
    const u = mulberry32(3);
    const f = routerJitterFactors({ next: u }, 0.2, 50, 40);
    expect(f.length).toBe(2000);
    expect(Math.min(...f)).toBeGreaterThanOrEqual(0.8 - 1e-7);
    expect(Math.max(...f)).toBeLessThanOrEqual(1.2 + 1e-7);
    expect(Math.min(...f)).toBeLessThan(0.81);
    expect(Math.max(...f)).toBeGreaterThan(1.19);
    const mean = f.reduce((a, b) => a + b, 0) / f.length;
    expect(Math.abs(mean - 1)).toBeLessThan(0.01);
    expect(Array.from(routerJitterFactors({ next: mulberry32(3) }, 0.2, 50, 40))).toEqual(Array.from(f));
  });
});
