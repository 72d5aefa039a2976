// Modality transforms of the SAME rendered face. Each has a severity knob in [0, 1]; see README.md.
import { gauss, mulberry32, type Rng } from '../rng.ts';
import { Mat, type FaceLayers } from './render.ts';

export type SyntheticModality = 'VIS' | 'NIR' | 'THERMAL' | 'SKETCH';
export const SYNTHETIC_MODALITIES: SyntheticModality[] = ['VIS', 'NIR', 'THERMAL', 'SKETCH'];
export const DEFAULT_SEVERITY: Record<Exclude<SyntheticModality, 'VIS'>, number> = { NIR: 0.5, THERMAL: 0.7, SKETCH: 1 };

export interface ModalImage {
  data: Uint8Array; // interleaved
  channels: 1 | 3;
}

// Sensor noise from a fixed table of normal samples read from a random offset: as random as needed, and
// ~20x cheaper than Box-Muller per pixel.
const NOISE = (() => {
  const r = mulberry32(0x5eed);
  return Float32Array.from({ length: 1 << 16 }, () => gauss(r));
})();
function noiseStream(rng: Rng): { next(): number } {
  let i = Math.floor(rng() * NOISE.length);
  const step = 1 + 2 * Math.floor(rng() * 1000); // odd step visits the whole table
  return { next: () => NOISE[(i = (i + step) & 0xffff)] };
}

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
const lum = (a: Float32Array, i: number) => 0.299 * a[i * 3] + 0.587 * a[i * 3 + 1] + 0.114 * a[i * 3 + 2];

/** NIR reflectance per material (0..1): skin bright and even, dark hair and every iris colour mid-grey. */
const NIR_REFLECTANCE = new Float32Array([0, 0.42, 0.78, 0.35, 0.85, 0.5, 0.08, 0.7, 0.45, 0.4, 0.3]);

export function renderModality(mod: SyntheticModality, f: FaceLayers, severity: number, rng: Rng): ModalImage {
  if (!(severity >= 0 && severity <= 1)) throw new Error(`severity for ${mod} must be in [0, 1], received ${severity}`);
  switch (mod) {
    case 'VIS': return vis(f, rng);
    case 'NIR': return nir(f, severity, rng);
    case 'THERMAL': return thermal(f, severity, rng);
    case 'SKETCH': return sketch(f, severity, rng);
    default: throw new Error(`unknown synthetic modality '${mod as string}'; known: ${SYNTHETIC_MODALITIES.join(', ')}`);
  }
}

/** VIS: albedo x lighting + sensor noise, RGB. */
function vis(f: FaceLayers, rng: Rng): ModalImage {
  const noise = noiseStream(rng);
  const n = f.size * f.size;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const s = f.shade[i];
    const e = noise.next() * 3;
    out[i * 3] = clamp255(f.albedo[i * 3] * s + e);
    out[i * 3 + 1] = clamp255(f.albedo[i * 3 + 1] * s + e);
    out[i * 3 + 2] = clamp255(f.albedo[i * 3 + 2] * s + e);
  }
  return { data: out, channels: 3 };
}

/**
 * NIR: grey; per-material reflectance replaces VIS luminance (weight = severity), active frontal
 * illumination flattens the shading, identity texture is damped, gamma 1 + 0.6 s and contrast x (1 - 0.35 s).
 */
function nir(f: FaceLayers, s: number, rng: Rng): ModalImage {
  const noise = noiseStream(rng);
  const n = f.size * f.size;
  const out = new Uint8Array(n);
  const gamma = 1 + 0.6 * s, contrast = 1 - 0.35 * s;
  const lut = new Float32Array(1025); // v^gamma on [0, 2]: Math.pow per pixel was the hot spot
  for (let q = 0; q <= 1024; q++) lut[q] = Math.pow(q / 512, gamma);
  for (let i = 0; i < n; i++) {
    const m = f.mat[i];
    const l = lum(f.albedo, i) / 255;
    // keep the identity texture (albedo minus its material's mean) but damped
    const refl = NIR_REFLECTANCE[m] + (m === Mat.Skin ? (l - 0.6) * 0.5 : 0);
    let v = (1 - s) * l + s * refl;
    v *= 1 + (f.shade[i] - 1) * (1 - 0.6 * s);
    v = lut[v <= 0 ? 0 : v >= 2 ? 1024 : Math.round(v * 512)];
    v = (v - 0.5) * contrast + 0.5;
    out[i] = clamp255(v * 255 + noise.next() * 2.5);
  }
  return { data: out, channels: 1 };
}

/**
 * THERMAL: heat map of the face (skin bright, periphery and nose tip cooler, hair and background dark:
 * the opposite polarity of VIS for dark-skinned/light-background cases), no lighting, texture lost,
 * blurred (sigma 0.4 + 1.0 s px at 64 px) and sampled at 1/(1 + s) resolution, with sensor noise.
 */
