// A bounded sample of one fold's gallery and probe embeddings for the dashboard's 2-D projection. Whole
// identities are taken (an identity's colour is only worth something with several of its images), in an
// order fixed by a hash of the identity name: reproducible, and unrelated to how identities are named.
import type { EmbeddingSample } from '../store/types.ts';

/** Images per fold at most (gallery and probe together). */
export const EMBEDDING_SAMPLE_MAX = 500;

export interface RoleEmbeddings {
  emb: Float32Array; // [N,E]
  subjects: string[];
  modalities: string[];
}

/** FNV-1a, 32 bit: a fixed, well-spread order of identity names. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Identities in hash order, each with all its gallery and probe images, while they fit in `max`; an
 * identity that does not fit is passed over for the next. When not even one fits, the first one's first
 * `max` images.
 */
export function sampleEmbeddings(gallery: RoleEmbeddings, probe: RoleEmbeddings, dim: number, max = EMBEDDING_SAMPLE_MAX): EmbeddingSample {
  if (!(Number.isInteger(dim) && dim >= 1)) throw new Error(`sampleEmbeddings: dim must be an integer >= 1, received ${dim}`);
  if (!(Number.isInteger(max) && max >= 1)) throw new Error(`sampleEmbeddings: max must be an integer >= 1, received ${max}`);
  const roles = [['gallery', gallery], ['probe', probe]] as const;
  for (const [role, r] of roles) {
    if (r.emb.length !== r.subjects.length * dim || r.modalities.length !== r.subjects.length) {
      throw new Error(`sampleEmbeddings: ${role} has ${r.emb.length / dim} embeddings of dim ${dim}, ${r.subjects.length} subjects and ${r.modalities.length} modalities; expected one each per image`);
    }
  }
  const images = new Map<string, Array<{ role: 'gallery' | 'probe'; i: number }>>();
  for (const [role, r] of roles) r.subjects.forEach((s, i) => images.set(s, [...(images.get(s) ?? []), { role, i }]));
  const order = [...images.keys()].sort((a, b) => fnv1a(a) - fnv1a(b) || a.localeCompare(b));
  let picked: Array<{ role: 'gallery' | 'probe'; i: number }> = [];
  for (const s of order) {
    const imgs = images.get(s)!;
    if (picked.length + imgs.length <= max) picked.push(...imgs);
  }
  if (picked.length === 0 && order.length > 0) picked = images.get(order[0])!.slice(0, max);
  const vectors: number[] = [];
  const points = picked.map(({ role, i }) => {
    const r = role === 'gallery' ? gallery : probe;
    for (let j = 0; j < dim; j++) vectors.push(r.emb[i * dim + j]);
    return { role, subject: r.subjects[i], modality: r.modalities[i] };
  });
  return { dim, total: { gallery: gallery.subjects.length, probe: probe.subjects.length, subjects: images.size }, points, vectors };
}
