import { describe, expect, it } from 'vitest';
import { costOf, estimateRow, type MeasuredRow } from './plan.ts';

const row = (over: Partial<MeasuredRow>): MeasuredRow => ({ model: 'iresnet18', provider: 'webgpu', batch: 16, openS: 2, firstS: 30, stepS: 1, inferS: 0.5, ...over });

describe('GPU check row estimate', () => {
  it('is unknown until the provider has a measured row', () => {
    expect(estimateRow([], 'iresnet18', 'webgpu', 16)).toBeNull();
    expect(estimateRow([row({ provider: 'cpu' })], 'iresnet18', 'webgpu', 16)).toBeNull();
  });

  it('scales the same model by batch: opening, the first run extra once, warm-up + timed run of step and inference', () => {
    // 2 + (30 - 1) + 2 * (1 + 0.5) * 4
    expect(estimateRow([row({})], 'iresnet18', 'webgpu', 64)).toBeCloseTo(43, 10);
  });

  it('scales another model by its blocks x input area, from the provider\'s last row', () => {
    expect(costOf('iresnet100') / costOf('iresnet18')).toBeCloseTo(50 / 9, 10); // 49 + 1 blocks vs 8 + 1
    const ratio = 50 / 9;
    expect(estimateRow([row({})], 'iresnet100', 'webgpu', 16)).toBeCloseTo(2 * ratio + 29 + 2 * 1.5 * ratio, 10);
  });

  it('counts work that was not run (NaN) as nothing, and inference not measured as a third of a step', () => {
    expect(estimateRow([row({ openS: NaN, stepS: NaN, firstS: 3 })], 'iresnet18', 'webgpu', 32)).toBeCloseTo(3 + 2 * 0.5 * 2, 10);
    // the gradient check's seed: one step, no inference
    expect(estimateRow([row({ firstS: 1, inferS: NaN })], 'iresnet18', 'webgpu', 16)).toBeCloseTo(2 + 2 * (1 + 1 / 3), 10);
  });

  it('prefers the latest row of the same model', () => {
    const rows = [row({ batch: 8, stepS: 100 }), row({ model: 'iresnet100', stepS: 7 }), row({ stepS: 2, firstS: 2, openS: 0, inferS: 0 })];
    expect(estimateRow(rows, 'iresnet18', 'webgpu', 16)).toBeCloseTo(4, 10);
  });
});
