import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Gather gradient', () => {
  it('matches finite differences for a channel permutation (RGB -> BGR)', async () => {
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [2, 3, 4, 4] }],
      build: (b, v) => b.op1('Gather', [v.x, b.int64('bgr', [2, 1, 0])], { axis: 1 }),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
  it('matches finite differences for a permutation with negative indices on the last axis', async () => {
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [3, 4] }],
      build: (b, v) => b.op1('Gather', [v.x, b.int64('perm', [-1, 0, 2, 1])], { axis: -1 }),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
  it('names indices that are not a permutation', async () => {
    await expect(gradCheck({
      inputs: [{ name: 'x', shape: [2, 3] }],
      build: (b, v) => b.op1('Gather', [v.x, b.int64('dup', [0, 0])], { axis: 1 }),
    })).rejects.toThrow(/indices \[0,0\] along axis 1 \(size 3\); the engine differentiates Gather only for a permutation/);
  });
});
