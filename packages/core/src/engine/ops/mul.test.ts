import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Mul gradient', () => {
  it('matches finite differences, with broadcasting and a value used twice (x * x)', async () => {
    for (const [a, c] of [[[2, 3, 4], [2, 3, 4]], [[2, 3, 4], [2, 1, 1]], [[5], [2, 3, 5]]]) {
      const r = await gradCheck({ inputs: [{ name: 'a', shape: a }, { name: 'c', shape: c }], build: (b, v) => b.op1('Mul', [v.a, v.c]) });
      expect(r.maxError).toBeLessThan(2e-3);
    }
    const sq = await gradCheck({ inputs: [{ name: 'x', shape: [3, 4] }], build: (b, v) => b.op1('Mul', [v.x, v.x]) });
    expect(sq.maxError).toBeLessThan(2e-3);
  });
});
