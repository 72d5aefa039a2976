import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Slice gradient', () => {
  it('matches finite differences with negative and clamped bounds on two axes', async () => {
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [3, 5, 4] }],
      build: (b, v) => b.op1('Slice', [v.x, b.int64('starts', [1, -3]), b.int64('ends', [100, -1]), b.int64('axes', [0, 1])]),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
