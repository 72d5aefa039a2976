import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { initBackend } from '../backend.ts';
import { conv2dBackpropFilterWasm } from './conv2d_backprop_filter.ts';
import { maxRelDiff, runOn, seededValues } from './test_utils.ts';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
const P1: Pad = [[0, 0], [1, 1], [1, 1], [0, 0]];

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
];

function backpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], stride: number, pad: Pad): tf.Tensor {
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
    { strides: [stride, stride], pad, dataFormat: 'NHWC', filterShape }) as tf.Tensor;
}

describe('Conv2DBackpropFilter (wasm)', () => {
  beforeAll(async () => {
    expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
  });

  it('is registered for wasm (tfjs-backend-wasm has none)', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc).toBe(conv2dBackpropFilterWasm);
  });

  it.each(CASES)('x %j filter %j stride %i pad %j matches the cpu backend', async (xShape, wShape, stride, pad) => {
    const x = seededValues(xShape.reduce((a, b) => a * b), 7);
    const outShape = tf.backend_util.computeConv2DInfo(xShape, wShape, stride, 1, pad).outShape;
    const dy = seededValues(outShape.reduce((a, b) => a * b), 8);
    const fn = () => backpropFilter(tf.tensor4d(x, xShape), tf.tensor4d(dy, outShape), wShape, stride, pad);
    const wasm = await runOn('wasm', fn);
    const cpu = await runOn('cpu', fn);
    expect(wasm.shape).toEqual(wShape);
    expect(maxRelDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(1e-5);
  });

  it('leaks no tensors and no wasm memory', () => {
    const x = tf.tensor4d(seededValues(2 * 8 * 8 * 3, 9), [2, 8, 8, 3]);
    const dy = tf.tensor4d(seededValues(2 * 4 * 4 * 4, 10), [2, 4, 4, 4]);
    backpropFilter(x, dy, [3, 3, 3, 4], 2, 'same').dispose(); // warm-up
    const before = tf.memory();
    for (let i = 0; i < 3; i++) backpropFilter(x, dy, [3, 3, 3, 4], 2, 'same').dispose();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
    tf.dispose([x, dy]);
  });

  it('rejects a dy that does not match x and filterShape, naming what it received', () => {
    const x = tf.zeros([1, 8, 8, 1]) as tf.Tensor4D;
    const dy = tf.zeros([1, 3, 3, 2]) as tf.Tensor4D;
    expect(() => backpropFilter(x, dy, [3, 3, 1, 2], 1, 'same')).toThrow(/dy has shape \[1,3,3,2\], expected \[1,8,8,2\]/);
    tf.dispose([x, dy]);
  });
});
