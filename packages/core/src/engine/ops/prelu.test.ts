import { describe, expect, it } from 'vitest';
import { gradCheck, normalData } from '../grad_check.ts';

describe('PRelu gradient', () => {
  it('matches finite differences for x and a per-channel slope [C,1,1] over NCHW', async () => {
    const x = normalData(2 * 3 * 4 * 4, 4).map((v) => (v >= 0 ? v + 0.1 : v - 0.1));
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [2, 3, 4, 4], data: x }, { name: 'slope', shape: [3, 1, 1], data: Float32Array.of(0.25, -0.1, 0.6) }],
      build: (b, v) => b.op1('PRelu', [v.x, v.slope]),
    });
    expect(r.errors.x).toBeLessThan(2e-3);
    expect(r.errors.slope).toBeLessThan(2e-3);
  });
});
