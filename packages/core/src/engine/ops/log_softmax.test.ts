import { describe, expect, it } from 'vitest';
import { gradCheck, normalData } from '../grad_check.ts';

describe('LogSoftmax gradient', () => {
  it('matches finite differences on axis 1 and the last axis', async () => {
    for (const axis of [1, -1]) {
      const r = await gradCheck({ inputs: [{ name: 'x', shape: [3, 4, 5] }], build: (b, v) => b.op1('LogSoftmax', [v.x], { axis }) }, { h: 1e-3 });
      expect(r.maxError).toBeLessThan(3e-3);
    }
  });
  it('stays exact for large logits (the ArcFace scale), where log(softmax) would underflow', async () => {
    const x = normalData(12, 5, 20); // logits of size ~20..60
    const r = await gradCheck({ inputs: [{ name: 'x', shape: [3, 4], data: x }], build: (b, v) => b.op1('LogSoftmax', [v.x], { axis: 1 }) }, { h: 1e-2 });
    expect(r.maxError).toBeLessThan(3e-3);
  });
});
