// Server-side downsampling of long metric histories. Points are split into equal-count buckets and
// each bucket keeps its first, last, minimum and maximum point (in step order), so spikes and the
// curve's ends survive while the browser draws at most ~maxPoints points. Columnar in and out: the
// histories can hold 100k points and this runs per request.

export interface Columns {
  steps: number[];
  values: number[];
}

export interface Downsampled extends Columns {
  /** How many points the store holds for this series. */
  total: number;
}

export function downsample(steps: readonly number[], values: readonly number[], maxPoints: number): Downsampled {
  if (!Number.isInteger(maxPoints) || maxPoints < 4) {
    throw new RangeError(`downsample: maxPoints must be an integer >= 4, received ${maxPoints}`);
  }
  if (steps.length !== values.length) {
    throw new RangeError(`downsample: steps and values must have the same length, received ${steps.length} and ${values.length}`);
  }
  const total = steps.length;
  if (total <= maxPoints) return { steps: steps.slice(), values: values.slice(), total };
  const buckets = Math.floor(maxPoints / 4);
  const size = total / buckets;
  const out: Downsampled = { steps: [], values: [], total };
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size);
    const end = Math.min(total, Math.floor((b + 1) * size));
    if (end <= start) continue;
    let iMin = start;
    let iMax = start;
    for (let i = start + 1; i < end; i++) {
      if (values[i] < values[iMin]) iMin = i;
      if (values[i] > values[iMax]) iMax = i;
    }
    // The bucket's chosen indices in step order, without duplicates.
    const keep = [start, iMin, iMax, end - 1].sort((a, c) => a - c);
    for (let k = 0; k < keep.length; k++) {
      if (k > 0 && keep[k] === keep[k - 1]) continue;
      out.steps.push(steps[keep[k]]);
      out.values.push(values[keep[k]]);
    }
  }
  return out;
}
