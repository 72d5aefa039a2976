// tfjs's seeded random ops treat a falsy seed as "no seed" and fall back to Math.random, so our default
// seed 0 would silently make initialisation irreproducible. Every seed handed to a tfjs random op goes
// through tfSeed. Positive seeds pass unchanged; 0 becomes 0.5, a seed (tfjs hashes seed.toString())
// that no integer seed can collide with.
export function tfSeed(seed: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`tfSeed: seed must be a non-negative safe integer, received ${seed}`);
  }
  return seed === 0 ? 0.5 : seed;
}
