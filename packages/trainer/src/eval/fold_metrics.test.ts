import { describe, expect, it } from 'vitest';
import { buildTemplates, evaluateFold, scoreFileLines } from './fold_metrics.ts';

describe('evaluateFold', () => {
  it('templates are the normalised mean of unit embeddings', () => {
    const { subjects, templates } = buildTemplates(new Float32Array([2, 0, 0, 5, 0, 3]), ['b', 'b', 'a'], 2);
    expect(subjects).toEqual(['a', 'b']);
    expect(Array.from(templates)).toEqual([0, 1, Math.SQRT1_2, Math.SQRT1_2].map((v) => Math.fround(v)));
  });

  it('computes rank-1, CMC, TAR@FAR with impostor counts, EER and AUC from hand-made embeddings', () => {
    // 3 subjects on orthogonal axes; probe 3 (subject c) looks like subject a.
    const gallery = { emb: new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]), subjects: ['a', 'b', 'c'] };
    const probe = { emb: new Float32Array([0.9, 0.1, 0, 0.1, 0.9, 0, 0, 0.2, 1, 1, 0, 0.1]), subjects: ['a', 'b', 'c', 'c'] };
    const r = evaluateFold({ dim: 3, gallery, probe });
    expect(r.metrics.rank1).toEqual({ value: 0.75, count: 4 });
    expect(r.curves.cmc.y).toEqual([0.75, 1, 1]);
    expect(r.metrics.genuine.value).toBe(4);
    expect(r.metrics.impostor.value).toBe(8);
    expect(r.metrics.tar_far_1e2.count).toBe(8);
    expect(Number.isNaN(r.metrics.tar_far_1e2.value)).toBe(true); // 1% of 8 impostors is not measurable
    // impostors 0,0,0,0,.11,.11,.196,.995; genuine .0995,.98,.994,.994: at t=.196 FMR = FNMR = 1/4
    expect(r.metrics.eer.value).toBeCloseTo(0.25, 5);
    expect(r.metrics.auc.value).toBeGreaterThan(0.7);
    expect(r.curves.roc.x[0]).toBe(0);
    expect(r.curves.roc.x.at(-1)).toBe(1);
    const lines = scoreFileLines(r, probe.subjects, ['p0', 'p1', 'p2', 'p3']);
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatch(/^a a p0 0\.99/);
    // Histograms: every comparison counted; bins of width 0.02 from -1, so a score s sits in bin floor((s + 1) / 0.02).
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    expect(sum(r.histogram.genuine)).toBe(4);
    expect(sum(r.histogram.impostor)).toBe(8);
    expect(r.histogram.outside).toEqual({ genuine: 0, impostor: 0 });
    expect(r.histogram.impostor[50]).toBe(4); // the four impostors at 0
    const binOf = (s: number) => Math.floor((s + 1) / 0.02);
    expect(r.histogram.genuine[binOf(0.0995)]).toBe(1);
  });
});
