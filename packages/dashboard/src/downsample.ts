// Server-side downsampling of long metric histories. Points are split into equal step-count buckets and
// each bucket keeps its first, last, minimum and maximum point (in step order), so spikes and the
// curve's ends survive while the browser draws at most ~maxPoints points.

export interface Point {
  step: number;
  value: number;
}

export interface Downsampled {
  points: Point[];
  /** How many points the store holds for this series. */
  total: number;
}

export function downsample(points: readonly Point[], maxPoints: number): Downsampled {
  if (!Number.isInteger(maxPoints) || maxPoints < 4) {
    throw new RangeError(`downsample: maxPoints must be an integer >= 4, received ${maxPoints}`);
  }
  const total = points.length;
  if (total <= maxPoints) return { points: points.slice(), total };
  const buckets = Math.floor(maxPoints / 4);
  const size = total / buckets;
  const out: Point[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size);
    const end = Math.min(total, Math.floor((b + 1) * size));
    if (end <= start) continue;
    let iMin = start;
    let iMax = start;
    for (let i = start + 1; i < end; i++) {
      if (points[i].value < points[iMin].value) iMin = i;
      if (points[i].value > points[iMax].value) iMax = i;
    }
    // Keep the bucket's chosen indices in step order, without duplicates.
    const keep = [...new Set([start, iMin, iMax, end - 1])].sort((a, b2) => a - b2);
    for (const i of keep) out.push(points[i]);
  }
  return { points: out, total };
}
