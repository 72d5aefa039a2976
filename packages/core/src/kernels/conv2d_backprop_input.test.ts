import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { initBackend } from '../backend.ts';
import { conv2dBackpropInputWasm } from './conv2d_backprop_input.ts';
import { maxRelDiff, runOn, seededValues } from './test_utils.ts';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
const P1: Pad = [[0, 0], [1, 1], [1, 1], [0, 0]];

// [input shape, filter shape, stride, pad]
const CASES: [[number, number, number, number], [number, number, number, number], number, Pad][] = [
  [[2, 8, 8, 3], [3, 3, 3, 4], 1, 'same'],
  [[2, 8, 8, 3], [3, 3, 3, 4], 2, 'same'],
  [[3, 7, 9, 5], [3, 3, 5, 2], 2, 'same'],
  [[1, 9, 7, 4], [1, 1, 4, 6], 2, 'valid'],
  [[2, 9, 9, 2], [3, 3, 2, 3], 1, 'valid'],
  [[1, 10, 9, 3], [3, 3, 3, 2], 2, 'valid'],
  [[2, 8, 8, 4], [3, 3, 4, 8], 2, P1],
  [[1, 7, 7, 6], [3, 3, 6, 3], 2, P1],
  [[2, 9, 8, 4], [3, 3, 4, 5], 2, 1], // numeric pads, as the frozen IResNet backward passes them
  [[2, 9, 8, 4], [1, 1, 4, 5], 2, 0],
  [[4, 5, 5, 1], [3, 3, 1, 1], 1, P1],
];

describe('Conv2DBackpropInput (wasm)', () => {
  beforeAll(async () => {
    expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
  });

  it('is the registered wasm kernel', () => {
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(conv2dBackpropInputWasm);
  });

  it.each(CASES)('x %j filter %j stride %i pad %j matches the cpu backend', async (xShape, wShape, stride, pad) => {
    const w = seededValues(wShape.reduce((a, b) => a * b), 1);
    const outShape = tf.backend_util.computeConv2DInfo(xShape, wShape, stride, 1, pad).outShape;
    const dy = seededValues(outShape.reduce((a, b) => a * b), 2);
    const fn = () => tf.conv2dTranspose(tf.tensor4d(dy, outShape), tf.tensor4d(w, wShape), xShape, stride, pad);
    const wasm = await runOn('wasm', fn);
    const cpu = await runOn('cpu', fn);
    expect(wasm.shape).toEqual(xShape);
    expect(maxRelDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-5);
  });

  it('tf.grad of a strided conv2d equals the cpu backend for both x and the filter', async () => {
    const xShape: [number, number, number, number] = [2, 9, 8, 3];
    const wShape: [number, number, number, number] = [3, 3, 3, 5];
    const xv = seededValues(2 * 9 * 8 * 3, 3);
    const wv = seededValues(3 * 3 * 3 * 5, 4);
    const grads = (which: 0 | 1) => () => {
      const g = tf.grads((...[x, w]: tf.Tensor[]) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, P1).square().sum());
      return g([tf.tensor4d(xv, xShape), tf.tensor4d(wv, wShape)])[which];
    };
    for (const which of [0, 1] as const) {
      const wasm = await runOn('wasm', grads(which));
      const cpu = await runOn('cpu', grads(which));
      expect(maxRelDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('leaks no tensors and no wasm memory', () => {
    const dy = tf.tensor4d(seededValues(2 * 4 * 4 * 4, 5), [2, 4, 4, 4]);
    const w = tf.tensor4d(seededValues(3 * 3 * 3 * 4, 6), [3, 3, 3, 4]);
    tf.conv2dTranspose(dy, w, [2, 8, 8, 3], 2, 'same').dispose(); // warm-up
    const before = tf.memory();
    for (let i = 0; i < 3; i++) tf.conv2dTranspose(dy, w, [2, 8, 8, 3], 2, 'same').dispose();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
    tf.dispose([dy, w]);
  });

  it('rejects NCHW and a dy that does not match inputShape, naming what it received', () => {
    const dy = tf.zeros([1, 3, 3, 2]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 1, 2]) as tf.Tensor4D;
    expect(() => tf.conv2dTranspose(dy, w, [1, 8, 8, 1], 1, 'same')).toThrow(/dy has shape \[1,3,3,2\], expected \[1,8,8,2\]/);
    expect(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w },
      { strides: 1, pad: 'same', dataFormat: 'NCHW', inputShape: [1, 1, 3, 3] })).toThrow(/dataFormat 'NCHW'/);
    tf.dispose([dy, w]);
  });
});
