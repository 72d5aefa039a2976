// Evaluates one protocol fold with any evaluation engine (embedders.ts): loads gallery and probe images, embeds them
// in batches, scores (fold_metrics.ts, with the genuine/impostor score histograms), counts routing per block x
// modality x expert (gallery and probe images: the VIS gallery's routing is what the other modalities are
// compared with), keeps a bounded sample of the embeddings (embedding_sample.ts) and optionally writes the
// score file.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bitDepthMismatches, describeBitDepthMismatch, getProtocol, type OnMissing, type Role } from '@ssmb/protocols';
import { RunStore, type EvalMetricValue, type EvaluationRecord, type RoutingCount, type WorkerStoreApi } from '../store/run_store.ts';
import { ALIGN_METRICS, BITDEPTH_MISMATCH_METRIC, MULTI_FACE_METRICS, SKIPPED_METRICS } from '../tables/metrics.ts';
import { loadFoldChecked, loadImages, type ImageSet } from '../train/data.ts';
import { evaluateFold, scoreFileLines } from './fold_metrics.ts';
import { sampleEmbeddings } from './embedding_sample.ts';
import type { EvalEmbedder } from './embedders.ts';
import type { PrecisionDescription } from '@ssmb/core';
import { TAG_NOT_APPLICABLE } from '../train/engine.ts';
import type { AlignOptions, AlignStats } from '@ssmb/protocols';

export interface Embedded {
  emb: Float32Array; // [N,E]
  dim: number;
  experts: Map<string, Int32Array>; // block -> expert per image [N]
}

/** Embeds every image in batches, yielding to the event loop between batches (lease heartbeats keep running). */
export async function embedAll(embedder: EvalEmbedder, set: ImageSet, batchSize: number): Promise<Embedded> {
  const n = set.samples.length;
  const per = set.size * set.size * 3;
  let emb = new Float32Array(0);
  let dim = 0;
  const experts = new Map<string, Int32Array>();
  for (let i = 0; i < n; i += batchSize) {
    const b = Math.min(batchSize, n - i);
    const r = await embedder.embedRouted(set.data.subarray(i * per, (i + b) * per), set.samples.slice(i, i + b).map((s) => s.modality)); // [B,S,S,3] -> [B,E]
    if (i === 0) {
      dim = r.embedding.length / b;
      emb = new Float32Array(n * dim);
    }
    emb.set(r.embedding, i * dim);
    for (const [block, ks] of r.experts) {
      if (!experts.has(block)) experts.set(block, new Int32Array(n));
      experts.get(block)!.set(ks, i);
    }
    await new Promise((res) => setImmediate(res));
  }
  return { emb, dim, experts };
}

