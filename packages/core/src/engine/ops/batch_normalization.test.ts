import { describe, expect, it } from 'vitest';
import { gradCheck, normalData } from '../grad_check.ts';

describe('BatchNormalization (inference form) gradient', () => {
  it('matches finite differences for x and every parameter (NCHW and [N,C])', async () => {
    for (const shape of [[2, 3, 4, 4], [5, 3]]) {
      const variance = normalData(3, 6).map((v) => 0.5 + Math.abs(v));
      const r = await gradCheck({
        inputs: [
          { name: 'x', shape }, { name: 'scale', shape: [3] }, { name: 'bias', shape: [3] }, { name: 'mean', shape: [3] },
          { name: 'var', shape: [3], data: variance },
        ],
        build: (b, v) => b.op1('BatchNormalization', [v.x, v.scale, v.bias, v.mean, v.var], { epsilon: 1e-3 }),
      }, { h: 1e-3 });
      expect(r.maxError).toBeLessThan(3e-3);
    }
  });
  it('frozen (constant) parameters: only dx', async () => {
    const c = (name: string, data: Float32Array) => ({ name, shape: [3], data, constant: true });
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [2, 3, 2, 2] }, c('scale', Float32Array.of(1.2, -0.5, 0.3)), c('bias', Float32Array.of(0.1, 0.2, 0.3)), c('mean', Float32Array.of(0.5, 0, -1)), c('var', Float32Array.of(0.7, 1.5, 2))],
      build: (b, v) => b.op1('BatchNormalization', [v.x, v.scale, v.bias, v.mean, v.var], { epsilon: 1e-5 }),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
