// The accuracy guards of int8 against fp32 on the same images (tests and the bench report them): cosine
// of each image's two embeddings, verification AUC of each (genuine = same identity, impostor = different
// identities, all pairs), and how often every SSMB block routed an image to the same expert.
import { rocAuc } from '../../metrics/roc_auc.ts';
import type { RoutedEmbedding } from '../embedder.ts';

export interface Int8Accuracy {
  /** per image */
  cosine: number[];
  minCosine: number;
  aucFp32: number;
  aucInt8: number;
  /** |AUC int8 - AUC fp32| in points (AUC x 100) */
  aucDeltaPoints: number;
  /** share of images whose expert is the same in every block (1 without blocks) */
  routingAgreement: number;
  images: number;
}

function cos(a: Float32Array, b: Float32Array): number {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(Math.max(na * nb, 1e-30));
}

function auc(emb: Float32Array, E: number, identity: readonly (number | string)[]): number {
  const n = identity.length, genuine: number[] = [], impostor: number[] = [];
  const row = (i: number) => emb.subarray(i * E, (i + 1) * E);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) (identity[i] === identity[j] ? genuine : impostor).push(cos(row(i), row(j)));
  if (!genuine.length || !impostor.length) throw new Error(`int8 accuracy: ${genuine.length} genuine and ${impostor.length} impostor pairs; the identities need both`);
  return rocAuc(genuine, impostor);
}

/** fp32 and int8 embeddings ([N,E] each, same images) with the images' identities. */
export function int8Accuracy(fp32: RoutedEmbedding, int8: RoutedEmbedding, E: number, identity: readonly (number | string)[]): Int8Accuracy {
  const n = identity.length;
  if (fp32.embedding.length !== n * E || int8.embedding.length !== n * E) {
    throw new Error(`int8 accuracy: ${fp32.embedding.length} and ${int8.embedding.length} values; expected ${n} images x ${E}`);
  }
  const cosine = Array.from({ length: n }, (_, i) => cos(fp32.embedding.subarray(i * E, (i + 1) * E), int8.embedding.subarray(i * E, (i + 1) * E)));
  let same = 0;
  for (let i = 0; i < n; i++) if ([...fp32.experts].every(([tap, e]) => int8.experts.get(tap)?.[i] === e[i])) same++;
  const aucFp32 = auc(fp32.embedding, E, identity), aucInt8 = auc(int8.embedding, E, identity);
  return { cosine, minCosine: Math.min(...cosine), aucFp32, aucInt8, aucDeltaPoints: 100 * Math.abs(aucInt8 - aucFp32), routingAgreement: same / n, images: n };
}
