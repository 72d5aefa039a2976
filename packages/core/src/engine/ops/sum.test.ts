import { describe, expect, it } from 'vitest';
import { gradCheck } from '../grad_check.ts';

describe('Sum gradient', () => {
  it('matches finite differences for three broadcast inputs', async () => {
    const r = await gradCheck({
      inputs: [{ name: 'a', shape: [2, 3, 4] }, { name: 'c', shape: [3, 1] }, { name: 'd', shape: [4] }],
      build: (b, v) => b.op1('Sum', [v.a, v.c, v.d]),
    });
    expect(r.maxError).toBeLessThan(2e-3);
  });
});
