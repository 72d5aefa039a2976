import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Transpose gradient', () => {
  it('matches finite differences for a given and the default (reversed) permutation', async () => {
    for (const perm of [[0, 2, 3, 1], undefined]) {
      const r = await gradCheck({
        inputs: [{ name: 'x', shape: [2, 3, 4, 5] }, { name: 'w', shape: perm ? [2, 4, 5, 3] : [5, 4, 3, 2] }],
        build: (b, v) => b.op1('Mul', [b.op1('Transpose', [v.x], perm ? { perm } : {}), v.w]),
      });
      expect(r.maxError).toBeLessThan(2e-3);
    }
  });
});
