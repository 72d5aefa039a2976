import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Pad gradient', () => {
  it('matches finite differences (zero padding at both ends of channels and space)', async () => {
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [2, 3, 4, 5] }],
      build: (b, v) => b.op1('Pad', [v.x, b.int64('pads', [0, 1, 0, 2, 0, 2, 1, 0])], { mode: 'constant' }),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
  it('names the modes it cannot differentiate', async () => {
    await expect(gradCheck({
      inputs: [{ name: 'x', shape: [1, 2, 3, 3] }],
      build: (b, v) => b.op1('Pad', [v.x, b.int64('pads', [0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'reflect' }),
    })).rejects.toThrow(/mode 'reflect'; the engine handles mode 'constant' only/);
  });
});
