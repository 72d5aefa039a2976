// Index arithmetic shared by the wasm conv gradient kernels (pure numbers, tested on its own).

/**
 * One output phase of a strided transposed convolution along one axis. Input rows r, r+s, r+2s, ...
 * (r = `phase`) of dx only receive filter taps a0, a0+s, ...; they form a stride-1 correlation of dy
 * with those taps reversed, padded by `padBefore`/`padAfter` (negative = crop dy).
 */
export interface Phase1D {
  /** number of filter taps that reach this phase (0: the phase is all zeros) */
  taps: number;
  /** first index into the spatially reversed filter; the taps follow at step `stride` */
  start: number;
  padBefore: number;
  padAfter: number;
}

/**
 * @param phase r in [0, stride)
 * @param padLow the forward conv's leading pad (top or left)
 * @param stride forward stride
 * @param k filter size
 * @param outSize dy's size along this axis (forward output)
 * @param phaseLen rows computed per phase (ceil(inSize / stride); extra rows are cropped later)
 */
export function phase1d(phase: number, padLow: number, stride: number, k: number, outSize: number, phaseLen: number): Phase1D {
  const a0 = (phase + padLow) % stride;
  const taps = a0 < k ? Math.ceil((k - a0) / stride) : 0;
  const c = Math.floor((phase + padLow) / stride);
  const padBefore = taps - 1 - c;
  const padAfter = phaseLen - outSize + taps - 1 - padBefore;
  return { taps, start: k - 1 - a0 - stride * (taps - 1), padBefore, padAfter };
}

/** Trailing pad that makes a dilated correlation of x with dy produce exactly k filter taps. */
export function filterGradPadAfter(k: number, stride: number, outSize: number, inSize: number, padLow: number): number {
  return k + (outSize - 1) * stride - inSize - padLow;
}
