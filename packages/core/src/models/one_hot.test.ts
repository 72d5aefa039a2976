import { describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { initBackend } from '../backend.ts';
import { oneHotFloat } from './one_hot.ts';

describe('oneHotFloat', () => {
  it.each(['wasm', 'cpu'])('gives exact 0/1 float rows on %s', async (engine) => {
    if (engine === 'wasm') await initBackend({ prefer: 'wasm' });
    else await tf.setBackend('cpu');
    expect(tf.getBackend()).toBe(engine);
    const idx = tf.tensor1d([2, 0, 1], 'int32');
    const before = tf.memory().numTensors;
    const oh = oneHotFloat(idx, 3);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(oh.dtype).toBe('float32');
    expect(Array.from(oh.dataSync())).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0]);
    tf.dispose([idx, oh]);
  });
});
