import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('ReduceMean gradient', () => {
  it('matches finite differences (H,W of NCHW kept; one axis dropped)', async () => {
    for (const [axes, keepdims] of [[[2, 3], 1], [[-1], 0]] as [number[], number][]) {
      const r = await gradCheck({ inputs: [{ name: 'x', shape: [2, 3, 4, 5] }], build: (b, v) => b.op1('ReduceMean', [v.x], { axes, keepdims }) });
      expect(r.maxError).toBeLessThan(2e-3);
    }
  });
});
