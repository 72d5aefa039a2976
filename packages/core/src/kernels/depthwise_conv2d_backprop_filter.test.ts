import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { initBackend } from '../backend.ts';
import { depthwiseConv2dBackpropFilterWasm } from './depthwise_conv2d_backprop_filter.ts';
import { maxRelDiff, runOn, seededValues } from './test_utils.ts';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

const backpropFilter = (x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: Shape4, strides: number, pad: Pad) =>
  tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides, pad, dilations: 1, filterShape }) as tf.Tensor4D;

const CASES: [Shape4, Shape4, number, Pad][] = [
  [[2, 8, 8, 3], [3, 3, 3, 1], 1, 'same'],
  [[2, 8, 8, 3], [3, 3, 3, 1], 2, 'same'],
  [[1, 7, 9, 4], [3, 3, 4, 2], 2, 'same'],
  [[2, 9, 9, 2], [3, 3, 2, 1], 1, 'valid'],
  [[1, 10, 9, 3], [5, 5, 3, 3], 2, 2],
];

describe('DepthwiseConv2dNativeBackpropFilter (wasm)', () => {
  beforeAll(async () => {
    expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
  });

  it('is the registered wasm kernel (tfjs-backend-wasm has none)', () => {
    expect(tf.getKernel('DepthwiseConv2dNativeBackpropFilter', 'wasm')?.kernelFunc).toBe(depthwiseConv2dBackpropFilterWasm);
  });

  it.each(CASES)('x %j filter %j stride %i pad %j matches the cpu backend', async (xShape, wShape, stride, pad) => {
    const xv = seededValues(xShape.reduce((a, b) => a * b), 1);
    const outShape = tf.backend_util.computeConv2DInfo(xShape, wShape, stride, 1, pad, undefined, true).outShape;
    const dy = seededValues(outShape.reduce((a, b) => a * b), 2);
    const fn = () => backpropFilter(tf.tensor4d(xv, xShape), tf.tensor4d(dy, outShape), wShape, stride, pad);
    const wasm = await runOn('wasm', fn);
    const cpu = await runOn('cpu', fn);
    expect(wasm.shape).toEqual(wShape);
    expect(maxRelDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-5);
  });

  it('tf.grad of a depthwise conv wrt its filter equals the cpu backend; no leak', async () => {
    const xv = seededValues(2 * 12 * 12 * 6, 3);
    const wv = seededValues(3 * 3 * 6 * 1, 4);
    const fn = () => tf.grad((w: tf.Tensor) => tf.depthwiseConv2d(tf.tensor4d(xv, [2, 12, 12, 6]), w as tf.Tensor4D, 2, 'same').square().sum())(
      tf.tensor4d(wv, [3, 3, 6, 1]));
    const wasm = await runOn('wasm', fn);
    const cpu = await runOn('cpu', fn);
    expect(maxRelDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-5);
    const before = tf.memory();
    tf.tidy(fn).dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });

  it('rejects a dy that does not match the geometry, naming what it received', () => {
    const x = tf.zeros([1, 8, 8, 2]) as tf.Tensor4D;
    const dy = tf.zeros([1, 3, 3, 2]) as tf.Tensor4D;
    expect(() => backpropFilter(x, dy, [3, 3, 2, 1], 1, 'same')).toThrow(/dy has shape \[1,3,3,2\], expected \[1,8,8,2\]/);
    tf.dispose([x, dy]);
  });
});
