import { describe, expect, it } from 'vitest';
import { sampleEmbeddings } from './embedding_sample.ts';

/** n images of dim 2 whose embedding is [k, k + 0.5] for the k-th image of the role. */
const role = (subjects: string[], modality: string, offset = 0) => ({
  emb: Float32Array.from(subjects.flatMap((_, k) => [k + offset, k + offset + 0.5])),
  subjects,
  modalities: subjects.map(() => modality),
});

describe('sampleEmbeddings', () => {
  it('everything when it fits: each point keeps its role, identity, modality and vector', () => {
    const s = sampleEmbeddings(role(['a', 'b'], 'VIS'), role(['a', 'b', 'b'], 'NIR', 10), 2);
    expect(s.total).toEqual({ gallery: 2, probe: 3, subjects: 2 });
    expect(s.points).toHaveLength(5);
    const rows = s.points.map((p, i) => [p.role, p.subject, p.modality, s.vectors[2 * i], s.vectors[2 * i + 1]]);
    expect(rows).toEqual(expect.arrayContaining([['gallery', 'a', 'VIS', 0, 0.5], ['probe', 'b', 'NIR', 12, 12.5], ['probe', 'a', 'NIR', 10, 10.5]]));
  });

  it('bounded: whole identities up to max, the same sample every time, and says what it was drawn from', () => {
    const subjects = Array.from({ length: 40 }, (_, i) => `s${String(i).padStart(3, '0')}`);
    const gallery = role(subjects, 'VIS');
    const probe = role(subjects.flatMap((s) => [s, s]), 'NIR'); // 3 images per identity
    const s = sampleEmbeddings(gallery, probe, 2, 50);
    expect(s.points).toHaveLength(48); // 16 identities x 3
    const per = new Map<string, number>();
    for (const p of s.points) per.set(p.subject, (per.get(p.subject) ?? 0) + 1);
    expect([...per.values()].every((n) => n === 3)).toBe(true);
    expect(per.size).toBe(16);
    expect(s.total).toEqual({ gallery: 40, probe: 80, subjects: 40 });
    expect(sampleEmbeddings(gallery, probe, 2, 50)).toEqual(s);
    // Not the first identities by name: the order is the names' hash.
    expect([...per.keys()].sort()).not.toEqual(subjects.slice(0, 16));
  });

  it('one identity larger than max: its first max images; bad input names what it received', () => {
    expect(sampleEmbeddings(role(['a', 'a', 'a'], 'VIS'), role(['a'], 'NIR'), 2, 2).points.map((p) => p.role)).toEqual(['gallery', 'gallery']);
    expect(() => sampleEmbeddings(role(['a'], 'VIS'), role(['a'], 'NIR'), 3)).toThrow('sampleEmbeddings: gallery has 0.6666666666666666 embeddings of dim 3, 1 subjects and 1 modalities; expected one each per image');
    expect(() => sampleEmbeddings(role(['a'], 'VIS'), role(['a'], 'NIR'), 2, 0)).toThrow('sampleEmbeddings: max must be an integer >= 1, received 0');
  });
});
