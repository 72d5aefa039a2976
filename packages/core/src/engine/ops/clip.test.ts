import { describe, expect, it } from 'vitest';
import { gradCheck, normalData } from '../grad_check.ts';

describe('Clip gradient', () => {
  it('ReLU6 (Clip 0..6) matches finite differences away from both bounds', async () => {
    const x = normalData(60, 8, 4).map((v) => { const a = Math.abs(v) < 0.1 ? v + 0.3 : v; return Math.abs(a - 6) < 0.1 ? a + 0.3 : a; });
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [3, 20], data: x }, { name: 'lo', shape: [], data: Float32Array.of(0), constant: true }, { name: 'hi', shape: [], data: Float32Array.of(6), constant: true }],
      build: (b, v) => b.op1('Clip', [v.x, v.lo, v.hi]),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
  it('a single bound (max only) also works', async () => {
    const x = normalData(30, 9).map((v) => (Math.abs(v - 0.5) < 0.1 ? v + 0.3 : v));
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [30], data: x }, { name: 'hi', shape: [], data: Float32Array.of(0.5), constant: true }],
      build: (b, v) => b.op1('Clip', [v.x, '', v.hi]),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
