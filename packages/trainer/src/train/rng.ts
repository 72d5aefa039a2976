import { mulberry32Step } from '@ssmb/core/rng';

// Seeded PRNG whose whole state is one uint32 (core's mulberry32), so a checkpoint can store and restore it
// and a resumed run draws exactly the same pairs as an uninterrupted one.
export class Rng {
  private s: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`Rng: seed must be a non-negative integer, received ${seed}`);
    this.s = seed >>> 0;
  }

  get state(): number {
    return this.s;
  }

  set state(s: number) {
    this.s = s >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    const { state, value } = mulberry32Step(this.s);
    this.s = state;
    return value;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[this.int(items.length)];
  }
}
