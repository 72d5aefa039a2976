import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('GlobalAveragePool gradient', () => {
  it('matches finite differences', async () => {
    const r = await gradCheck({ inputs: [{ name: 'x', shape: [2, 3, 4, 5] }], build: (b, v) => b.op1('GlobalAveragePool', [v.x]) });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
