import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../tf.ts';
import { getExpertKind } from './index.ts';
import { checkKind } from './reference.test-helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('expert kind affine+spatial', () => {
  const def = getExpertKind('affine+spatial');
  it("parameters: affine's, then each expert's depthwise [3,3,C] (random) and pointwise [C,C] (zero)", () => {
    const dims = { channels: 6, numExperts: 2, hidden: 16 };
    expect(def.params(dims).map((p) => [p.key, p.shape, p.init.type, p.expert])).toEqual([
      ['experts.dgamma', [2, 6], 'zeros', 'stacked'], ['experts.dbeta', [2, 6], 'zeros', 'stacked'],
      ['experts.0.dw.weight', [3, 3, 6], 'normal', 0], ['experts.0.pw.weight', [6, 6], 'zeros', 0],
      ['experts.1.dw.weight', [3, 3, 6], 'normal', 1], ['experts.1.pw.weight', [6, 6], 'zeros', 1],
    ]);
    expect(def.usesHidden).toBe(false);
  });
  it.each([1, 2])('N=%i: affine + spatial branch (plain-JS references), zero at init, ONNX = tfjs', async (N) => {
    await checkKind(def, { channels: 4, numExperts: N, hidden: 6 });
  });
});
