import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Squeeze gradient', () => {
  it('matches finite differences with and without axes', async () => {
    for (const withAxes of [true, false]) {
      const r = await gradCheck({
        inputs: [{ name: 'x', shape: [2, 1, 3, 1] }, { name: 'w', shape: [2, 3] }],
        build: (b, v) => b.op1('Mul', [b.op1('Squeeze', withAxes ? [v.x, b.int64('axes', [1, -1])] : [v.x]), v.w]),
      });
      expect(r.maxError).toBeLessThan(2e-3);
    }
  });
});
