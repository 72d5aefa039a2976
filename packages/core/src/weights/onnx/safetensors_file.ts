// Reads a PyTorch state dict saved as safetensors (`safetensors.torch.save_file(model.state_dict())`) into
// a float32 StateDict. Unlike our own weights files (weights/safetensors.ts: F32/I32), such exports use
// F32, F16, BF16 or F64; integer tensors (BN's num_batches_tracked) carry no weights and are skipped.
import type { StateDict } from './insightface_layout.ts';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, U8: 1, I8: 1, BOOL: 1, I16: 2 };

export function readSafetensorsStateDict(bytes: Uint8Array, source: string): { stateDict: StateDict; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`${source}: ${bytes.length} bytes is too short for a safetensors file (8-byte header length, JSON header, data)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > bytes.length) throw new Error(`${source}: header length ${headerLen} does not fit in ${bytes.length} bytes; not a safetensors file`);
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLen)).toString('utf8'));
  } catch (err) {
    throw new Error(`${source}: safetensors header is not valid JSON (${(err as Error).message})`);
  }
  const base = 8 + headerLen;
  const stateDict: StateDict = new Map();
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as HeaderEntry;
    const size = e.shape.reduce((a, b) => a * b, 1);
    const [start, end] = e.data_offsets;
    if (!(e.dtype in BYTES) || end - start !== size * BYTES[e.dtype] || base + end > bytes.length) {
      throw new Error(`${source}: tensor '${name}' (dtype ${e.dtype}, shape [${e.shape}], bytes ${start}..${end}) is inconsistent or truncated`);
    }
    if (!['F32', 'F16', 'BF16', 'F64'].includes(e.dtype)) continue; // integer bookkeeping (num_batches_tracked)
    const chunk = new Uint8Array(bytes.subarray(base + start, base + end)).buffer; // aligned copy
    let data: Float32Array;
    if (e.dtype === 'F32') data = new Float32Array(chunk);
    else if (e.dtype === 'F64') data = Float32Array.from(new Float64Array(chunk));
    else if (e.dtype === 'F16') data = Float32Array.from(new Uint16Array(chunk), f16ToF32);
    else data = new Float32Array(Uint32Array.from(new Uint16Array(chunk), (v) => v << 16).buffer); // BF16: high half of f32
    stateDict.set(name.replace(/^module\./, ''), { shape: e.shape, data }); // DataParallel prefix
  }
  return { stateDict, metadata };
}
