// Rows of score_histograms and embedding_samples (migration 6) to entities and back, and the checks a
// record passes before it is stored (a worker's op is checked by its schema too; a local caller only here).
import type { EmbeddingSample, EmbeddingSampleInfo, EmbeddingSampleRecord, ScoreHistogram, ScoreHistogramRecord } from './types.ts';
import type { Row } from './entities.ts';

const isCount = (n: unknown) => Number.isInteger(n) && (n as number) >= 0;

export function checkScoreHistogram(h: ScoreHistogram): ScoreHistogram {
  if (!(Number.isFinite(h.lo) && Number.isFinite(h.hi) && h.hi > h.lo)) throw new Error(`evaluation scores: expected finite lo < hi, received lo=${h.lo} hi=${h.hi}`);
  if (h.genuine.length === 0 || h.genuine.length !== h.impostor.length) {
    throw new Error(`evaluation scores: expected genuine and impostor counts on the same bins (>= 1), received ${h.genuine.length} and ${h.impostor.length} bins`);
  }
  const bad = [...h.genuine, ...h.impostor, h.outside.genuine, h.outside.impostor].find((c) => !isCount(c));
  if (bad !== undefined) throw new Error(`evaluation scores: expected counts (integers >= 0), received ${bad}`);
  return h;
}

export function checkEmbeddingSample(e: EmbeddingSample): EmbeddingSample {
  if (!(Number.isInteger(e.dim) && e.dim >= 1)) throw new Error(`evaluation embeddings: dim must be an integer >= 1, received ${e.dim}`);
  if (e.vectors.length !== e.points.length * e.dim) {
    throw new Error(`evaluation embeddings: expected ${e.points.length} points x ${e.dim} = ${e.points.length * e.dim} values, received ${e.vectors.length}`);
  }
  const role = e.points.find((p) => p.role !== 'gallery' && p.role !== 'probe');
  if (role) throw new Error(`evaluation embeddings: a point's role must be gallery or probe, received ${JSON.stringify(role.role)}`);
  if (![e.total.gallery, e.total.probe, e.total.subjects].every(isCount)) throw new Error(`evaluation embeddings: totals must be counts, received ${JSON.stringify(e.total)}`);
  return e;
}

/** [[role, subject, modality], ...]: the short form points are stored in. */
export const encodePoints = (points: EmbeddingSample['points']) => JSON.stringify(points.map((p) => [p.role, p.subject, p.modality]));
const decodePoints = (s: string): EmbeddingSample['points'] =>
  (JSON.parse(s) as Array<[EmbeddingSample['points'][number]['role'], string, string]>).map(([role, subject, modality]) => ({ role, subject, modality }));

/** Float32 little-endian rows (NaN and +-Infinity kept as they are). */
export function encodeVectors(v: number[]): Buffer {
  const buf = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => buf.writeFloatLE(x, i * 4));
  return buf;
}
function decodeVectors(b: Buffer): number[] {
  const out = new Array<number>(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

export function toScoreHistogram(row: Row): ScoreHistogramRecord {
  return {
    protocol: row.protocol, fold: row.fold, lo: row.lo, hi: row.hi, genuine: JSON.parse(row.genuine_json), impostor: JSON.parse(row.impostor_json),
    outside: { genuine: row.genuine_outside, impostor: row.impostor_outside },
  };
}

export function toEmbeddingSampleInfo(row: Row): EmbeddingSampleInfo {
  const points = decodePoints(row.points_json);
  return {
    protocol: row.protocol, fold: row.fold, dim: row.dim,
    total: { gallery: row.gallery_total, probe: row.probe_total, subjects: row.subjects_total },
    sampled: { gallery: points.filter((p) => p.role === 'gallery').length, probe: points.filter((p) => p.role === 'probe').length, subjects: new Set(points.map((p) => p.subject)).size },
  };
}

export function toEmbeddingSample(row: Row): EmbeddingSampleRecord {
  return {
    protocol: row.protocol, fold: row.fold, dim: row.dim,
    total: { gallery: row.gallery_total, probe: row.probe_total, subjects: row.subjects_total },
    points: decodePoints(row.points_json), vectors: decodeVectors(row.vectors),
  };
}
