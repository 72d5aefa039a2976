import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Identity gradient', () => {
  it('matches finite differences', async () => {
    const r = await gradCheck({ inputs: [{ name: 'x', shape: [3, 5] }], build: (b, v) => b.op1('Mul', [b.op1('Identity', [v.x]), v.x]) });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
