// The numbers of int8 quantization (onnxruntime's conventions, the ones its QLinearConv/VNNI kernels take):
// weights symmetric int8 per output channel (zero point 0, scale = max|w| / 127), activations asymmetric
// uint8 per tensor (scale = (max - min) / 255 over a range widened to include 0, so that zero padding is
// exact), conv biases int32 at scale x_scale * w_scale[c] (what QLinearConv adds before requantizing).

export interface WeightQuant {
  q: Int8Array; // same layout as the float weight, output channel first
  scale: Float32Array; // [O]
}

/** Symmetric per-output-channel int8 of a weight whose first dimension is the output channel. */
export function quantizeWeightPerChannel(w: Float32Array, outChannels: number): WeightQuant {
  if (!Number.isInteger(outChannels) || outChannels < 1 || w.length % outChannels !== 0) {
    throw new Error(`int8 weight quantization: ${w.length} values do not split into ${outChannels} output channels`);
  }
  const per = w.length / outChannels;
  const q = new Int8Array(w.length);
  const scale = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    let m = 0;
    for (let i = o * per; i < (o + 1) * per; i++) m = Math.max(m, Math.abs(w[i]));
    // an all-zero channel keeps scale 1 (any positive scale represents it exactly)
    const s = m > 0 ? m / 127 : 1;
    scale[o] = s;
    for (let i = o * per; i < (o + 1) * per; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i] / s)));
  }
  return { q, scale };
}

export interface ActivationQuant {
  scale: number;
  zeroPoint: number; // uint8
}

/** Asymmetric uint8 over [min, max] (widened to include 0; a degenerate range gets a tiny one). */
export function activationQuant(min: number, max: number): ActivationQuant {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new Error(`int8 activation range [${min}, ${max}] is not a finite range; expected min <= max`);
  }
  const lo = Math.min(min, 0), hi = Math.max(max, 0);
  const scale = hi - lo > 1e-12 ? (hi - lo) / 255 : 1e-8;
  const zeroPoint = Math.max(0, Math.min(255, Math.round(-lo / scale)));
  return { scale: Math.fround(scale), zeroPoint };
}

/** A float bias as int32 at scale xScale * wScale[c]. */
export function quantizeBias(bias: Float32Array, xScale: number, wScale: Float32Array): Int32Array {
  if (bias.length !== wScale.length) throw new Error(`int8 bias quantization: ${bias.length} biases for ${wScale.length} weight scales`);
  return Int32Array.from(bias, (v, c) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(v / (Math.fround(xScale) * wScale[c])))));
}

/** A frozen layer's measured activation ranges (calibrate.ts). */
export interface LayerRange {
  inMin: number;
  inMax: number;
  /** the output's range (Conv: the requantized output); NaN where the output stays float */
  outMin: number;
  outMax: number;
}

/** What calibration measured (calibrate.ts): the ranges per layer, and on what. */
export interface Calibration {
  method: 'minmax';
  /** images seen, in all */
  images: number;
  /** images seen per modality (every modality of the run's training images) */
  perModality: Record<string, number>;
  batch: number;
  /** layer (weight initializer name) -> ranges */
  ranges: Map<string, LayerRange>;
}
