// The run page's embedding map: a sampled fold's gallery and probe embeddings (unit length, so distances
// follow the cosine the scores use) projected to 2-D with UMAP (umap-js), seeded: the same sample always
// gives the same picture. Pure apart from umap-js; tested in node.
// umap-js and seedrandom load with the first projection (their own chunk), not with the run page.

/** Rows of a base64 float32 little-endian matrix [n, dim], checked against the size it should have. */
export function decodeVectors(b64: string, n: number, dim: number): Float32Array[] {
  const bin = atob(b64);
  if (bin.length !== n * dim * 4) throw new Error(`embedding sample: expected ${n} x ${dim} float32 values (${n * dim * 4} bytes), received ${bin.length} bytes`);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const all = new Float32Array(bytes.buffer); // little-endian, as every browser this app runs in
  return Array.from({ length: n }, (_, i) => all.subarray(i * dim, (i + 1) * dim));
}

/** Each row scaled to unit length (a zero row stays zero). */
export function unitRows(rows: ArrayLike<number>[]): number[][] {
  return rows.map((r) => {
    const v = Array.from(r);
    const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
    return norm > 0 ? v.map((x) => x / norm) : v;
  });
}

export const PROJECTION_SEED = 'ssmb-embedding-map';

/**
 * 2-D UMAP of the rows (15 neighbours, or fewer for a small sample), yielding to the page every 10 epochs so
 * it stays responsive; onEpoch(k, n) reports progress. Rows with a NaN or infinite value are an error naming
 * how many (UMAP would place them anywhere).
 */
export async function projectEmbeddings(rows: ArrayLike<number>[], opts: { seed?: string; onEpoch?: (epoch: number, of: number) => void } = {}): Promise<Array<[number, number]>> {
  if (rows.length < 3) throw new Error(`embedding map: needs at least 3 points, received ${rows.length}`);
  const bad = rows.filter((r) => Array.from(r).some((x) => !Number.isFinite(x))).length;
  if (bad > 0) throw new Error(`embedding map: ${bad} of ${rows.length} embeddings hold NaN or infinite values`);
  const [{ UMAP }, { default: seedrandom }] = await Promise.all([import('umap-js'), import('seedrandom')]);
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, rows.length - 1), minDist: 0.1, random: seedrandom(opts.seed ?? PROJECTION_SEED) });
  const epochs = umap.initializeFit(unitRows(rows));
  for (let k = 1; k <= epochs; k++) {
    umap.step();
    opts.onEpoch?.(k, epochs);
    if (k % 10 === 0) await new Promise((res) => setTimeout(res, 0));
  }
  return umap.getEmbedding().map((p) => [p[0], p[1]]);
}
