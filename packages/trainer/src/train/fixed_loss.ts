// The fixed-pair loss estimate of an SSMB run (config train.lossEvery / train.lossPairs; nanoGPT's
// estimate_loss): the per-step `loss` is over a new random batch every step, so two of its values differ
// mostly by which identities were drawn (a coefficient of variation of ~17% over the quickstart's last
// fifth). The objective on the SAME pairs at two steps differs only by the parameters, so its change is
// what "has training converged" asks about. The pairs are drawn once, by a PairSampler with their own seed:
// the training sampler's RNG stream, and so every batch and checkpoint, is the same with the estimate on or off.
import type { Sample } from '@ssmb/protocols';
import { PairSampler, type PairBatch } from './pair_sampler.ts';

/** The fixed pairs' seed from the run's seed: a different, deterministic stream (a mulberry32-style hash). */
export function fixedPairSeed(seed: number): number {
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`fixedPairSeed: seed must be a non-negative integer, received ${seed}`);
  let h = Math.imul((seed ^ 0x6c6f7373) >>> 0, 0x9e3779b1); // 'loss'
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** `count` (VIS anchor, partner) pairs of the fold's training split, drawn like training pairs, fixed for the run. */
export function fixedLossPairs(samples: readonly Sample[], seed: number, count: number): PairBatch {
  if (!Number.isInteger(count) || count < 1) throw new Error(`fixedLossPairs: count (config key \`train.lossPairs\`) must be a positive integer, received ${count}`);
  return new PairSampler(samples, fixedPairSeed(seed)).next(count);
}

/** Steps at which the estimate is logged: 0 (before any update), every `every` steps, and the last step. */
export function isLossEstimateStep(step: number, every: number, totalSteps: number): boolean {
  return every > 0 && (step === 0 || step === totalSteps || step % every === 0);
}
