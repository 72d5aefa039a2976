import { describe, expect, it } from 'vitest';
import { gradCheck, normalData } from '../grad_check.ts';

describe('Max gradient', () => {
  it('matches finite differences for two inputs, one broadcast, away from ties', async () => {
    const a = normalData(12, 3);
    const c = Float32Array.of(0.05, -0.4, 0.7);
    const away = a.map((v, i) => (Math.abs(v - c[i % 3]) < 0.1 ? v + 0.3 : v));
    const r = await gradCheck({ inputs: [{ name: 'a', shape: [4, 3], data: away }, { name: 'c', shape: [3], data: c }], build: (b, v) => b.op1('Max', [v.a, v.c]) });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
