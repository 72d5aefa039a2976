import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../tf.ts';
import { getExpertKind } from './index.ts';
import { checkKind } from './reference.test-helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('expert kind affine', () => {
  const def = getExpertKind('affine');
  it('parameters: dgamma, dbeta [N,C], zero-initialised; no hidden layer', () => {
    expect(def.params({ channels: 6, numExperts: 3, hidden: 16 }).map((p) => [p.key, p.shape, p.init.type, p.expert])).toEqual([
      ['experts.dgamma', [3, 6], 'zeros', 'stacked'], ['experts.dbeta', [3, 6], 'zeros', 'stacked'],
    ]);
    expect(def.usesHidden).toBe(false);
    expect(def.spatial).toBeUndefined();
  });
  it('does not look at the sample: the same expert gives the same modulation for any style', () => {
    const dims = { channels: 4, numExperts: 2, hidden: 16 };
    const params = new Map([['experts.dgamma', tf.randomNormal([2, 4], 0, 1, 'float32', 1)], ['experts.dbeta', tf.randomNormal([2, 4], 0, 1, 'float32', 2)]]);
    const sel = tf.tensor2d([[1, 0], [1, 0], [0, 1]]);
    const s = tf.randomNormal([3, 8], 0, 5, 'float32', 3) as tf.Tensor2D;
    const m = def.modulation({ s, sel, dims, param: (k) => params.get(k)! }).arraySync() as number[][];
    expect(m[0]).toEqual(m[1]);
    expect(m[2]).toEqual([...(params.get('experts.dgamma')!.arraySync() as number[][])[1], ...(params.get('experts.dbeta')!.arraySync() as number[][])[1]]);
    tf.dispose([sel, s, ...params.values()]);
  });
  it.each([1, 3])('N=%i: row k of (dgamma, dbeta) per selected expert (plain-JS reference), zero at init, ONNX = tfjs', async (N) => {
    await checkKind(def, { channels: 5, numExperts: N, hidden: 7 });
  });
});
