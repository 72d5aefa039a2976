import { describe, expect, it } from 'vitest';
import { getOp } from '../op_registry.ts';
import { gradCheck } from '../grad_check.ts';

describe('Greater (selector, no gradient)', () => {
  it('is non-differentiable; a Cast mask times x has gradient mask (x > 0.2) and nothing through the mask', async () => {
    expect(getOp('Greater')?.nonDifferentiable).toBe(true);
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: [4, 5] }],
      build: (b, v) => b.op1('Mul', [b.op1('Cast', [b.op1('Greater', [v.x, b.scalar('t', 0.2)])], { to: 1 }), v.x]),
    }, { h: 1e-3 });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
