import { describe, expect, it } from 'vitest';
import { gradCheck, normalData } from '../grad_check.ts';

describe('Relu gradient', () => {
  it('matches finite differences away from the kink', async () => {
    const x = normalData(40, 4).map((v) => (v >= 0 ? v + 0.1 : v - 0.1));
    const r = await gradCheck({ inputs: [{ name: 'x', shape: [4, 10], data: x }], build: (b, v) => b.op1('Relu', [v.x]) });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
