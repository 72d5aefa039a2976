// The writes a remote worker sends the tracking server (POST /api/worker/runs/:id/writes), one type per
// store write a run makes. The HTTP store (http/http_store.ts) turns its method calls into these ops and
// buffers them on disk; the server validates them with WORKER_OPS_SCHEMA and applies a batch in one
// transaction (RunStore.applyWorkerWrites). Every op carries the worker's sequence number `seq`: the
// store's ledger (worker_writes, keyed by run, lease epoch and seq) makes a batch sent twice after a
// network error count once.
//
// JSON has no NaN or Infinity: on the wire a non-finite number is the string "NaN", "Infinity" or
// "-Infinity" (toWire / WireNumber), so an EER of NaN arrives as NaN, not as 0 or null.
import { z } from 'zod';
import type { EvaluationRecord } from './types.ts';

/** Metric points of one batch, by column: key index into `keys`, step, value, time (ms). */
export interface MetricsOp {
  type: 'metrics';
  keys: string[];
  k: number[];
  s: number[];
  v: number[];
  t: number[];
}

export type WorkerOp =
  | MetricsOp
  | { type: 'truncateMetrics'; after: number }
  | { type: 'evaluation'; evaluation: EvaluationRecord }
  /** `path`: a file the server can read (shared storage) or one it received by upload (`upload`). */
  | { type: 'checkpoint'; step: number; path?: string; upload?: string }
  | { type: 'artifact'; kind: string; path?: string; upload?: string }
  /** Checkpoints retention pruned: rows forgotten, the server deletes its copies of their files. */
  | { type: 'removeCheckpoints'; steps: number[] }
  | { type: 'tag'; key: string; value: string }
  | { type: 'environment'; engine?: string; codeVersion?: string; totalSteps?: number }
  | { type: 'progress'; step: number }
  /** The run's end (each must be the last op of its batch). */
  | { type: 'release' }
  | { type: 'complete' }
  | { type: 'fail'; error: string }
  | { type: 'cancel' };

export type WorkerOpType = WorkerOp['type'];
export type SequencedOp = WorkerOp & { seq: number };
export const TERMINAL_OPS: ReadonlySet<WorkerOpType> = new Set(['release', 'complete', 'fail', 'cancel']);

/** The lease a write is made under: the worker that claimed the run, and which claim (epoch). */
export interface LeaseRef {
  owner: string;
  epoch: number;
}

export interface WriteResult {
  /** Ops applied now. */
  applied: number;
  /** Ops the ledger had already seen (sent again after a lost response): acknowledged, not re-applied. */
  duplicates: number;
}

/** JSON.stringify replacer: non-finite numbers as strings ("NaN", "Infinity", "-Infinity"). */
export function toWire(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

export function metricsOp(points: { key: string; step: number; value: number; time?: number }[], now = Date.now()): MetricsOp {
  const index = new Map<string, number>();
  const op: MetricsOp = { type: 'metrics', keys: [], k: [], s: [], v: [], t: [] };
  for (const p of points) {
    let i = index.get(p.key);
    if (i === undefined) {
      i = op.keys.length;
      index.set(p.key, i);
      op.keys.push(p.key);
    }
    op.k.push(i);
    op.s.push(p.step);
    op.v.push(p.value);
    op.t.push(p.time ?? now);
  }
  return op;
}

export function metricPoints(op: MetricsOp): { key: string; step: number; value: number; time: number }[] {
  return op.k.map((k, i) => ({ key: op.keys[k], step: op.s[i], value: op.v[i], time: op.t[i] }));
}

/** Ops (and metric points) in a list, for messages ("12 writes, 6144 points"). */
export function countPoints(ops: readonly WorkerOp[]): number {
  let n = 0;
  for (const op of ops) if (op.type === 'metrics') n += op.k.length;
  return n;
}

// ---- validation (the server side) ----

export const WireNumber = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']).transform(Number)]);
const step = z.number().int().min(0);
const count = z.number().int().min(0);
const str = (max: number) => z.string().min(1).max(max);
/** An upload name: a file's relative path inside the run's folder: no "..", no absolute path, no empty part, no trailing "/". */
export const UploadName = z
  .string()
  .min(1)
  .max(500)
  .regex(/^(?!\/)(?!.*\/\/)(?!.*\/$)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9_.\-/]+$/, 'expected the relative path of a file inside the run folder, like checkpoints/step-00000020.ckpt');

