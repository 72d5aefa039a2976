import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('AveragePool gradient', () => {
  it('matches finite differences: 2x2 stride 2 on an odd side (a row and column no window reaches)', async () => {
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [2, 3, 5, 5] }],
      build: (b, v) => b.op1('AveragePool', [v.x], { kernel_shape: [2, 2], strides: [2, 2] }),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
  it('matches finite differences: overlapping 3x3 stride 2 windows', async () => {
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [1, 2, 7, 6] }],
      build: (b, v) => b.op1('AveragePool', [v.x], { kernel_shape: [3, 3], strides: [2, 2] }),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
  it('names padded pools', async () => {
    await expect(gradCheck({
      inputs: [{ name: 'x', shape: [1, 2, 4, 4] }],
      build: (b, v) => b.op1('AveragePool', [v.x], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
    })).rejects.toThrow(/pads \[1,1,1,1\].*the engine handles unpadded pools/);
  });
});
