import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Sub gradient', () => {
  it('matches finite differences, with broadcasting', async () => {
    for (const [a, c] of [[[2, 3, 4], [2, 3, 4]], [[2, 3, 4], [4]], [[3, 1], [2, 3, 5]]]) {
      const r = await gradCheck({ inputs: [{ name: 'a', shape: a }, { name: 'c', shape: c }], build: (b, v) => b.op1('Sub', [v.a, v.c]) });
      expect(r.maxError).toBeLessThan(2e-3);
    }
  });
});
