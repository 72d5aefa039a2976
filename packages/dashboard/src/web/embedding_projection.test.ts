import { describe, expect, it } from 'vitest';
import { syntheticFold } from '../testing/eval_samples.ts';
import { decodeVectors, projectEmbeddings, unitRows } from './embedding_projection.ts';

/** 30 identities x 5 images, 16-D: rows and their identities. */
function sample(seed: string) {
  const f = syntheticFold({ identities: 30, galleryPerId: 2, probePerId: 3, dim: 16, noise: 0.4, seed });
  const rows = [f.gallery, f.probe].flatMap((r) => r.subjects.map((_, i) => r.emb.subarray(i * 16, (i + 1) * 16)));
  return { rows, subjects: [...f.gallery.subjects, ...f.probe.subjects] };
}

describe('embedding map', () => {
  it('is reproducible (seeded), and images of one identity land beside each other', async () => {
    const { rows, subjects } = sample('proj');
    let epochs = 0;
    const a = await projectEmbeddings(rows, { onEpoch: (_, of) => (epochs = of) });
    expect(epochs).toBeGreaterThan(100);
    expect(a).toHaveLength(150);
    expect(await projectEmbeddings(rows)).toEqual(a);
    expect(await projectEmbeddings(rows, { seed: 'other' })).not.toEqual(a);
    // The nearest other point in 2-D is of the same identity for most points.
    const nearest = a.map((p, i) => a.reduce((best, q, j) => (j !== i && Math.hypot(p[0] - q[0], p[1] - q[1]) < best.d ? { j, d: Math.hypot(p[0] - q[0], p[1] - q[1]) } : best), { j: -1, d: Infinity }).j);
    const same = nearest.filter((j, i) => subjects[j] === subjects[i]).length;
    expect(same / a.length).toBeGreaterThan(0.8);
  });

  it('decodes base64 float32 rows of the size announced; refuses a wrong size, NaN rows and too few points', async () => {
    const v = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const b64 = Buffer.from(v.buffer).toString('base64');
    expect(decodeVectors(b64, 2, 3).map((r) => Array.from(r))).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(() => decodeVectors(b64, 3, 3)).toThrow('embedding sample: expected 3 x 3 float32 values (36 bytes), received 24 bytes');
    expect(unitRows([[3, 4], [0, 0]])).toEqual([[0.6, 0.8], [0, 0]]);
    await expect(projectEmbeddings([[1, 0], [0, 1]])).rejects.toThrow('embedding map: needs at least 3 points, received 2');
    await expect(projectEmbeddings([[1, 0], [0, Number.NaN], [1, 1], [2, 2]])).rejects.toThrow('embedding map: 1 of 4 embeddings hold NaN or infinite values');
  });
});
