import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Flatten gradient', () => {
  it('matches finite differences (axis 1 and 2)', async () => {
    for (const axis of [1, 2]) {
      const r = await gradCheck({ inputs: [{ name: 'x', shape: [2, 3, 2, 2] }], build: (b, v) => b.op1('Mul', [b.op1('Flatten', [v.x], { axis }), b.op1('Flatten', [v.x], { axis })]) });
      expect(r.maxError).toBeLessThan(2e-3);
    }
  });
});
