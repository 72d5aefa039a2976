import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Unsqueeze gradient', () => {
  it('matches finite differences', async () => {
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [2, 3] }, { name: 'w', shape: [2, 1, 3, 1] }],
      build: (b, v) => b.op1('Mul', [b.op1('Unsqueeze', [v.x, b.int64('axes', [1, 3])]), v.w]),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
