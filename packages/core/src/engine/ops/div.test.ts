import { describe, expect, it } from 'vitest';
import { gradCheck, normalData } from '../grad_check.ts';

describe('Div gradient', () => {
  it('matches finite differences, denominators away from zero, with broadcasting', async () => {
    for (const [a, c] of [[[2, 3, 4], [2, 3, 4]], [[2, 3, 4], [3, 1]]]) {
      const den = normalData(c.reduce((x, y) => x * y, 1), 5).map((v) => 1.5 + Math.abs(v));
      const r = await gradCheck({ inputs: [{ name: 'a', shape: a }, { name: 'c', shape: c, data: den }], build: (b, v) => b.op1('Div', [v.a, v.c]) }, { h: 1e-3 });
      expect(r.maxError).toBeLessThan(3e-3);
    }
  });
});
