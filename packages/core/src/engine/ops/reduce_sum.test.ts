import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('ReduceSum gradient', () => {
  it('matches finite differences for axes inputs, keepdims 0/1 and all axes', async () => {
    for (const [axes, keepdims] of [[[1], 1], [[0, 2], 0], [[], 0]] as [number[], number][]) {
      const r = await gradCheck({
        inputs: [{ name: 'x', shape: [2, 3, 4] }],
        build: (b, v) => b.op1('ReduceSum', axes.length ? [v.x, b.int64('axes', axes)] : [v.x], { keepdims }),
      });
      expect(r.maxError).toBeLessThan(2e-3);
    }
  });
});
