import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Softmax gradient', () => {
  it('matches finite differences on axis 1 and the last axis', async () => {
    for (const axis of [1, -1]) {
      const r = await gradCheck({ inputs: [{ name: 'x', shape: [3, 4, 5] }], build: (b, v) => b.op1('Softmax', [v.x], { axis }) }, { h: 1e-3 });
      expect(r.maxError).toBeLessThan(3e-3);
    }
  });
});
