import { describe, expect, it } from 'vitest';
import { getOp } from '../op_registry.ts';
import { gradCheck } from '../grad_check.ts';

describe('OneHot (selector, no gradient)', () => {
  it('is non-differentiable; OneHot @ stacked weights picks each sample\'s expert and its gradient is a matmul', async () => {
    expect(getOp('OneHot')?.nonDifferentiable).toBe(true);
    const r = await gradCheck({
      inputs: [{ name: 'k', shape: [5], data: BigInt64Array.from([2n, 0n, 1n, 2n, 2n]) }, { name: 'w', shape: [3, 4] }],
      build: (b, v) => b.op1('MatMul', [b.op1('OneHot', [v.k, b.int64('depth', [3], []), b.constant('values', [2], Float32Array.of(0, 1))], { axis: -1 }), v.w]),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
