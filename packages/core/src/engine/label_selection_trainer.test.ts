// Label-selected blocks (the expert comes from each image's modality label, not a router) on the
// onnxruntime engine against tfjs autodiff, with the float32 floor of ssmb_trainer.test.ts: the forms the
// trainer's methods build: ssmb-oracle (one expert per modality, N = 4 over VIS/NIR/thermal/sketch) and
// caim (N = 1, applied to the non-VIS images only: their selection row is 1, VIS rows 0).
import { describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import type { ExpertKind } from '../ssmb/ssmb_block.ts';
import { parityModel } from './parity_fixtures.ts';
import { OrtSsmbTrainer } from './ssmb_trainer.ts';
import { buildInferenceGraph, engineModelOf } from './student_graph.ts';
import { createEngineEmbedder } from './embedder.ts';
import { compare, LOSS, PRELU_SLOPE, SYNTH_SEED, useParitySuite } from './parity_compare.ts';

useParitySuite();

describe('label-selected SSMB blocks: onnxruntime step = tfjs autodiff', () => {
  for (const kind of ['style', 'style+spatial'] as ExpertKind[]) {
    it(`oracle form (N=4, one expert per modality) ${kind} at stem+layer1+layer2`, async () => {
      await compare('iresnet-synth', 4, kind, ['stem', 'layer1', 'layer2'], 4, SYNTH_SEED, false, undefined, { selection: 'label' });
    });
    it(`caim form (N=1, target modalities only) ${kind} at stem+layer1+layer2`, async () => {
      await compare('iresnet-synth', 1, kind, ['stem', 'layer1', 'layer2'], 4, SYNTH_SEED, false, undefined, { selection: 'label' });
    });
  }
  it('the training default (BN folded): oracle N=4 and caim N=1, style, at layer3+layer4', async () => {
    await compare('iresnet-synth', 4, 'style', ['layer3', 'layer4'], 4, SYNTH_SEED, true, undefined, { selection: 'label' });
    await compare('iresnet-synth', 1, 'style', ['layer3', 'layer4'], 4, SYNTH_SEED, true, undefined, { selection: 'label' });
  });
});

describe('label-selected blocks: what the label does', () => {
  it('a zero selection row passes the image unchanged (the teacher embedding), a one-hot row picks that expert only', () => {
    const p = parityModel('iresnet-synth', { taps: ['stem', 'layer1'], numExperts: 2, selection: 'label' }, 2, SYNTH_SEED, PRELU_SLOPE);
    try {
      const S = p.size;
      const x = tf.tensor4d(p.images, [4, S, S, 3]);
      const zero = tf.zeros([4, 2]) as tf.Tensor2D;
      const out = p.model.forward(x, { select: zero });
      const teacher = p.model.teacherForward(x);
      expect(tf.max(tf.abs(tf.sub(out.embedding, teacher))).dataSync()[0]).toBe(0);
      // expert 1's parameters zeroed: rows selecting expert 1 are unchanged, rows selecting expert 0 are not
      for (const block of p.model.blocks.values()) for (const [k, v] of block.params) {
        const t = tf.tensor(v.arraySync() as number[]);
        const keep = tf.concat([tf.ones([1, ...v.shape.slice(1)]), tf.zeros([1, ...v.shape.slice(1)])], 0);
        if (k.startsWith('experts.') && v.shape[0] === 2) v.assign(tf.mul(t, keep));
      }
      const sel = tf.tensor2d([[0, 1], [1, 0], [0, 1], [1, 0]]);
      const picked = p.model.forward(x, { select: sel });
      const diff = tf.max(tf.abs(tf.sub(picked.embedding, teacher)), 1).dataSync(); // [4]
      expect(diff[0]).toBe(0);
      expect(diff[2]).toBe(0);
      expect(diff[1]).toBeGreaterThan(1e-4);
      expect(diff[3]).toBeGreaterThan(1e-4);
      expect(Array.from(picked.routings[0].expert.dataSync())).toEqual([1, 0, 1, 0]);
    } finally {
      p.model.dispose();
    }
  });

  it('bad input: a missing or misshapen selection is an error naming what was expected', async () => {
    const p = parityModel('iresnet-synth', { taps: ['stem'], numExperts: 4, selection: 'label' }, 2, SYNTH_SEED, PRELU_SLOPE);
    try {
      const x = tf.tensor4d(p.images, [4, p.size, p.size, 3]);
      expect(() => p.model.forward(x)).toThrow("this block's expert is chosen by the label (selection 'label'); pass opts.select [4,4]");
      expect(() => p.model.forward(x, { select: tf.zeros([4, 2]) as tf.Tensor2D })).toThrow('opts.select has shape [4,2]; expected [4,4]');
      expect(() => parityModel('iresnet-synth', { taps: ['stem'], numExperts: 2, selection: 'label', routing: 'soft' }, 2)).toThrow("selection 'label' takes the expert from the label (top1, no router jitter)");
      expect(buildInferenceGraph(engineModelOf(p.model)).selectExperts).toBe(4);
      const trainer = await OrtSsmbTrainer.create(engineModelOf(p.model), { pairs: 2, loss: LOSS, threads: 1, checkPlacement: false });
      try {
        await expect(trainer.step({ images: p.images, labels: p.labels, teacher: new Float32Array(2 * trainer.embeddingSize), params: new Map([...p.model.params].filter(([k]) => k.startsWith('ssmb.')).map(([k, v]) => [k, v.dataSync() as Float32Array])) }))
          .rejects.toThrow('the blocks choose their expert by the modality label; pass select [4,4]');
      } finally {
        await trainer.release();
      }
      const embedder = await createEngineEmbedder(engineModelOf(p.model), { threads: 1, checkPlacement: false });
      try {
        await expect(embedder.embedRouted(p.images)).rejects.toThrow('select has no values, expected [4,4]');
        const r = await embedder.embedRouted(p.images, p.select);
        expect(Array.from(r.experts.get('stem')!)).toEqual([0, 1, 2, 3]);
      } finally {
        await embedder.dispose();
      }
    } finally {
      p.model.dispose();
    }
  });
});
