import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Cast gradient', () => {
  it('float -> float passes the gradient through', async () => {
    const r = await gradCheck({ inputs: [{ name: 'x', shape: [3, 4] }], build: (b, v) => b.op1('Mul', [b.op1('Cast', [v.x], { to: 1 }), v.x]) });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
