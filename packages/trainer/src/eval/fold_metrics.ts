// The evaluation of docs/design.md#evaluation-and-metric-conventions on one fold, from embeddings: gallery templates = mean of the L2-normalised
// embeddings of a subject's gallery images; every probe scored against every template by cosine.
import { cmc, eer, rocAuc, rocPoints, tarAtFar } from '@ssmb/core';
import type { Curve, EvalMetricValue, ScoreHistogram } from '../store/run_store.ts';
import { scoreHistogram } from './score_histogram.ts';

export const FAR_TARGETS = [
  { far: 1e-2, key: 'tar_far_1e2' },
  { far: 1e-3, key: 'tar_far_1e3' },
  { far: 1e-4, key: 'tar_far_1e4' },
] as const;

export interface FoldEmbeddings {
  dim: number;
  gallery: { emb: Float32Array; subjects: string[] }; // emb [G,E]
  probe: { emb: Float32Array; subjects: string[] }; // emb [P,E]
}

export interface FoldScores {
  templateSubjects: string[];
  /** Cosine scores, one row per probe [P][T]. */
  scores: Float32Array[];
}

export interface FoldResult extends FoldScores {
  metrics: Record<string, EvalMetricValue>;
  curves: { roc: Curve; cmc: Curve };
  /** Every genuine and impostor comparison counted on the shared bins. */
  histogram: ScoreHistogram;
}

function normalizeRows(emb: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(emb.length);
  for (let r = 0; r < emb.length / dim; r++) {
    let n = 0;
    for (let j = 0; j < dim; j++) n += emb[r * dim + j] ** 2;
    const inv = 1 / Math.max(Math.sqrt(n), 1e-12);
    for (let j = 0; j < dim; j++) out[r * dim + j] = emb[r * dim + j] * inv;
  }
  return out;
}

/** One template per gallery subject (sorted), re-normalised so scores are cosines. */
export function buildTemplates(emb: Float32Array, subjects: string[], dim: number): { subjects: string[]; templates: Float32Array } {
  if (emb.length !== subjects.length * dim) throw new Error(`buildTemplates: ${emb.length / dim} embeddings for ${subjects.length} gallery subjects`);
  const unit = normalizeRows(emb, dim);
  const names = [...new Set(subjects)].sort();
  const index = new Map(names.map((s, i) => [s, i]));
  const sum = new Float32Array(names.length * dim);
  subjects.forEach((s, r) => {
    const t = index.get(s)!;
    for (let j = 0; j < dim; j++) sum[t * dim + j] += unit[r * dim + j];
  });
  return { subjects: names, templates: normalizeRows(sum, dim) };
}

export function scoreFold(e: FoldEmbeddings): FoldScores {
  const { dim } = e;
  if (e.probe.emb.length !== e.probe.subjects.length * dim) throw new Error(`scoreFold: ${e.probe.emb.length / dim} probe embeddings for ${e.probe.subjects.length} probes`);
  const { subjects, templates } = buildTemplates(e.gallery.emb, e.gallery.subjects, dim);
  const probes = normalizeRows(e.probe.emb, dim);
  const T = subjects.length;
  const scores = e.probe.subjects.map((_, p) => {
    const row = new Float32Array(T);
    for (let t = 0; t < T; t++) {
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += probes[p * dim + j] * templates[t * dim + j];
      row[t] = dot;
    }
    return row;
  });
  return { templateSubjects: subjects, scores };
}

/** Rank-1/5 + CMC over probes whose subject has a template; TAR@FAR, EER, AUC, ROC over all comparisons. */
export function evaluateFold(e: FoldEmbeddings): FoldResult {
  const s = scoreFold(e);
  const genuine: number[] = [];
  const impostor: number[] = [];
  const closedRows: Float32Array[] = [];
  const closedSubjects: string[] = [];
  const known = new Set(s.templateSubjects);
  e.probe.subjects.forEach((subject, p) => {
    const row = s.scores[p];
    s.templateSubjects.forEach((t, j) => (t === subject ? genuine : impostor).push(row[j]));
    if (known.has(subject)) {
      closedRows.push(row);
      closedSubjects.push(subject);
    }
  });
  if (genuine.length === 0) throw new Error('evaluateFold: no probe subject has a gallery template; check the protocol lists');
  if (impostor.length === 0) throw new Error('evaluateFold: the gallery has a single subject, so there are no impostor comparisons');
  const curveCmc = cmc(closedRows, closedSubjects, s.templateSubjects);
  const tars = tarAtFar(genuine, impostor, FAR_TARGETS.map((f) => f.far));
  const e2 = eer(genuine, impostor);
  const roc = rocPoints(genuine, impostor, { maxPoints: 200 });
  const metrics: Record<string, EvalMetricValue> = {
    rank1: { value: curveCmc[0], count: closedRows.length },
    rank5: { value: curveCmc[Math.min(4, curveCmc.length - 1)], count: closedRows.length },
    eer: { value: e2.eer, count: impostor.length },
    auc: { value: rocAuc(genuine, impostor), count: impostor.length },
    genuine: { value: genuine.length, count: genuine.length },
    impostor: { value: impostor.length, count: impostor.length },
  };
  FAR_TARGETS.forEach((f, i) => (metrics[f.key] = { value: tars[i].tar, count: tars[i].impostorCount }));
  return {
    ...s,
    metrics,
    curves: {
      roc: { x: roc.map((r) => r.far), y: roc.map((r) => r.tar), thr: roc.map((r) => r.threshold) },
      cmc: { x: curveCmc.map((_, i) => i + 1), y: curveCmc },
    },
    histogram: scoreHistogram(genuine, impostor),
  };
}

/** Score file lines: reference subject, probe subject, probe path, score. */
export function scoreFileLines(s: FoldScores, probeSubjects: string[], probePaths: string[]): string[] {
  const lines: string[] = [];
  probeSubjects.forEach((ps, p) => s.templateSubjects.forEach((ref, t) => lines.push(`${ref} ${ps} ${probePaths[p]} ${s.scores[p][t].toFixed(6)}`)));
  return lines;
}
