// mulberry32: the one seeded PRNG of the project (synthetic data and splits, training pair sampling,
// test fixtures). Its whole state is one uint32, so a checkpoint can store it. Importable without
// loading TensorFlow.js through the `@ssmb/core/rng` subpath.

/** One mulberry32 step: the next state and a uniform value in [0, 1). */
export function mulberry32Step(state: number): { state: number; value: number } {
  const s = (state + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { state: s, value: ((t ^ (t >>> 14)) >>> 0) / 4294967296 };
}

/** A uniform [0, 1) generator seeded with `seed` (taken as uint32). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    const r = mulberry32Step(s);
    s = r.state;
    return r.value;
  };
}