function thermal(f: FaceLayers, s: number, rng: Rng): ModalImage {
  const noise = noiseStream(rng);
  const size = f.size;
  const n = size * size;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = (1 - 0.85 * s) * (lum(f.albedo, i) / 255) + 0.85 * s * f.heat[i];
  const sigma = (0.4 + 1.0 * s) * (size / 64);
  const blurred = gaussianBlur(v, size, sigma);
  const lowRes = resample(blurred, size, Math.max(4, Math.round(size / (1 + s))));
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = clamp255(lowRes[i] * 255 + noise.next() * 3);
  return { data: out, channels: 1 };
}

/**
 * SKETCH: inverted edge strokes of the lighting-free albedo (white paper, dark lines). Severity removes
 * the remaining tone (at s = 1 only strokes are left) and drops stroke segments (30% x s), so most
 * texture is destroyed: the deliberately hard modality.
 */
function sketch(f: FaceLayers, s: number, rng: Rng): ModalImage {
  const noise = noiseStream(rng);
  const size = f.size;
  const n = size * size;
  const l = new Float32Array(n);
  for (let i = 0; i < n; i++) l[i] = lum(f.albedo, i) / 255;
  const sm = gaussianBlur(l, size, 0.6 * (size / 64));
  const out = new Uint8Array(n);
  const gain = 5;
  const dropBlock = Math.max(2, Math.round(size / 16));
  const blocks = Math.ceil(size / dropBlock);
  const drop = new Uint8Array(blocks * blocks).map(() => (rng() < 0.3 * s ? 1 : 0));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const xm = x > 0 ? x - 1 : x, xp = x < size - 1 ? x + 1 : x;
      const ym = y > 0 ? y - 1 : y, yp = y < size - 1 ? y + 1 : y;
      const gx = sm[y * size + xp] - sm[y * size + xm];
      const gy = sm[yp * size + x] - sm[ym * size + x];
      let edge = Math.min(1, Math.sqrt(gx * gx + gy * gy) * gain);
      if (drop[Math.floor(y / dropBlock) * blocks + Math.floor(x / dropBlock)]) edge *= 0.25;
      const tone = 0.55 + 0.45 * l[i]; // faint pencil shading
      const v = (1 - s) * tone + s * 1; // severity removes the tone
      out[i] = clamp255((v * (1 - edge)) * 255 + noise.next() * 2);
    }
  }
  return { data: out, channels: 1 };
}

/** Separable Gaussian blur, clamped borders. */
export function gaussianBlur(src: Float32Array, size: number, sigma: number): Float32Array {
  if (sigma < 0.3) return src.slice();
  const r = Math.ceil(sigma * 2.5);
  const kern = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let t = -r; t <= r; t++) sum += kern[t + r] = Math.exp(-(t * t) / (2 * sigma * sigma));
  for (let t = 0; t < kern.length; t++) kern[t] /= sum;
  const tmp = new Float32Array(src.length);
  const dst = new Float32Array(src.length);
  const last = size - 1;
  const taps = 2 * r + 1;
  // horizontal pass: clamped taps only near the borders
  for (let y = 0; y < size; y++) {
    const row = y * size;
    for (let x = 0; x < size; x++) {
      let a = 0;
      if (x >= r && x + r <= last) for (let t = 0, p = row + x - r; t < taps; t++, p++) a += kern[t] * src[p];
      else for (let t = -r; t <= r; t++) a += kern[t + r] * src[row + (x + t < 0 ? 0 : x + t > last ? last : x + t)];
      tmp[row + x] = a;
    }
  }
  for (let y = 0; y < size; y++) {
    const inner = y >= r && y + r <= last;
    for (let x = 0; x < size; x++) {
      let a = 0;
      if (inner) for (let t = 0, p = (y - r) * size + x; t < taps; t++, p += size) a += kern[t] * tmp[p];
      else for (let t = -r; t <= r; t++) a += kern[t + r] * tmp[(y + t < 0 ? 0 : y + t > last ? last : y + t) * size + x];
      dst[y * size + x] = a;
    }
  }
  return dst;
}

/** Down to `low` x `low` (area-ish, point sampling after the blur) and back up bilinearly. */
function resample(src: Float32Array, size: number, low: number): Float32Array {
  if (low >= size) return src;
  const small = new Float32Array(low * low);
  const f = size / low;
  for (let y = 0; y < low; y++) for (let x = 0; x < low; x++) small[y * low + x] = src[Math.min(size - 1, Math.floor((y + 0.5) * f)) * size + Math.min(size - 1, Math.floor((x + 0.5) * f))];
  const out = new Float32Array(size * size);
  const g = low / size;
  for (let y = 0; y < size; y++) {
    const sy = Math.min(low - 1, Math.max(0, (y + 0.5) * g - 0.5));
    const y0 = Math.floor(sy), y1 = Math.min(low - 1, y0 + 1), fy = sy - y0;
    for (let x = 0; x < size; x++) {
      const sx = Math.min(low - 1, Math.max(0, (x + 0.5) * g - 0.5));
      const x0 = Math.floor(sx), x1 = Math.min(low - 1, x0 + 1), fx = sx - x0;
      out[y * size + x] = (1 - fy) * ((1 - fx) * small[y0 * low + x0] + fx * small[y0 * low + x1]) + fy * ((1 - fx) * small[y1 * low + x0] + fx * small[y1 * low + x1]);
    }
  }
  return out;
}
