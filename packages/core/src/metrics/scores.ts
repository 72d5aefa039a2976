// Input checks and counting shared by the score metrics (plain number arrays, no tensors).

export type Scores = ArrayLike<number>;

/** Throws naming the argument unless it is a non-empty array of finite numbers. */
export function checkScores(name: string, scores: Scores): void {
  if (scores == null || typeof scores.length !== 'number') {
    throw new Error(`${name} must be an array of numbers, received ${String(scores)}`);
  }
  if (scores.length === 0) throw new Error(`${name} is empty; at least one score is needed`);
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) {
      throw new Error(`${name}[${i}] is ${scores[i]}; every score must be a finite number`);
    }
  }
}

/** A sorted ascending copy. */
export function sortedAscending(scores: Scores): Float64Array {
  return Float64Array.from(scores).sort();
}

/** Number of values >= t in an ascending array (binary search). */
export function countAtLeast(sortedAsc: Float64Array, t: number): number {
  let lo = 0;
  let hi = sortedAsc.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sortedAsc[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return sortedAsc.length - lo;
}

/** The smallest double greater than x (a threshold that rejects a score equal to x). */
export function nextUp(x: number): number {
  if (x === Infinity || Number.isNaN(x)) return x;
  if (x === 0) return Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  buf.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return buf.getFloat64(0);
}
