// safetensors codec (https://github.com/huggingface/safetensors), the subset our weights use:
//   bytes 0..8    u64 little-endian N = header length
//   bytes 8..8+N  UTF-8 JSON: { "<name>": { "dtype": "F32"|"I32", "shape": [..], "data_offsets": [begin, end] },
//                               "__metadata__": { "<key>": "<string>" } }   (padded with spaces to 8 bytes)
//   then          raw little-endian tensor data; offsets are relative to the end of the header.
export type SafeDtype = 'F32' | 'I32';

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: Float32Array | Int32Array;
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

export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`${source}: ${bytes.length} bytes is too short for a safetensors file`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  if (n < 2 || 8 + n > bytes.length) throw new Error(`${source}: header length ${n} does not fit in ${bytes.length} bytes; not a safetensors file or truncated`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8'));
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  const tensors = new Map<string, SafeTensor>();
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (e.dtype !== 'F32' && e.dtype !== 'I32') throw new Error(`${source}: tensor "${name}" has dtype ${e.dtype}; expected F32 or I32`);
    const size = e.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = e.data_offsets;
    if (end - begin !== size * 4 || base + end > bytes.length) {
      throw new Error(`${source}: tensor "${name}" (shape [${e.shape}], bytes ${begin}..${end}) is inconsistent or truncated (file has ${bytes.length - base} data bytes)`);
    }
    const copy = new Uint8Array(bytes.subarray(base + begin, base + end)).buffer; // aligned copy (Buffer.slice would be a view)
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data: e.dtype === 'F32' ? new Float32Array(copy) : new Int32Array(copy) });
  }
  return { tensors, metadata };
}
