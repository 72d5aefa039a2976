// safetensors codec (https://github.com/huggingface/safetensors): the one header parser/validator for
// every safetensors file we read (our weights, trainer checkpoints, PyTorch state dicts).
//   bytes 0..8    u64 little-endian N = header length
//   bytes 8..8+N  UTF-8 JSON: { "<name>": { "dtype": "F32"|"F16"|..., "shape": [..], "data_offsets": [begin, end] },
//                               "__metadata__": { "<key>": "<string>" } }   (padded with spaces to 8 bytes)
//   then          raw little-endian tensor data; offsets are relative to the end of the header.
// We write F32/I32 only; we read F32/I32 as stored (decodeSafetensors) and, for foreign exports, any
// float dtype widened to float32 (decodeSafetensorsFloat32).

/** The dtypes we write and decodeSafetensors returns. */
export type SafeDtype = 'F32' | 'I32';

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Bytes per element of every dtype the header parser accepts. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte range of the tensor's data in the file. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Byte count of the data section (after the header). */
  dataBytes: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function encodeSafetensors(tensors: Map<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error('encodeSafetensors: big-endian hosts are not supported');
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`encodeSafetensors: tensor "${name}" has ${t.data.length} values; shape [${t.shape}] needs ${size}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // align the data section to 8 bytes
  const head = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let pos = 8 + head.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

const isNonNegInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Parses and validates the header: length, JSON, and every tensor's dtype, shape and byte range
 *  (range size = elements x dtype size, inside the data section). Reads no tensor data. */
export function parseSafetensorsHeader(bytes: Uint8Array, source = 'safetensors'): SafetensorsHeader {
  if (bytes.length < 8) throw new Error(`${source}: ${bytes.length} bytes is too short for a safetensors file (8-byte header length, JSON header, data)`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  if (n < 2 || 8 + n > bytes.length) throw new Error(`${source}: header length ${n} does not fit in ${bytes.length} bytes; not a safetensors file or truncated`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8'));
  } catch (e) {
    throw new Error(`${source}: safetensors header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new Error(`${source}: safetensors header is ${JSON.stringify(header)}; expected a JSON object of tensors`);
  }
  const base = 8 + n;
  const dataBytes = bytes.length - base;
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = (raw ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(e.dtype);
    if (!(dtype in SAFETENSORS_DTYPE_BYTES)) {
      throw new Error(`${source}: tensor "${name}" has dtype ${dtype}; expected one of ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')}`);
    }
    const shape = e.shape;
    const offsets = e.data_offsets;
    if (!Array.isArray(shape) || !shape.every(isNonNegInt) || !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt)) {
      throw new Error(`${source}: tensor "${name}" has shape ${JSON.stringify(shape)} and data_offsets ${JSON.stringify(offsets)}; expected arrays of non-negative integers ([begin, end] for the offsets)`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = offsets as [number, number];
    if (end - begin !== size * SAFETENSORS_DTYPE_BYTES[dtype] || end > dataBytes) {
      throw new Error(`${source}: tensor "${name}" (dtype ${dtype}, shape [${shape}], bytes ${begin}..${end}) is inconsistent or truncated (file has ${dataBytes} data bytes)`);
    }
    entries.push({ name, dtype, shape, begin: base + begin, end: base + end });
  }
  return { entries, metadata: (header.__metadata__ ?? {}) as Record<string, string>, dataBytes };
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** An aligned copy of the entry's bytes (a Buffer slice would be an unaligned view). */
function entryBytes(bytes: Uint8Array, e: SafetensorsEntry): ArrayBuffer {
  return new Uint8Array(bytes.subarray(e.begin, e.end)).buffer;
}

/** Our own files: F32 and I32 tensors as stored; any other dtype is an error. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  const { entries, metadata } = parseSafetensorsHeader(bytes, source);
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    if (e.dtype !== 'F32' && e.dtype !== 'I32') throw new Error(`${source}: tensor "${e.name}" has dtype ${e.dtype}; expected F32 or I32`);
    const buf = entryBytes(bytes, e);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: e.dtype === 'F32' ? new Float32Array(buf) : new Int32Array(buf) });
  }
  return { tensors, metadata };
}

/** Foreign exports: every float tensor (F32, F16, BF16, F64) widened to float32; integer tensors (e.g.
 *  BN's num_batches_tracked) carry no weights and are left out, listed in `skipped`. */
export function decodeSafetensorsFloat32(bytes: Uint8Array, source = 'safetensors'): {
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  metadata: Record<string, string>;
  skipped: string[];
} {
  const { entries, metadata } = parseSafetensorsHeader(bytes, source);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const skipped: string[] = [];
  for (const e of entries) {
    if (!FLOAT_DTYPES.has(e.dtype)) {
      skipped.push(e.name);
      continue;
    }
    const buf = entryBytes(bytes, e);
    let data: Float32Array;
    if (e.dtype === 'F32') data = new Float32Array(buf);
    else if (e.dtype === 'F64') data = Float32Array.from(new Float64Array(buf));
    else if (e.dtype === 'F16') data = Float32Array.from(new Uint16Array(buf), f16ToF32);
    else data = new Float32Array(Uint32Array.from(new Uint16Array(buf), (v) => v << 16).buffer); // BF16: high half of f32
    tensors.set(e.name, { shape: e.shape, data });
  }
  return { tensors, metadata, skipped };
}
