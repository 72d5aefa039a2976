import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { initBackend } from '../backend.ts';
import { depthwiseConv2dBackpropInputWasm } from './depthwise_conv2d_backprop_input.ts';
import { maxRelDiff, runOn, seededValues } from './test_utils.ts';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

/** dx of a depthwise conv through the kernel, exactly as tfjs's depthwiseConv2d gradient calls it. */
const backpropInput = (dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: Shape4, strides: number, pad: Pad) =>
  tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { strides, pad, dilations: 1, inputShape }) as tf.Tensor4D;

// [input shape, filter shape [kh,kw,C,m], stride, pad]: MobileNet's 3x3 SAME (stride 1 and 2 on even and odd
// sides, TF's asymmetric stride-2 padding), VALID, explicit pads, channel multipliers 1-3, 1x1 and 5x5.
const CASES: [Shape4, Shape4, number, Pad][] = [
  [[2, 8, 8, 3], [3, 3, 3, 1], 1, 'same'],
  [[2, 8, 8, 3], [3, 3, 3, 1], 2, 'same'],
  [[1, 7, 9, 4], [3, 3, 4, 1], 2, 'same'],
  [[2, 9, 9, 2], [3, 3, 2, 1], 1, 'valid'],
  [[1, 10, 9, 3], [3, 3, 3, 2], 2, 'valid'],
  [[2, 8, 8, 4], [3, 3, 4, 3], 2, [[0, 0], [1, 1], [1, 1], [0, 0]]],
  [[2, 6, 6, 5], [1, 1, 5, 2], 2, 'same'],
  [[1, 11, 11, 2], [5, 5, 2, 1], 2, 2],
  [[3, 5, 5, 1], [3, 3, 1, 1], 1, 1],
];

describe('DepthwiseConv2dNativeBackpropInput (wasm)', () => {
  beforeAll(async () => {
    expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
  });

  it('is the registered wasm kernel (tfjs-backend-wasm has none)', () => {
    expect(tf.getKernel('DepthwiseConv2dNativeBackpropInput', 'wasm')?.kernelFunc).toBe(depthwiseConv2dBackpropInputWasm);
  });

  it.each(CASES)('x %j filter %j stride %i pad %j matches the cpu backend', async (xShape, wShape, stride, pad) => {
    const w = seededValues(wShape.reduce((a, b) => a * b), 1);
    const outShape = tf.backend_util.computeConv2DInfo(xShape, wShape, stride, 1, pad, undefined, true).outShape;
    const dy = seededValues(outShape.reduce((a, b) => a * b), 2);
    const fn = () => backpropInput(tf.tensor4d(dy, outShape), tf.tensor4d(w, wShape), xShape, stride, pad);
    const wasm = await runOn('wasm', fn);
    const cpu = await runOn('cpu', fn);
    expect(wasm.shape).toEqual(xShape);
    expect(maxRelDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-5);
  });

  it('tf.grad of a strided depthwise conv wrt its input equals the cpu backend', async () => {
    const xv = seededValues(2 * 12 * 12 * 6, 3);
    const wv = seededValues(3 * 3 * 6 * 1, 4);
    const fn = () => tf.grad((x: tf.Tensor) => tf.depthwiseConv2d(x as tf.Tensor4D, tf.tensor4d(wv, [3, 3, 6, 1]), 2, 'same').square().sum())(
      tf.tensor4d(xv, [2, 12, 12, 6]));
    const wasm = await runOn('wasm', fn);
    const cpu = await runOn('cpu', fn);
    expect(maxRelDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-5);
  });

  it('leaks no tensors and no wasm memory', () => {
    const dy = tf.tensor4d(seededValues(2 * 4 * 4 * 6, 5), [2, 4, 4, 6]);
    const w = tf.tensor4d(seededValues(3 * 3 * 3 * 2, 6), [3, 3, 3, 2]);
    backpropInput(dy, w, [2, 8, 8, 3], 2, 'same').dispose(); // warm-up
    const before = tf.memory();
    for (let i = 0; i < 3; i++) backpropInput(dy, w, [2, 8, 8, 3], 2, 'same').dispose();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
    tf.dispose([dy, w]);
  });

  it('rejects a dy that does not match inputShape and dilated filters, naming what it received', () => {
    const dy = tf.zeros([1, 3, 3, 2]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 2, 1]) as tf.Tensor4D;
    expect(() => backpropInput(dy, w, [1, 8, 8, 2], 1, 'same')).toThrow(/dy has shape \[1,3,3,2\], expected \[1,8,8,2\]/);
    expect(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w },
      { strides: 1, pad: 'same', dilations: 2, inputShape: [1, 3, 3, 2] })).toThrow(/dilations 2 are not supported/);
    tf.dispose([dy, w]);
  });
});
