// Evaluates one protocol fold with any evaluation engine (embedders.ts): loads gallery and probe images, embeds them
// in batches, scores (fold_metrics.ts), counts routing per block x probe modality x expert, and
// optionally writes the score file.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EvaluationRecord, RoutingCount, RunStore } from '../store/run_store.ts';
import { loadFoldChecked, loadImages, type ImageSet } from '../train/data.ts';
import { evaluateFold, scoreFileLines } from './fold_metrics.ts';
import type { EvalEmbedder } from './embedders.ts';

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
    const r = await embedder.embedRouted(set.data.subarray(i * per, (i + b) * per)); // [B,S,S,3] -> [B,E]
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

/** Routing table: probe images per (block, modality, expert). */
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

export interface FoldEvalOptions {
  protocol: string;
  fold: string;
  root: string;
  size: number;
  batchSize: number;
  /** Write `<dir>/scores-<protocol>-<fold>.txt` when set. */
  scoreDir?: string | null;
}

export interface FoldEvaluation {
  record: EvaluationRecord;
  scoreFile?: string;
  /** the embedder's label: 'onnxruntime' or 'tfjs-<backend>' */
  engine: string;
}

export async function evaluateProtocolFold(embedder: EvalEmbedder, o: FoldEvalOptions): Promise<FoldEvaluation> {
  const fold = await loadFoldChecked(o.protocol, o.root, o.fold);
  if (fold.gallery.length === 0 || fold.probe.length === 0) {
    throw new Error(`protocol ${o.protocol} fold ${o.fold}: ${fold.gallery.length} gallery and ${fold.probe.length} probe images found under ${o.root}; both are needed`);
  }
  const gallery = await embedAll(embedder, await loadImages(fold.gallery, o.size), o.batchSize);
  const probe = await embedAll(embedder, await loadImages(fold.probe, o.size), o.batchSize);
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
      routing: routingTable(probe.experts, fold.probe.map((s) => s.modality)),
    },
    scoreFile,
    engine: embedder.label,
  };
}

/** Stores the fold's results, the engine that produced them (tag `eval.engine`) and the score file. */
export function recordFoldEvaluation(store: RunStore, runId: number, ev: FoldEvaluation): void {
  store.transaction(() => {
    store.recordEvaluation(runId, ev.record);
    store.setTag(runId, EVAL_ENGINE_TAG, ev.engine);
    if (ev.scoreFile) store.addArtifact(runId, 'scores', ev.scoreFile);
  });
}

export const EVAL_ENGINE_TAG = 'eval.engine';
