import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { conv } from './conv_bn.ts';
import { frozenConvPrelu } from './frozen_taped.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('conv padding', () => {
  it('pads stride-2 3x3 convs symmetrically like PyTorch (not TF same)', () => {
    const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
    const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
    const y = conv(x, w, 2); // windows start at -1: [[4,6],[6,9]]
    expect(Array.from(y.dataSync())).toEqual([4, 6, 6, 9]);
    const b = tf.tensor1d([1]);
    const before = tf.memory().numTensors;
    const z = frozenConvPrelu(x, w, b, tf.tensor1d([0.25]), true, 2);
    expect(Array.from(z.dataSync())).toEqual([5, 7, 7, 10]);
    expect(tf.memory().numTensors).toBe(before + 2); // z and the alpha
    tf.dispose([x, w, y, b, z]);
  });
});
