import { describe, expect, it } from 'vitest';
import type { Sample } from '@ssmb/protocols';
import type { EvalEmbedder } from './embedders.ts';
import { embedAll, routingTable } from './evaluate_fold.ts';

describe('embedAll / routingTable', () => {
  it('embeds in batches and collects experts per block', async () => {
    const n = 5;
    const size = 2;
    const per = size * size * 3;
    const data = Float32Array.from({ length: n * per }, (_, i) => Math.floor(i / per)); // image i is all i
    const samples: Sample[] = Array.from({ length: n }, (_, i) => ({ path: `/p${i}`, subject: `s${i}`, modality: i % 2 ? 'NIR' : 'VIS' }));
    // embedding [B,2] = (mean, 1); expert = 1 when the image value is odd
    const batches: number[] = [];
    const embedRouted = async (x: Float32Array) => {
      const b = x.length / per;
      batches.push(b);
      const m = Array.from({ length: b }, (_, i) => x[i * per]);
      return { embedding: Float32Array.from(m.flatMap((v) => [v, 1])), experts: new Map([['stem', Int32Array.from(m, (v) => v % 2)]]) };
    };
    const embedder: EvalEmbedder = {
      engine: 'fake', label: 'fake', inputSize: size, embeddingSize: 2, embedRouted,
      embed: async (x) => (await embedRouted(x)).embedding, dispose: async () => {},
    };
    const e = await embedAll(embedder, { samples, size, data }, 2);
    expect(batches).toEqual([2, 2, 1]);
    expect(e.dim).toBe(2);
    expect(Array.from(e.emb)).toEqual([0, 1, 1, 1, 2, 1, 3, 1, 4, 1]);
    expect(Array.from(e.experts.get('stem')!)).toEqual([0, 1, 0, 1, 0]);
    expect(routingTable(e.experts, samples.map((s) => s.modality))).toEqual([
      { block: 'stem', modality: 'NIR', expert: 1, count: 2 },
      { block: 'stem', modality: 'VIS', expert: 0, count: 3 },
    ]);
  });
});
