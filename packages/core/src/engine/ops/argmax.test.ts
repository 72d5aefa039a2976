import { describe, expect, it } from 'vitest';
import { getOp } from '../op_registry.ts';
import { gradCheck, normalData } from '../grad_check.ts';

describe('ArgMax (selector, no gradient)', () => {
  it('is non-differentiable; the gate picked with OneHot carries the gradient (finite differences agree)', async () => {
    expect(getOp('ArgMax')?.nonDifferentiable).toBe(true);
    // top-1 routing: gate = sum(p * OneHot(argmax p)); p well separated so no small step flips the choice
    const logits = Float32Array.from(normalData(12, 5), (v, i) => v + (i % 4 === i % 3 ? 2 : 0));
    const r = await gradCheck({
      inputs: [{ name: 'z', shape: [3, 4], data: logits }],
      build: (b, v) => {
        const p = b.op1('Softmax', [v.z], { axis: 1 });
        const k = b.op1('ArgMax', [p], { axis: 1, keepdims: 0 });
        const oh = b.op1('OneHot', [k, b.int64('depth', [4], []), b.constant('values', [2], Float32Array.of(0, 1))], { axis: -1 });
        return b.op1('ReduceSum', [b.op1('Mul', [p, oh]), b.int64('axes', [1])], { keepdims: 1 });
      },
    }, { h: 1e-3 });
    expect(r.maxError).toBeLessThan(3e-3);
  });
});
