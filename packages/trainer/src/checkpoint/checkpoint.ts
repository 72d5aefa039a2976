// Checkpoints: one file per (run, step) in safetensors layout (8-byte little-endian header length, JSON
// header with dtype/shape/offsets and a __metadata__ map of strings, raw little-endian F32 data), so any
// safetensors reader can open them. Written atomically: temp file, fsync, rename, fsync the directory.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

export const CHECKPOINT_FORMAT = 'ssmb-checkpoint/1';

export interface NamedArray {
  data: Float32Array;
  shape: number[];
}

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
  const header: Record<string, unknown> = {
    __metadata__: {
      format: CHECKPOINT_FORMAT,
      kind: s.kind,
      step: String(s.step),
      rng_state: String(s.rngState),
      optimizer_t: String(s.optimizerT),
      run_id: String(s.runId),
      config: JSON.stringify(s.config),
      ...s.extra,
    },
  };
  let offset = 0;
  const names = [...s.tensors.keys()].sort();
  for (const name of names) {
    const t = s.tensors.get(name)!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`checkpoint tensor ${name}: shape [${t.shape}] holds ${n} values, data has ${t.data.length}`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // align the data section
  const head = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + head.length + offset);
  out.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(out, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const d = s.tensors.get(name)!.data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, at);
    at += d.byteLength;
  }
  return out;
}

export function decodeCheckpoint(buf: Buffer, source = 'checkpoint'): CheckpointState {
  if (buf.length < 8) throw new Error(`${source} is truncated (${buf.length} bytes)`);
  const len = Number(buf.readBigUInt64LE(0));
  if (8 + len > buf.length) throw new Error(`${source} is truncated: header says ${len} bytes, file has ${buf.length - 8}`);
  const header = JSON.parse(buf.subarray(8, 8 + len).toString('utf8')) as Record<string, any>;
  const meta = header.__metadata__ as Record<string, string> | undefined;
  if (meta?.format !== CHECKPOINT_FORMAT) throw new Error(`${source} is not an ssmb checkpoint (format ${meta?.format ?? 'missing'}, expected ${CHECKPOINT_FORMAT})`);
  const tensors = new Map<string, NamedArray>();
  const base = 8 + len;
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = info.data_offsets as [number, number];
    if (info.dtype !== 'F32' || base + b > buf.length) throw new Error(`${source}: tensor ${name} is ${info.dtype} or out of bounds`);
    const data = new Float32Array((b - a) / 4); // copy: the file buffer need not be 4-byte aligned
    Buffer.from(data.buffer).set(buf.subarray(base + a, base + b));
    tensors.set(name, { data, shape: info.shape });
  }
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
