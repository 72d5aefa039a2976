import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Concat gradient', () => {
  it('matches finite differences for three inputs of different widths', async () => {
    const r = await gradCheck({
      inputs: [{ name: 'a', shape: [2, 3] }, { name: 'c', shape: [2, 1] }, { name: 'd', shape: [2, 4] }, { name: 'w', shape: [2, 8] }],
      build: (b, v) => b.op1('Mul', [b.op1('Concat', [v.a, v.c, v.d], { axis: 1 }), v.w]),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
