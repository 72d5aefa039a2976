// Pairs for SSMB training (docs/design.md#losses): a VIS anchor v and a partner t of any modality (VIS
// included), same identity (y = 1) with probability `positiveRate`, another identity (y = 0) otherwise.
import type { Sample } from '@ssmb/protocols';
import { Rng } from './rng.ts';

export interface PairBatch {
  anchors: Int32Array; // sample indices [B]
  partners: Int32Array; // sample indices [B]
  labels: Float32Array; // 1 = same identity [B]
}

export class PairSampler {
  private readonly vis: number[] = [];
  private readonly bySubject = new Map<string, number[]>();
  private readonly all: number[];
  readonly rng: Rng;

  constructor(
    private readonly samples: readonly Sample[],
    seed: number,
    private readonly positiveRate = 0.5,
    anchorModality = 'VIS',
  ) {
    samples.forEach((s, i) => {
      if (s.modality === anchorModality) this.vis.push(i);
      const list = this.bySubject.get(s.subject) ?? [];
      list.push(i);
      this.bySubject.set(s.subject, list);
    });
    this.all = samples.map((_, i) => i);
    if (this.vis.length === 0) throw new Error(`PairSampler: the training split has no ${anchorModality} images to anchor pairs (${samples.length} samples)`);
    if (this.bySubject.size < 2) throw new Error(`PairSampler: the training split needs at least 2 identities for negative pairs, found ${this.bySubject.size}`);
    this.rng = new Rng(seed);
  }

  /** Every image that can be an anchor (the teacher sees only these). */
  get anchorPool(): readonly number[] {
    return this.vis;
  }

  next(batchSize: number): PairBatch {
    const anchors = new Int32Array(batchSize);
    const partners = new Int32Array(batchSize);
    const labels = new Float32Array(batchSize);
    for (let b = 0; b < batchSize; b++) {
      const a = this.rng.pick(this.vis);
      const subject = this.samples[a].subject;
      const same = this.bySubject.get(subject)!.filter((i) => i !== a);
      let p: number;
      if (same.length > 0 && this.rng.next() < this.positiveRate) {
        p = this.rng.pick(same);
        labels[b] = 1;
      } else {
        do p = this.rng.pick(this.all);
        while (this.samples[p].subject === subject);
      }
      anchors[b] = a;
      partners[b] = p;
    }
    return { anchors, partners, labels };
  }
}
