// Seeded random insightface-layout weights for tests and benchmarks (never real pre-trained weights).
import { mulberry32 as seededRandom } from '../../rng.ts';
import { insightfaceParamShapes, type IResNetShape, type StateDict } from './insightface_layout.ts';

export function seededNormal(seed: number): () => number {
  const u = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
}

/** He-initialised convs/fc, non-trivial BN statistics and PReLU slopes, so every parameter matters. */
export function randomInsightfaceStateDict(shape: IResNetShape, seed = 1): StateDict {
  const n = seededNormal(seed);
  const u = seededRandom(seed + 1);
  const sd: StateDict = new Map();
  for (const [name, s] of insightfaceParamShapes(shape)) {
    const size = s.reduce((a, b) => a * b, 1);
    const fanIn = s.length > 1 ? size / s[0] : 1;
    const gen = name.endsWith('running_var') ? () => 0.5 + u()
      : name.endsWith('running_mean') || name.endsWith('.bias') ? () => 0.1 * n()
      : name.includes('prelu') ? () => 0.25 + 0.05 * n()
      : s.length === 1 ? () => 1 + 0.1 * n()
      : () => n() * Math.sqrt(2 / fanIn);
    sd.set(name, { shape: s, data: Float32Array.from({ length: size }, gen) });
  }
  return sd;
}

/** Random images in [-1, 1], NHWC. */
export function randomImagesNHWC(count: number, size: number, seed = 7): Float32Array {
  const u = seededRandom(seed);
  return Float32Array.from({ length: count * size * size * 3 }, () => u() * 2 - 1);
}


/** Assigns seeded random values (positive variances) to every parameter of a model's param map. */
export function randomizeParams(params: Map<string, { shape: number[]; assign(t: unknown): void }>, makeTensor: (data: Float32Array, shape: number[]) => unknown, seed = 1): void {
  const n = seededNormal(seed);
  for (const [name, v] of params) {
    const size = v.shape.reduce((a, b) => a * b, 1);
    const gen = name.endsWith('running_var') ? () => 0.5 + Math.abs(n()) * 0.5
      : v.shape.length > 1 ? () => n() * Math.sqrt(2 / (size / v.shape[v.shape.length - 1]))
      : () => (name.endsWith('.weight') ? 1 : 0) + 0.1 * n();
    const t = makeTensor(Float32Array.from({ length: size }, gen), v.shape);
    v.assign(t);
    (t as { dispose?: () => void }).dispose?.();
  }
}

/** A PyTorch state dict as `safetensors.torch.save_file` writes it (with int64 num_batches_tracked). */
export function stateDictToSafetensors(sd: StateDict, opts: { dtype?: 'F32' | 'F16'; prefix?: string } = {}): Uint8Array {
  const dtype = opts.dtype ?? 'F32';
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const add = (name: string, dt: string, shape: number[], bytes: Uint8Array) => {
    header[(opts.prefix ?? '') + name] = { dtype: dt, shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  };
  for (const [name, t] of sd) {
    const bytes = dtype === 'F32' ? new Uint8Array(t.data.slice().buffer) : new Uint8Array(Uint16Array.from(t.data, f32ToF16).buffer);
    add(name, dtype, t.shape, bytes);
    if (name.endsWith('running_var')) add(name.replace('running_var', 'num_batches_tracked'), 'I64', [], new Uint8Array(new BigInt64Array([100n]).buffer));
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const c of chunks) { out.set(c, p); p += c.length; }
  return out;
}

function f32ToF16(v: number): number {
  // round-to-nearest half precision for normal-range values (test weights stay well inside it)
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  const mant = x & 0x7fffff;
  const h = sign | (exp << 10) | (mant >> 13);
  return h + ((mant >> 12) & 1); // rounding carry may bump the exponent, which is still correct
}
