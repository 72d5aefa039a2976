// The frozen conv ops' hand-written input gradient against tfjs autodiff of the same arithmetic with
// plain ops, for every activation, conv and depthwise, stride 1/2, same/valid, on wasm and cpu.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { initBackend } from '../backend.ts';
import { frozenConv, plainConv, samePads, convOut, type FrozenConvOptions } from './frozen_ops.ts';
import { maxRelDiff, runOn, seededValues } from '../kernels/test_utils.ts';

beforeAll(async () => {
  expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
});

const CASES: FrozenConvOptions[] = [];
for (const act of ['relu', 'relu6', 'linear'] as const) {
  for (const depthwise of [false, true]) {
    for (const [strides, pad] of [[1, 'same'], [2, 'same'], [2, 'valid']] as const) CASES.push({ act, depthwise, strides, pad });
  }
}

describe('frozenConv', () => {
  it.each(CASES)('%j: value and input gradient equal plain ops + autodiff (wasm and cpu)', async (o) => {
    const C = 4, Co = o.depthwise ? C : 5;
    const xv = seededValues(2 * 9 * 10 * C, 1).map((v) => v * 4); // spans ReLU6's both bounds
    const wv = seededValues(3 * 3 * C * (o.depthwise ? 1 : Co), 2);
    const bv = seededValues(Co, 3);
    const r = seededValues(2 * 9 * 10 * Co, 4); // enough for the largest (stride-1) output
    const run = (f: typeof frozenConv) => () => {
      const w = tf.tensor4d(wv, [3, 3, C, o.depthwise ? 1 : Co]);
      const b = tf.tensor1d(bv);
      return tf.grad((x: tf.Tensor) => {
        const y = f(x as tf.Tensor4D, w, b, o);
        return tf.sum(tf.mul(y, tf.tensor(r.subarray(0, y.size), y.shape)));
      })(tf.tensor4d(xv, [2, 9, 10, C]));
    };
    for (const backend of ['wasm', 'cpu']) {
      const ours = await runOn(backend, run(frozenConv));
      const ref = await runOn(backend, run(plainConv));
      expect(ours.shape).toEqual([2, 9, 10, C]);
      expect(maxRelDiff(ours.values, ref.values), backend).toBeLessThanOrEqual(1e-5);
    }
    const fwd = (f: typeof frozenConv) => () => f(tf.tensor4d(xv, [2, 9, 10, C]), tf.tensor4d(wv, [3, 3, C, o.depthwise ? 1 : Co]), tf.tensor1d(bv), o);
    expect(maxRelDiff((await runOn('wasm', fwd(frozenConv))).values, (await runOn('wasm', fwd(plainConv))).values)).toBeLessThanOrEqual(1e-5);
  });

  it('TF same padding and output sides', () => {
    expect(samePads(224, 3, 2)).toEqual([0, 1]); // the odd pixel goes after
    expect(samePads(112, 3, 1)).toEqual([1, 1]);
    expect(samePads(7, 3, 2)).toEqual([1, 1]);
    expect(convOut(150, 7, 2, 'valid')).toBe(72);
    expect(convOut(224, 3, 2, 'same')).toBe(112);
  });
});
