import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { initBackend } from '../backend.ts';
import { displacedWasmKernel } from './register.ts';
import { oneHotWasm } from './one_hot.ts';
import { runOn } from './test_utils.ts';

const CASES: [number[], number[], number, number, number, tf.DataType][] = [
  // indices, indices shape, depth, on, off, dtype
  [[2, 0, 1], [3], 3, 1, 0, 'float32'],
  [[2, 0, 1], [3], 3, 1, 0, 'int32'],
  [[0, 4, 1, 3, 2, 2], [2, 3], 5, 0.9, 0.025, 'float32'], // label-smoothing-like values, rank-2 indices
  [[-1, 1, 7], [3], 4, 3, -2, 'int32'], // out-of-range indices give all-off rows
  [[5, 0], [2], 6, -1.5, 0.5, 'float32'],
];

describe('OneHot (wasm)', () => {
  beforeAll(async () => {
    expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
  });

  it('is ours for wasm; the displaced tfjs-backend-wasm kernel writes int32 bits for float32', async () => {
    expect(tf.getKernel('OneHot', 'wasm')?.kernelFunc).toBe(oneHotWasm);
    const builtin = displacedWasmKernel('OneHot');
    expect(builtin).toBeDefined();
    const idx = tf.tensor1d([1], 'int32');
    const info = builtin!.kernelFunc({ inputs: { indices: idx }, attrs: { depth: 2, onValue: 1, offValue: 0, dtype: 'float32' }, backend: tf.backend() }) as tf.TensorInfo;
    const bad = tf.engine().makeTensorFromTensorInfo(info);
    expect(bad.dataSync()[1]).not.toBe(1); // the bug this kernel exists for (1.4e-45)
    tf.dispose([idx, bad]);
  });

  it.each(CASES)('indices %j shape %j depth %i on %d off %d %s matches cpu', async (values, shape, depth, on, off, dtype) => {
    const fn = () => tf.oneHot(tf.tensor(values, shape, 'int32'), depth, on, off, dtype);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const w = tf.tidy(fn);
    expect(w.dtype).toBe(dtype);
    expect(w.shape).toEqual([...shape, depth]);
    const wasm = Array.from(w.dataSync());
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const cpu = await runOn('cpu', fn);
    await tf.setBackend('wasm');
    expect(wasm).toEqual(Array.from(dtype === 'int32' ? Int32Array.from(cpu.values) : cpu.values));
  });

  it('gives a zero gradient to its indices path and works under a tape (SSMB routing uses it there)', () => {
    const x = tf.tensor1d([0.3, -1, 2]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.oneHot(tf.argMax(tf.reshape(v, [1, 3]), 1), 3), tf.reshape(v, [1, 3]))))(x);
    expect(Array.from(g.dataSync())).toEqual([0, 0, 1]);
    tf.dispose([x, g]);
  });

  it('rejects non-int32 indices naming the dtype', () => {
    const idx = tf.tensor1d([1], 'float32');
    expect(() => oneHotWasm({ inputs: { indices: idx }, attrs: { depth: 2, onValue: 1, offValue: 0, dtype: 'float32' }, backend: tf.backend() }))
      .toThrow(/indices have dtype float32; expected int32/);
    idx.dispose();
  });
});
