import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Gemm gradient', () => {
  it('matches finite differences for every transA/transB combination, alpha/beta and a broadcast bias', async () => {
    for (const [tA, tB] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
      const r = await gradCheck({
        inputs: [{ name: 'a', shape: tA ? [4, 3] : [3, 4] }, { name: 'w', shape: tB ? [5, 4] : [4, 5] }, { name: 'c', shape: [5] }],
        build: (b, v) => b.op1('Gemm', [v.a, v.w, v.c], { transA: tA, transB: tB, alpha: 0.7, beta: 1.3 }),
      });
      expect(r.maxError).toBeLessThan(2e-3);
    }
  });
  it('without C, and the frozen-weight case (only A needs a gradient)', async () => {
    const r = await gradCheck({ inputs: [{ name: 'a', shape: [3, 4] }, { name: 'w', shape: [5, 4], constant: true }], build: (b, v) => b.op1('Gemm', [v.a, v.w], { transB: 1 }) });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
