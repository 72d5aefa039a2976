// Checkpoints: one file per (run, step) in safetensors layout (core's codec), so any safetensors
// reader can open them. Written atomically: temp file, fsync, rename, fsync the directory.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '@ssmb/core';

export interface NamedArray {
  data: Float32Array;
  shape: number[];
}

export const CHECKPOINT_FORMAT = 'ssmb-checkpoint/1';


export interface CheckpointState {
  kind: 'train' | 'pretrain';
  step: number;
  rngState: number;
  /** Adam step count (bias corrections are recomputed from it). */
  optimizerT: number;
  /** Full resolved config of the run. */
  config: unknown;
  runId: number;
  /** Model weights by parameter name, and optimiser moments under `adam.m/<name>`, `adam.v/<name>`. */
  tensors: Map<string, NamedArray>;
  /** Extra scalars (e.g. metric state); strings only. */
  extra?: Record<string, string>;
}

export function checkpointPath(runDir: string, step: number): string {
  return path.join(runDir, 'checkpoints', `step-${String(step).padStart(8, '0')}.ckpt`);
}

export function encodeCheckpoint(s: CheckpointState): Buffer {
  const tensors = new Map<string, SafeTensor>([...s.tensors].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, t]) => [k, { dtype: 'F32', shape: t.shape, data: t.data }]));
  const bytes = encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    kind: s.kind,
    step: String(s.step),
    rng_state: String(s.rngState),
    optimizer_t: String(s.optimizerT),
    run_id: String(s.runId),
    config: JSON.stringify(s.config),
    ...s.extra,
  });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeCheckpoint(buf: Buffer, source = 'checkpoint'): CheckpointState {
  const { metadata: meta, tensors: raw } = decodeSafetensors(buf, source);
  const tensors = new Map<string, NamedArray>();
  for (const [k, t] of raw) {
    if (t.dtype !== 'F32') throw new Error(`${source}: tensor ${k} is ${t.dtype}, expected F32`);
    tensors.set(k, { data: t.data as Float32Array, shape: t.shape });
  }
  if (meta.format !== CHECKPOINT_FORMAT) throw new Error(`${source} is not an ssmb checkpoint (format ${meta.format ?? 'missing'}, expected ${CHECKPOINT_FORMAT})`);
  const { format: _f, kind, step, rng_state, optimizer_t, run_id, config, ...extra } = meta;
  return {
    kind: kind as CheckpointState['kind'],
    step: Number(step),
    rngState: Number(rng_state),
    optimizerT: Number(optimizer_t),
    runId: Number(run_id),
    config: JSON.parse(config),
    tensors,
    extra,
  };
}

/** Writes bytes to `file` so that readers see either the old file or the complete new one. */
export function writeFileAtomic(file: string, bytes: Buffer): void {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

export function saveCheckpoint(file: string, s: CheckpointState): void {
  writeFileAtomic(file, encodeCheckpoint(s));
}

export function loadCheckpoint(file: string): CheckpointState {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read checkpoint ${file}: ${(err as Error).message}`);
  }
  return decodeCheckpoint(buf, `checkpoint ${file}`);
}
