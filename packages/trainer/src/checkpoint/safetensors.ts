// The safetensors container (8-byte little-endian header length, JSON header with dtype/shape/offsets
// and a __metadata__ map of strings, raw little-endian data), F32 only: used by checkpoints and weights.
export interface NamedArray {
  data: Float32Array;
  shape: number[];
}

export function encodeSafetensors(tensors: Map<string, NamedArray>, metadata: Record<string, string>): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const names = [...tensors.keys()].sort();
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`tensor ${name}: shape [${t.shape}] holds ${n} values, data has ${t.data.length}`);
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
    const d = tensors.get(name)!.data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, at);
    at += d.byteLength;
  }
  return out;
}

export function decodeSafetensors(buf: Buffer, source: string): { metadata: Record<string, string>; tensors: Map<string, NamedArray> } {
  if (buf.length < 8) throw new Error(`${source} is truncated (${buf.length} bytes)`);
  const len = Number(buf.readBigUInt64LE(0));
  if (8 + len > buf.length) throw new Error(`${source} is truncated: header says ${len} bytes, file has ${buf.length - 8}`);
  let header: Record<string, any>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + len).toString('utf8'));
  } catch {
    throw new Error(`${source} is not a safetensors file (unreadable header)`);
  }
  const tensors = new Map<string, NamedArray>();
  const base = 8 + len;
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = info.data_offsets as [number, number];
    if (info.dtype !== 'F32') throw new Error(`${source}: tensor ${name} is ${info.dtype}; only F32 is supported here`);
    if (base + b > buf.length || b < a) throw new Error(`${source}: tensor ${name} lies outside the file (truncated?)`);
    const data = new Float32Array((b - a) / 4); // copy: the file buffer need not be 4-byte aligned
    Buffer.from(data.buffer).set(buf.subarray(base + a, base + b));
    tensors.set(name, { data, shape: info.shape });
  }
  return { metadata: (header.__metadata__ ?? {}) as Record<string, string>, tensors };
}
