// Helpers for the kernel tests: seeded data and running one computation on two backends.
import { tf } from '../tf.ts';

/** Deterministic values in [-1, 1) (mulberry32), so failures reproduce. */
export function seededValues(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 * 2 - 1;
  }
  return out;
}

/** max |a - b| / max |b|: the error relative to the reference's scale (robust where b is near 0). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Runs `fn` on the given backend and returns its result's values and shape (tensors disposed). */
export async function runOn(backend: string, fn: () => tf.Tensor): Promise<{ values: Float32Array; shape: number[] }> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const out = tf.tidy(fn);
    const values = out.dataSync() as Float32Array;
    const shape = out.shape;
    out.dispose();
    return { values: Float32Array.from(values), shape };
  } finally {
    await tf.setBackend(previous);
  }
}
