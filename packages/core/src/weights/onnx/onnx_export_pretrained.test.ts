// export-onnx --verify for the pre-trained families: backbone + SSMB blocks with trained-looking (random)
// experts, exported as one graph; onnxruntime's embeddings and expert choices match ours (checkOnnxExport).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../tf.ts';
import { initBackend } from '../../backend.ts';
import { HFRModel } from '../../models/hfr_model.ts';
import { importPretrained, listPretrainedBackbones } from '../pretrained.ts';
import { randomImagesNHWC, randomizeParams } from './onnx_fixtures.ts';
import { exportBackboneToOnnx, exportHfrModelToOnnx } from './onnx_export.ts';
import { checkOnnxExport } from './export_verify.ts';

let dir: string;
beforeAll(async () => {
  expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
  dir = mkdtempSync(path.join(os.tmpdir(), 'ssmb-onnx-pretrained-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(listPretrainedBackbones())('%s', (name) => {
  it('backbone alone and backbone + SSMB export and verify (cosine >= 0.9999, routing agrees), BN folded or not', async () => {
    const { model: backbone } = importPretrained(name);
    const S = backbone.input.size;
    const images = randomImagesNHWC(3, S, 5);
    for (const foldBn of [false, true]) {
      const file = path.join(dir, `${name}-backbone-${foldBn}.onnx`);
      exportBackboneToOnnx(backbone, file, { foldBn });
      const c = await checkOnnxExport(backbone, file, images);
      expect(c.minCosine, `backbone foldBn ${foldBn}`).toBeGreaterThanOrEqual(0.9999);
      expect(c.passed).toBe(true);
    }
    const model = new HFRModel(backbone, { taps: backbone.taps.slice(0, 3).map((t) => t.name), numExperts: 3, seed: 2 });
    // small random experts: the blocks modulate, and the routers make a choice per image
    for (const block of model.blocks.values()) {
      randomizeParams(block.params, (d, s) => tf.tensor(d, s), 9);
      for (const [k, v] of block.params) if (k.startsWith('experts.')) tf.tidy(() => v.assign(tf.mul(v, 0.05)));
    }
    const file = path.join(dir, `${name}-hfr.onnx`);
    exportHfrModelToOnnx(model, file);
    const c = await checkOnnxExport(model, file, images);
    expect(Object.keys(c.routingAgreement)).toEqual([...model.blocks.keys()]);
    expect(c.minCosine).toBeGreaterThanOrEqual(0.9999);
    expect(c.passed).toBe(true);
    model.dispose();
  });
});
