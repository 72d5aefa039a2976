import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('ReduceSumSquare gradient', () => {
  it('matches finite differences (keepdims 1 and 0)', async () => {
    for (const [axes, keepdims] of [[[2, 3], 1], [[1], 0]] as [number[], number][]) {
      const r = await gradCheck({ inputs: [{ name: 'x', shape: [2, 3, 4, 5] }], build: (b, v) => b.op1('ReduceSumSquare', [v.x], { axes, keepdims }) }, { h: 1e-3 });
      expect(r.maxError).toBeLessThan(3e-3);
    }
  });
});
