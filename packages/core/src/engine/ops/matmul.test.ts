import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('MatMul gradient', () => {
  it('matches finite differences: 2-D, batched, a shared matrix on either side, broadcast batch', async () => {
    for (const [a, c] of [[[3, 4], [4, 5]], [[2, 3, 4], [2, 4, 5]], [[2, 3, 4], [4, 5]], [[3, 4], [2, 4, 5]], [[2, 1, 3, 4], [3, 4, 2]]]) {
      const r = await gradCheck({ inputs: [{ name: 'a', shape: a }, { name: 'c', shape: c }], build: (b, v) => b.op1('MatMul', [v.a, v.c]) });
      expect(r.maxError).toBeLessThan(2e-3);
    }
  });
});
