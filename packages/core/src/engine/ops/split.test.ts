import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Split gradient', () => {
  it('matches finite differences, including an output no gradient reaches', async () => {
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [2, 6] }, { name: 'w', shape: [2, 2] }],
      build: (b, v) => {
        const [p, q] = b.op('Split', [v.x, b.int64('split', [2, 1, 3])], { axis: 1 }, 3); // third part unused
        return [b.op1('Mul', [p, v.w]), q];
      },
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
  it('equal parts without a split input', async () => {
    const r = await gradCheck({ inputs: [{ name: 'x', shape: [4, 3] }], build: (b, v) => b.op('Split', [v.x], { axis: 0 }, 2) });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
