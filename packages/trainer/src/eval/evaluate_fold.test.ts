import { describe, expect, it } from 'vitest';
import { tf } from '@ssmb/core';
import type { Sample } from '@ssmb/protocols';
import { embedAll, routingTable, type EmbedFn } from './evaluate_fold.ts';

describe('embedAll / routingTable', () => {
  it('embeds in batches, collects experts per block and leaks no tensors', async () => {
    await tf.setBackend('cpu');
    const n = 5;
    const size = 2;
    const data = Float32Array.from({ length: n * size * size * 3 }, (_, i) => Math.floor(i / 12)); // image i is all i
    const samples: Sample[] = Array.from({ length: n }, (_, i) => ({ path: `/p${i}`, subject: `s${i}`, modality: i % 2 ? 'NIR' : 'VIS' }));
    // embedding [B,2] = (mean, 1); expert = 1 when the image value is odd
    const fn: EmbedFn = (x) => {
      const m = tf.mean(x, [1, 2, 3]);
      return {
        embedding: tf.stack([m, tf.onesLike(m)], 1) as tf.Tensor2D,
        experts: [{ block: 'stem', expert: tf.cast(tf.mod(m, 2), 'int32') as tf.Tensor1D }],
      };
    };
    const before = tf.memory().numTensors;
    const e = await embedAll(fn, { samples, size, data }, 2);
    expect(tf.memory().numTensors).toBe(before);
    expect(e.dim).toBe(2);
    expect(Array.from(e.emb)).toEqual([0, 1, 1, 1, 2, 1, 3, 1, 4, 1]);
    expect(Array.from(e.experts.get('stem')!)).toEqual([0, 1, 0, 1, 0]);
    expect(routingTable(e.experts, samples.map((s) => s.modality))).toEqual([
      { block: 'stem', modality: 'NIR', expert: 1, count: 2 },
      { block: 'stem', modality: 'VIS', expert: 0, count: 3 },
    ]);
  });
});