/** Routing table: images per (block, modality, expert). */
export function routingTable(experts: Map<string, Int32Array>, modalities: string[]): RoutingCount[] {
  const out: RoutingCount[] = [];
  for (const [block, ks] of experts) {
    const counts = new Map<string, number>();
    ks.forEach((k, i) => {
      const key = `${modalities[i]}\u0000${k}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    });
    for (const [key, count] of [...counts].sort()) {
      const [modality, expert] = key.split('\u0000');
      out.push({ block, modality, expert: Number(expert), count });
    }
  }
  return out;
}

/** The gallery's then the probe's chosen experts per block, as one list per block. */
function concatExperts(gallery: Embedded, probe: Embedded): Map<string, Int32Array> {
  const out = new Map<string, Int32Array>();
  for (const [block, g] of gallery.experts) {
    const p = probe.experts.get(block) ?? new Int32Array(0);
    const both = new Int32Array(g.length + p.length);
    both.set(g);
    both.set(p, g.length);
    out.set(block, both);
  }
  return out;
}

export interface FoldEvalOptions {
  protocol: string;
  fold: string;
  root: string;
  size: number;
  /** the backbone's alignment template and optional face landmarker */
  align?: AlignOptions;
  batchSize: number;
  /** Write `<dir>/scores-<protocol>-<fold>.txt` when set. */
  scoreDir?: string | null;
  /** config dataset.onMissing (default error). */
  onMissing?: OnMissing;
  /** Roles the run read, whose skipped entries the record counts: gallery + probe (default), plus train
   *  for a run that trained on the fold. */
  roles?: readonly Role[];
  /** how the run's training images were aligned (a run that trained on the fold): their multi-face count is recorded too */
  trainAlign?: AlignStats;
}

/** What the run left out of the fold or read differently from the spec, stored as eval metrics beside the scores. */
export interface FoldDataAccount {
  /** list entries skipped per role (only with onMissing 'skip'; null otherwise) */
  skipped: Partial<Record<Role, number>> | null;
  /** images whose bit depth is not the spec's */
  bitDepthMismatch: number;
  /** gallery + probe images centre-cropped instead of aligned (no annotation, or no face detected) */
  centreCropped: number;
  /** of those, the images in which the face detector found no face */
  noFace: number;
  /** per role, images in which the face detector found several faces (dataset.detectFaces.pick chose one) */
  multiFace?: Partial<Record<Role, number>>;
  /** one line per problem, for logs */
  warnings: string[];
}

export interface FoldEvaluation {
  record: EvaluationRecord;
  scoreFile?: string;
  /** the embedder's label: 'onnxruntime' or 'tfjs-<backend>' */
  engine: string;
  /** onnxruntime: the frozen network's precision (eval.precision) */
  precision?: PrecisionDescription;
  data: FoldDataAccount;
}

/** The account's eval metrics: skipped_<role> for every role read (with onMissing 'skip'), bitdepth_mismatch when > 0. */
export function dataAccountMetrics(a: FoldDataAccount): Record<string, EvalMetricValue> {
  const out: Record<string, EvalMetricValue> = {};
  for (const [role, n] of Object.entries(a.skipped ?? {}) as [Role, number][]) out[SKIPPED_METRICS[role]] = { value: n, count: n };
  if (a.bitDepthMismatch > 0) out[BITDEPTH_MISMATCH_METRIC] = { value: a.bitDepthMismatch, count: a.bitDepthMismatch };
  if (a.centreCropped > 0) out[ALIGN_METRICS.centreCropped] = { value: a.centreCropped, count: a.centreCropped };
  if (a.noFace > 0) out[ALIGN_METRICS.noFace] = { value: a.noFace, count: a.noFace };
  for (const [role, n] of Object.entries(a.multiFace ?? {}) as [Role, number][]) if (n > 0) out[MULTI_FACE_METRICS[role]] = { value: n, count: n };
  return out;
}

export async function evaluateProtocolFold(embedder: EvalEmbedder, o: FoldEvalOptions): Promise<FoldEvaluation> {
  const roles = o.roles ?? (['gallery', 'probe'] as const);
  const onMissing = o.onMissing ?? 'error';
  const fold = await loadFoldChecked(o.protocol, o.root, o.fold, { onMissing, roles });
  const spec = getProtocol(o.protocol);
  const mismatches = bitDepthMismatches(spec, [...new Map(roles.flatMap((r) => fold[r]).map((s) => [s.path, s])).values()]);
  const skipped = onMissing === 'skip' ? Object.fromEntries(roles.map((r) => [r, fold.skipped[r]])) : null;
  const warnings = [
    ...roles.filter((r) => skipped?.[r]).map((r) => `${o.protocol} fold ${o.fold}: skipped ${skipped![r]} ${r} entr${skipped![r] === 1 ? 'y' : 'ies'} whose file is missing (dataset.onMissing=skip)`),
    ...mismatches.map((m) => `${o.protocol} fold ${o.fold}: ${describeBitDepthMismatch(m)}`),
  ];
  if (fold.gallery.length === 0 || fold.probe.length === 0) {
    throw new Error(`protocol ${o.protocol} fold ${o.fold}: ${fold.gallery.length} gallery and ${fold.probe.length} probe images found under ${o.root}; both are needed`);
  }
  const galleryImages = await loadImages(fold.gallery, o.size, o.align);
  const probeImages = await loadImages(fold.probe, o.size, o.align);
  const sets = [galleryImages, probeImages];
  const centreCropped = sets.reduce((a, s) => a + (s.stats?.fallback ?? 0), 0);
  const noFace = sets.reduce((a, s) => a + (s.stats?.detectFailed ?? 0), 0);
  if (centreCropped > 0) {
    const files = sets.flatMap((s) => s.stats?.fallbackFiles ?? []);
    warnings.push(`${o.protocol} fold ${o.fold}: ${centreCropped} gallery/probe image(s) centre-cropped, not aligned to the template` +
      `${noFace ? ` (${noFace} with no face detected)` : ''}: ${files.slice(0, 5).join(', ')}${files.length > 5 ? `, ... (${files.length - 5} more)` : ''}`);
  }
  const multiFace: Partial<Record<Role, number>> = {
    ...(o.trainAlign ? { train: o.trainAlign.multiFace } : {}),
    gallery: galleryImages.stats?.multiFace ?? 0,
    probe: probeImages.stats?.multiFace ?? 0,
  };
  for (const [role, n] of Object.entries(multiFace) as [Role, number][]) {
    if (n > 0) warnings.push(`${o.protocol} fold ${o.fold}: ${n} ${role} image(s) hold several faces; dataset.detectFaces.pick chose one in each (the worker log names them)`);
  }
  const data: FoldDataAccount = { skipped, bitDepthMismatch: mismatches.reduce((a, m) => a + m.count, 0), centreCropped, noFace, multiFace, warnings };
  const gallery = await embedAll(embedder, galleryImages, o.batchSize);
  const probe = await embedAll(embedder, probeImages, o.batchSize);
  const result = evaluateFold({
    dim: gallery.dim,
    gallery: { emb: gallery.emb, subjects: fold.gallery.map((s) => s.subject) },
    probe: { emb: probe.emb, subjects: fold.probe.map((s) => s.subject) },
  });
  let scoreFile: string | undefined;
  if (o.scoreDir) {
    mkdirSync(o.scoreDir, { recursive: true });
    scoreFile = path.join(o.scoreDir, `scores-${o.protocol}-${o.fold}.txt`);
    const lines = scoreFileLines(result, fold.probe.map((s) => s.subject), fold.probe.map((s) => s.path));
    writeFileSync(scoreFile, `# reference_subject probe_subject probe_path score\n${lines.join('\n')}\n`);
  }
  return {
    record: {
      protocol: o.protocol,
      fold: o.fold,
      metrics: result.metrics,
      curves: result.curves,
      routing: routingTable(concatExperts(gallery, probe), [...fold.gallery, ...fold.probe].map((s) => s.modality)),
      scores: result.histogram,
      embeddings: sampleEmbeddings(
        { emb: gallery.emb, subjects: fold.gallery.map((s) => s.subject), modalities: fold.gallery.map((s) => s.modality) },
        { emb: probe.emb, subjects: fold.probe.map((s) => s.subject), modalities: fold.probe.map((s) => s.modality) },
        gallery.dim,
      ),
    },
    scoreFile,
    engine: embedder.label,
    ...(embedder.precision ? { precision: embedder.precision } : {}),
    data,
  };
}

/**
 * Stores the fold's results with its data account (skipped entries, bit-depth mismatches: eval metrics
 * beside the scores, so tables and the dashboard read them like any metric), the engine that produced
 * them (tag `eval.engine`) and the score file: in one transaction on the SQLite store; remotely as
 * consecutive ops of one batch. Warnings go to stderr: the worker log.
 */
export async function recordFoldEvaluation(store: WorkerStoreApi, runId: number, ev: FoldEvaluation): Promise<void> {
  for (const w of ev.data.warnings) process.stderr.write(`run ${runId} warning: ${w}\n`);
  const record = { ...ev.record, metrics: { ...ev.record.metrics, ...dataAccountMetrics(ev.data) } };
  if (store instanceof RunStore) {
    store.transaction(() => {
      store.recordEvaluation(runId, record);
      store.setTag(runId, EVAL_ENGINE_TAG, ev.engine);
      for (const [k, v] of evalPrecisionTags(ev.precision)) store.setTag(runId, k, v);
      if (ev.scoreFile) store.addArtifact(runId, 'scores', ev.scoreFile);
    });
    return;
  }
  await store.recordEvaluation(runId, record);
  await store.setTag(runId, EVAL_ENGINE_TAG, ev.engine);
  for (const [k, v] of evalPrecisionTags(ev.precision)) await store.setTag(runId, k, v);
  if (ev.scoreFile) await store.addArtifact(runId, 'scores', ev.scoreFile);
}

/** Tags eval.precision (fp32 / int8), eval.precision_reason, eval.calibration (not applicable on tfjs). */
export function evalPrecisionTags(p: PrecisionDescription | undefined): [string, string][] {
  const none = TAG_NOT_APPLICABLE;
  return [['eval.precision', p?.precision ?? none], ['eval.precision_reason', p?.reason ?? none], ['eval.calibration', p?.calibration ?? none]];
}

export const EVAL_ENGINE_TAG = 'eval.engine';
