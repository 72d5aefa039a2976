import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../tf.ts';
import { getExpertKind } from './index.ts';
import { checkKind } from './reference.test-helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('expert kind style+spatial', () => {
  const def = getExpertKind('style+spatial');
  it("parameters: style's, then each expert's depthwise [3,3,C] (random) and pointwise [C,C] (zero)", () => {
    const dims = { channels: 6, numExperts: 2, hidden: 16 };
    expect(def.params(dims).map((p) => [p.key, p.shape, p.init.type, p.expert])).toEqual([
      ...getExpertKind('style').params(dims).map((p) => [p.key, p.shape, p.init.type, p.expert]),
      ['experts.0.dw.weight', [3, 3, 6], 'normal', 0], ['experts.0.pw.weight', [6, 6], 'zeros', 0],
      ['experts.1.dw.weight', [3, 3, 6], 'normal', 1], ['experts.1.pw.weight', [6, 6], 'zeros', 1],
    ]);
    expect(def.usesHidden).toBe(true);
  });
  it.each([1, 2])('N=%i: style MLP + spatial branch (plain-JS references), zero at init, ONNX = tfjs', async (N) => {
    await checkKind(def, { channels: 4, numExperts: N, hidden: 6 });
  });
});
