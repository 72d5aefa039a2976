// int8 against fp32 on the real face photos that ship with face-api (demo/sample1-6.jpg), detected and
// aligned into each pre-trained backbone's template, through our re-implementations with SSMB blocks:
// cosine >= 0.99 per image, verification AUC within 0.2 points, routing identical for >= 95% of images.
// Three "captures" of each face (the template and two 1.5 px shifts), each as VIS and as a NIR-like grey
// image; int8 is calibrated (train/calibration.ts, as a run does) on the third capture of both modalities
// and measured on the other two. And runPrecision's choices without training images.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import {
  backboneInfo, createEngineEmbedder, engineModelOf, HFRModel, importPretrained, initBackend, int8Accuracy, listPretrainedBackbones, packageFile,
} from '@ssmb/core';
import { loadAlignedBatch, type Point, type Sample } from '@ssmb/protocols';
import { resolveConfig } from '../config.ts';
import { faceLandmarker } from './align.ts';
import { calibrationSets, runPrecision } from './calibration.ts';
import type { ImageSet } from './data.ts';

const PHOTOS = [1, 2, 3, 4, 5, 6].map((i) => packageFile('@vladmandic/face-api', `demo/sample${i}.jpg`));
const sample = (p: string, modality = 'VIS'): Sample => ({ path: p, subject: path.basename(p, '.jpg'), modality });

beforeAll(async () => {
  expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
});

/** NHWC [-1,1] VIS images -> the NIR-like grey version (luminance, gamma 0.7). */
function nirLike(vis: Float32Array): Float32Array {
  const out = new Float32Array(vis.length);
  for (let i = 0; i < vis.length; i += 3) {
    const g = ((vis[i] + vis[i + 1] + vis[i + 2]) / 3 + 1) / 2; // [0,1]
    out[i] = out[i + 1] = out[i + 2] = 2 * g ** 0.7 - 1;
  }
  return out;
}

describe.each(listPretrainedBackbones())('int8 against fp32 on the face-api photos: %s with SSMB blocks', (name) => {
  let model: HFRModel;
  beforeAll(() => {
    const backbone = importPretrained(name).model;
    model = new HFRModel(backbone, { taps: backbone.taps.slice(0, 2).map((t) => t.name), numExperts: 4, seed: 3 });
  });
  afterAll(() => model.dispose());

  it('cosine >= 0.99 per image, AUC within 0.2 points, routing identical for >= 95%', async () => {
    const t = backboneInfo(name).input.template;
    const S = t.size;
    const landmarker = faceLandmarker();
    const capture = async (dx: number, dy: number) => (await loadAlignedBatch(PHOTOS.map((p) => sample(p)), S, {
      template: t.points.map(([x, y]) => [x + dx, y + dy] as Point), landmarker, concurrency: 1,
    })).data;
    const [c1, c2, c3] = [await capture(0, 0), await capture(1.5, -1), await capture(-1.5, 1)];
    // the "training images" of the run: the third capture, VIS and NIR-like
    const train: ImageSet = { samples: [...PHOTOS.map((p) => sample(p)), ...PHOTOS.map((p) => sample(p, 'NIR'))], size: S, data: Float32Array.from([...c3, ...nirLike(c3)]) };
    const config = resolveConfig({ base: { method: 'ssmb', batchSize: 4, train: { precision: 'int8', threads: 2 } } });
    const precision = await runPrecision(config, 'eval', model, train);
    expect(precision.calibration!.perModality).toEqual({ VIS: 6, NIR: 6 });
    expect(calibrationSets(train, 4).map((s) => [s.modality, s.images.length / (S * S * 3)])).toEqual([['VIS', 4], ['NIR', 4]]);
    const test = Float32Array.from([...c1, ...c2, ...nirLike(c1), ...nirLike(c2)]); // 24 images
    const identity = [0, 1, 2, 3].flatMap(() => PHOTOS.map((_, i) => i));
    const f = await createEngineEmbedder(engineModelOf(model), { threads: 2 });
    const q = await createEngineEmbedder(engineModelOf(model), { threads: 2, ...precision });
    try {
      expect(q.precision).toMatchObject({ precision: 'int8', reason: 'configured' });
      const acc = int8Accuracy(await f.embedRouted(test), await q.embedRouted(test), f.embeddingSize, identity);
      console.log(`${name} + SSMB on the face-api photos: min cosine ${acc.minCosine.toFixed(4)}, AUC fp32 ${acc.aucFp32.toFixed(4)} int8 ${acc.aucInt8.toFixed(4)} ` +
        `(${acc.aucDeltaPoints.toFixed(3)} points), routing ${(100 * acc.routingAgreement).toFixed(1)}%, ${q.precision.layers} layers int8 (${q.precision.calibration})`);
      expect(acc.minCosine).toBeGreaterThanOrEqual(0.99);
      expect(acc.aucDeltaPoints).toBeLessThanOrEqual(0.2);
      expect(acc.routingAgreement).toBeGreaterThanOrEqual(0.95);
    } finally {
      await f.dispose();
      await q.dispose();
    }
  }, 300_000);
});

describe('runPrecision without training images, and with too few', () => {
  it('fp32: nothing to calibrate; auto: the reason for fp32; int8: refused naming the key', async () => {
    const backbone = importPretrained('dlib-resnet29').model;
    try {
      const cfg = (train: object, evalPrecision: string | null = null) => resolveConfig({ base: { method: 'ssmb', batchSize: 4, train, eval: { precision: evalPrecision } } as never });
      expect(await runPrecision(cfg({}), 'train', backbone, null)).toEqual({ precision: 'fp32', precisionKey: 'train.precision' });
      expect(await runPrecision(cfg({ precision: 'auto' }), 'eval', backbone, null)).toEqual({
        precision: 'auto', precisionKey: 'train.precision', calibrationError: 'train.precision auto: this run has no training images to calibrate int8 on',
      });
      await expect(runPrecision(cfg({}, 'int8'), 'eval', backbone, null)).rejects.toThrow('eval.precision int8: this run has no training images to calibrate int8 on');
      // 6 images, batch 4 pairs = 8 images: auto records the count, int8 refuses with it
      const S = backbone.input.size;
      const few: ImageSet = { samples: PHOTOS.map((p) => sample(p)), size: S, data: new Float32Array(6 * S * S * 3) };
      expect((await runPrecision(cfg({ precision: 'auto' }), 'train', backbone, few)).calibrationError).toBe('int8 calibration: 6 images (VIS 6); expected at least the batch, 8');
      await expect(runPrecision(cfg({ precision: 'int8' }), 'train', backbone, few)).rejects.toThrow('int8 calibration: 6 images (VIS 6); expected at least the batch, 8');
    } finally {
      backbone.dispose();
    }
  });
});
