// Runs whose evaluation is computed for real (trainer's evaluateFold and sampleEmbeddings) from synthetic
// face embeddings: identities as random directions, each modality shifting them its own way, noise per
// image. The score histograms, curves and embedding sample the dashboard reads are what an evaluation
// of these embeddings stores.
import seedrandom from 'seedrandom';
import { defaultConfig, evaluateFold, mergeConfig, sampleEmbeddings, type RunStore } from '@ssmb/trainer';

export interface SyntheticFold {
  identities: number;
  galleryPerId: number;
  probePerId: number;
  dim: number;
  /** Noise per coordinate (larger: genuine and impostor scores overlap more). */
  noise: number;
  seed: string;
}

/** Gallery (VIS) and probe (NIR) embeddings of `identities` identities: [N,dim] rows with subjects and modalities. */
export function syntheticFold(f: SyntheticFold) {
  const rng = seedrandom(f.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const centre = Array.from({ length: f.identities }, () => Array.from({ length: f.dim }, gauss));
  const shift = { VIS: Array.from({ length: f.dim }, () => 0.5 * gauss()), NIR: Array.from({ length: f.dim }, () => 0.5 * gauss()) };
  const role = (modality: 'VIS' | 'NIR', per: number) => {
    const subjects: string[] = [];
    const emb: number[] = [];
    for (let i = 0; i < f.identities; i++) {
      for (let k = 0; k < per; k++) {
        subjects.push(`id${String(i).padStart(4, '0')}`);
        for (let j = 0; j < f.dim; j++) emb.push(centre[i][j] + shift[modality][j] + f.noise * gauss());
      }
    }
    return { emb: Float32Array.from(emb), subjects, modalities: subjects.map(() => modality) };
  };
  return { dim: f.dim, gallery: role('VIS', f.galleryPerId), probe: role('NIR', f.probePerId) };
}

/** A completed SSMB run with one evaluated fold of `syntheticFold(f)`; its id. */
export function addEvaluatedRun(store: RunStore, name: string, protocol: string, fold: string, f: SyntheticFold, numExperts = 2): number {
  const config = mergeConfig(defaultConfig(), { method: 'ssmb', ssmb: { numExperts }, dataset: { protocol, fold } });
  const id = store.createRun({ experiment: 'eval-samples', kind: 'train', method: 'ssmb', config, seed: 0, name });
  const e = syntheticFold(f);
  const r = evaluateFold({ dim: e.dim, gallery: e.gallery, probe: e.probe });
  store.recordEvaluation(id, { protocol, fold, metrics: r.metrics, curves: r.curves, scores: r.histogram, embeddings: sampleEmbeddings(e.gallery, e.probe, e.dim) });
  store.completeRun(id);
  return id;
}
