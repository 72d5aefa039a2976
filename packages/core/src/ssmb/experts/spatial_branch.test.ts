import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../tf.ts';
import { SPATIAL_BRANCH, spatialParams } from './spatial_branch.ts';
import { maxAbsDiff, onnxSpatial, spatialReference } from './reference.test-helpers.ts';
import type { ExpertKindDef } from '../expert_kind.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('spatial branch', () => {
  it('expert k: depthwise 3x3 (padding 1) then pointwise 1x1, in tfjs and ONNX; other experts untouched', async () => {
    const dims = { channels: 3, numExperts: 2, hidden: 16 };
    const params = new Map(spatialParams(dims).map((p, i) => [p.key, tf.randomNormal(p.shape, 0, 1, 'float32', 20 + i)]));
    const xn = tf.randomNormal([2, 4, 5, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const xv = xn.arraySync() as number[][][][];
    const arrays = new Map([...params].map(([k, v]) => [k, v.arraySync()]));
    const used: string[] = [];
    const out = SPATIAL_BRANCH.apply(xn, 1, (k) => (used.push(k), params.get(k)!));
    expect(used.sort()).toEqual(['experts.1.dw.weight', 'experts.1.pw.weight']);
    const ref = xv.flatMap((_, b) => spatialReference((k) => arrays.get(k), 1, (h, w, c) => xv[b][h][w][c], 4, 5, 3).flat(2));
    expect(maxAbsDiff(out.dataSync(), ref)).toBeLessThan(1e-4);
    const onnx = await onnxSpatial({ spatial: SPATIAL_BRANCH } as ExpertKindDef, dims, params, xn, 1);
    expect(maxAbsDiff(onnx, out.dataSync())).toBeLessThan(1e-4);
    tf.dispose([xn, out, ...params.values()]);
  });
});
