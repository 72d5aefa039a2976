import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Reshape gradient', () => {
  it('matches finite differences with 0 (copy) and -1 (inferred) dimensions', async () => {
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [2, 3, 4] }, { name: 'w', shape: [2, 12] }],
      build: (b, v) => b.op1('Mul', [b.op1('Reshape', [v.x, b.int64('shape', [0, -1])]), v.w]),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
