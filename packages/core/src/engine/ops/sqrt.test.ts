import { describe, expect, it } from 'vitest';
import { gradCheck, normalData } from '../grad_check.ts';

describe('Sqrt gradient', () => {
  it('matches finite differences on positive inputs', async () => {
    const x = normalData(24, 2).map((v) => 0.5 + Math.abs(v));
    const r = await gradCheck({ inputs: [{ name: 'x', shape: [2, 3, 4], data: x }], build: (b, v) => b.op1('Sqrt', [v.x]) }, { h: 1e-3 });
    expect(r.maxError).toBeLessThan(3e-3);
  });
});
