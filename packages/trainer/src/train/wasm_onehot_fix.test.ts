import { describe, expect, it } from 'vitest';
import { arcfaceLoss, initBackend, tf } from '@ssmb/core';
import { fixWasmOneHot, wasmOneHotIsBroken } from './wasm_onehot_fix.ts';

describe('wasm OneHot float32 workaround', () => {
  it('makes float one-hots and the ArcFace loss agree with the cpu backend, without leaks', async () => {
    const emb = [[0.3, -0.2, 0.9], [0.5, 0.1, -0.4]];
    const w = [[0.2, -0.1], [0.7, 0.3], [-0.5, 0.8]];
    const loss = () => tf.tidy(() => arcfaceLoss(tf.tensor2d(emb), tf.tensor2d(w), [1, 0], { scale: 16, margin: 0.3 }).dataSync()[0]);
    await tf.setBackend('cpu');
    const expected = loss();
    expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
    fixWasmOneHot();
    expect(wasmOneHotIsBroken()).toBe(false);
    expect(fixWasmOneHot()).toBe(false); // idempotent
    const before = tf.memory().numTensors;
    expect(Array.from(tf.tidy(() => tf.oneHot(tf.tensor1d([2, 0], 'int32'), 3, 1, 0, 'float32').dataSync()))).toEqual([0, 0, 1, 1, 0, 0]);
    expect(Array.from(tf.tidy(() => tf.oneHot(tf.tensor1d([1], 'int32'), 2).dataSync()))).toEqual([0, 1]);
    expect(loss()).toBeCloseTo(expected, 4);
    expect(tf.memory().numTensors).toBe(before);
  });
});
