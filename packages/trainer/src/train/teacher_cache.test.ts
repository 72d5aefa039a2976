import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf, type HFRModel } from '@ssmb/core';
import { Adam } from './adam.ts';
import { loadFoldChecked, loadImages, type ImageSet } from './data.ts';
import { buildHfr, imageSizeOf, ssmbParams } from './model.ts';
import { PairSampler } from './pair_sampler.ts';
import { ssmbStep } from './ssmb_step.ts';
import { TeacherCache } from './teacher_cache.ts';
import { tinyConfig, tinyDataset } from './test_fixtures.ts';
import type { Config } from '../config.ts';

let config: Config;
let images: ImageSet;

describe('TeacherCache', () => {
  beforeAll(async () => {
    expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
    config = tinyConfig(await tinyDataset());
    const fold = await loadFoldChecked(config.dataset.protocol, config.dataset.root, config.dataset.fold);
    const probe = buildHfr(config, null);
    images = await loadImages(fold.train, imageSizeOf(config, probe.backbone));
    probe.dispose();
  });

  it('looks up the teacher forward of each anchor (batched build, any batch size), without leaking', () => {
    const model = buildHfr(config, null);
    const sampler = new PairSampler(images.samples, config.seed);
    const pool = sampler.anchorPool;
    expect(pool.length).toBeGreaterThan(2);
    expect(pool.every((i) => images.samples[i].modality === 'VIS')).toBe(true);
    TeacherCache.build(model, images, pool.slice(0, 1), 1); // the first forward folds BN into the frozen convs (model-owned tensors)
    const before = tf.memory().numTensors;
    const cache = TeacherCache.build(model, images, pool, 3); // uneven last batch
    expect(tf.memory().numTensors).toBe(before);
    const batch = sampler.next(5);
    const S = images.size;
    const got = cache.lookup(batch.anchors);
    const x = new Float32Array(batch.anchors.length * S * S * 3);
    batch.anchors.forEach((a, b) => x.set(images.data.subarray(a * S * S * 3, (a + 1) * S * S * 3), b * S * S * 3));
    const want = tf.tidy(() => model.teacherForward(tf.tensor4d(x, [batch.anchors.length, S, S, 3])));
    expect(got.shape).toEqual(want.shape);
    const g = got.dataSync();
    const w = want.dataSync();
    for (let i = 0; i < w.length; i++) expect(Math.abs(g[i] - w[i])).toBeLessThan(1e-6);
    tf.dispose([got, want]);
    expect(tf.memory().numTensors).toBe(before);
    const nonVis = images.samples.findIndex((s) => s.modality !== 'VIS');
    expect(() => cache.lookup([nonVis])).toThrow(new RegExp(`image ${nonVis} has no cached teacher embedding`));
    expect(() => TeacherCache.build(model, images, [images.samples.length], 4)).toThrow(/outside the \d+ training images/);
    expect(() => TeacherCache.build(model, images, pool, 0)).toThrow(/batchSize is 0; expected a positive integer/);
    model.dispose();
  });

  it('a few SSMB steps with and without the cache give the same losses and weights', () => {
    const run = (useCache: boolean) => {
      const model: HFRModel = buildHfr(config, null);
      const sampler = new PairSampler(images.samples, config.seed);
      const vars = ssmbParams(model);
      const adam = new Adam(vars);
      const init = [...vars.values()].map((v) => Float32Array.from(v.dataSync()));
      const cache = useCache ? TeacherCache.build(model, images, sampler.anchorPool, config.eval.batchSize) : undefined;
      const losses: number[][] = [];
      for (let step = 0; step < 3; step++) {
        const m = ssmbStep(model, adam, images, sampler.next(config.batchSize), config.loss, config.optim.lr, cache).metrics;
        losses.push([m.loss, m['loss/cc'], m['loss/ts'], m['loss/lb']]);
      }
      const weights = [...vars].map(([k, v]) => [k, Float32Array.from(v.dataSync())] as const);
      expect(weights.some(([, w], i) => w.some((v, j) => v !== init[i][j]))).toBe(true); // the steps trained
      adam.dispose();
      model.dispose();
      return { losses, weights };
    };
    const plain = run(false);
    const before = tf.memory().numTensors;
    const cached = run(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(plain.losses.flat().every(Number.isFinite)).toBe(true);
    expect(plain.losses.some((l) => l[2] > 0)).toBe(true); // L_ts is exercised
    for (let s = 0; s < 3; s++) for (let j = 0; j < 4; j++) expect(Math.abs(cached.losses[s][j] - plain.losses[s][j])).toBeLessThan(1e-6);
    expect(cached.weights.map(([k]) => k)).toEqual(plain.weights.map(([k]) => k));
    let maxDiff = 0;
    cached.weights.forEach(([, w], i) => w.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - plain.weights[i][1][j])))));
    expect(maxDiff).toBeLessThan(1e-5);
  });
});