const Curve = z.object({ x: z.array(WireNumber), y: z.array(WireNumber), thr: z.array(WireNumber).optional() }).strict();
const Evaluation = z
  .object({
    protocol: str(200),
    fold: z.string().max(200),
    metrics: z.record(z.string().min(1).max(200), z.object({ value: WireNumber, count: z.number().int().nullable().optional() }).strict()),
    curves: z.object({ roc: Curve.optional(), cmc: Curve.optional() }).strict().optional(),
    routing: z
      .array(z.object({ block: str(100), modality: str(100), expert: z.number().int().min(0), count: z.number().int().min(0) }).strict())
      .optional(),
    scores: z
      .object({
        lo: z.number(), hi: z.number(), genuine: z.array(count).min(1).max(100_000), impostor: z.array(count).min(1).max(100_000),
        outside: z.object({ genuine: count, impostor: count }).strict(),
      })
      .strict()
      .refine((h) => h.hi > h.lo && h.genuine.length === h.impostor.length, 'scores: lo < hi, and genuine and impostor on the same bins')
      .optional(),
    embeddings: z
      .object({
        dim: z.number().int().min(1).max(65_536),
        total: z.object({ gallery: count, probe: count, subjects: count }).strict(),
        points: z.array(z.object({ role: z.enum(['gallery', 'probe']), subject: str(200), modality: str(100) }).strict()).max(100_000),
        vectors: z.array(WireNumber).max(16_000_000),
      })
      .strict()
      .refine((e) => e.vectors.length === e.points.length * e.dim, 'embeddings: vectors must hold points x dim values')
      .optional(),
  })
  .strict();

// path '' = the kind keeps no file (noop checkpoints)
const fileWhere = { path: z.string().max(4096).optional(), upload: UploadName.optional() };
const oneWhere = (o: { path?: string; upload?: string }) => (o.path === undefined) !== (o.upload === undefined);
const ONE_WHERE = 'give exactly one of path (a file the server reads) or upload (a file sent to PUT /api/worker/runs/:id/files/NAME)';

const seq = { seq: z.number().int().min(1) };
export const SequencedOpSchema = z.union([
  z
    .object({ ...seq, type: z.literal('metrics'), keys: z.array(str(200)).max(100_000), k: z.array(z.number().int().min(0)), s: z.array(step), v: z.array(WireNumber), t: z.array(z.number()) })
    .strict()
    .refine((o) => o.k.length === o.s.length && o.k.length === o.v.length && o.k.length === o.t.length, 'metrics: k, s, v and t must have one entry per point')
    .refine((o) => o.k.every((i) => i < o.keys.length), 'metrics: every k must index keys'),
  z.object({ ...seq, type: z.literal('truncateMetrics'), after: step }).strict(),
  z.object({ ...seq, type: z.literal('evaluation'), evaluation: Evaluation }).strict(),
  z.object({ ...seq, type: z.literal('checkpoint'), step, ...fileWhere }).strict().refine(oneWhere, ONE_WHERE),
  z.object({ ...seq, type: z.literal('artifact'), kind: str(100), ...fileWhere }).strict().refine(oneWhere, ONE_WHERE),
  z.object({ ...seq, type: z.literal('removeCheckpoints'), steps: z.array(step).min(1).max(100_000) }).strict(),
  z.object({ ...seq, type: z.literal('tag'), key: str(100), value: z.string().max(10_000) }).strict(),
  z
    .object({ ...seq, type: z.literal('environment'), engine: str(200).optional(), codeVersion: str(200).optional(), totalSteps: step.optional() })
    .strict(),
  z.object({ ...seq, type: z.literal('progress'), step }).strict(),
  z.object({ ...seq, type: z.literal('release') }).strict(),
  z.object({ ...seq, type: z.literal('complete') }).strict(),
  z.object({ ...seq, type: z.literal('fail'), error: z.string().max(20_000) }).strict(),
  z.object({ ...seq, type: z.literal('cancel') }).strict(),
]);

export const WorkerWritesBody = z
  .object({
    owner: str(300),
    attempt: z.number().int().min(1),
    ops: z
      .array(SequencedOpSchema)
      .min(1)
      .max(100_000)
      .refine((ops) => ops.every((op, i) => !TERMINAL_OPS.has(op.type) || i === ops.length - 1), 'a release, complete, fail or cancel op must be the last op of its batch')
      .refine((ops) => ops.every((op, i) => i === 0 || op.seq > ops[i - 1].seq), 'ops must be in increasing seq order'),
  })
  .strict();
