// Seeded PRNG whose whole state is one uint32 (mulberry32), so a checkpoint can store and restore it
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
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
