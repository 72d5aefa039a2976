import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../tf.ts';
import { createIResNet } from '../../models/registry.ts';
import { HFRModel, disposeHFROutput } from '../../models/hfr_model.ts';
import type { SSMBBlock } from '../../ssmb/ssmb_block.ts';
import { randomImagesNHWC, randomizeParams } from './onnx_fixtures.ts';
import { exportHfrModelToOnnx, routingOutputName } from './onnx_export.ts';
import { createOnnxEmbedder } from './onnx_embedder.ts';
import { cosine } from './nchw.ts';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(path.join(os.tmpdir(), 'ssmb-onnx-hfr-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The same faces seen by different "sensors": VIS, NIR-like (grey, gamma), thermal-like (inverted grey), sketch-like (edges). */
function modalities(vis: Float32Array, n: number, s: number): Float32Array {
  const per = s * s * 3;
  const out = new Float32Array(vis.length * 4);
  const grey = (i: number, p: number) => (vis[i * per + p * 3] + vis[i * per + p * 3 + 1] + vis[i * per + p * 3 + 2]) / 3;
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < s * s; p++) {
      const g = grey(i, p);
      const right = p % s < s - 1 ? grey(i, p + 1) : g;
      const values = [
        null,
        Math.sign(g) * Math.abs(g) ** 0.7 * 0.8,
        -g * 0.6 + 0.2,
        Math.min(1, Math.abs(right - g) * 3) * 2 - 1,
      ];
      for (let m = 0; m < 4; m++) for (let c = 0; c < 3; c++) {
        out[(m * n + i) * per + p * 3 + c] = m === 0 ? vis[i * per + p * 3 + c] : (values[m] as number);
      }
    }
  }
  return out;
}

describe('exportHfrModelToOnnx', () => {
  it('exports backbone + SSMB blocks; onnxruntime embeddings (cosine >= 0.9999) and routing match ours on several modalities', async () => {
    const backbone = createIResNet('iresnet-tiny');
    randomizeParams(backbone.params, (d, s) => tf.tensor(d, s), 31);
    const model = new HFRModel(backbone, { taps: ['stem', 'layer1', 'layer2'], numExperts: 3, kind: 'style+spatial', seed: 1 });
    for (const block of model.blocks.values()) randomizeParams(block.params, (d, s) => tf.tensor(d, s), 7);
    const n = 2, S = 32, E = backbone.config.embeddingSize;
    const x = modalities(randomImagesNHWC(n, S, 12), n, S); // [4n,S,S,3]
    const B = 4 * n;

    // a trained router separates styles around their mean: centre each router on this batch's styles
    // (bias = -mean(s) Wr), block by block, so routing differs between modalities
    const calibrate = (h: tf.Tensor4D, block: SSMBBlock) => tf.tidy(() => {
      const { mean, variance } = tf.moments(h, [1, 2]); // [B,C]
      const s = tf.concat([mean, tf.sqrt(tf.add(variance, 1e-5))], 1); // [B,2C]
      const w = block.params.get('router.weight')!;
      block.params.get('router.bias')!.assign(tf.neg(tf.reshape(tf.matMul(tf.mean(s, 0, true), w), [-1])));
    });

    // one calibrating pass: each hook centres its block on the map that already carries the earlier
    // (calibrated) blocks' modulation, exactly what the model computes afterwards
    tf.dispose(backbone.forward(tf.tensor4d(x, [B, S, S, 3]), {
      tapHook: (t, h) => {
        const block = model.blocks.get(t);
        if (!block) return;
        calibrate(h, block);
        const r = block.apply(h);
        tf.dispose([r.routing.probs, r.routing.gate, r.routing.expert]);
        return r.y;
      },
    }));
    const out = model.forward(tf.tensor4d(x, [B, S, S, 3]));
    const ours = out.embedding.dataSync() as Float32Array;
    const experts = new Map(out.routings.map((r) => [r.tap as string, Array.from(r.expert.dataSync())]));
    disposeHFROutput(out);

    const file = path.join(dir, 'hfr.onnx');
    exportHfrModelToOnnx(model, file);
    const ort = await createOnnxEmbedder(file, { threads: 1 });
    expect(ort.outputNames).toEqual(['embedding', 'routing_stem', 'probs_stem', 'routing_layer1', 'probs_layer1', 'routing_layer2', 'probs_layer2']);
    const r = await ort.run(x);
    await ort.dispose();
    for (let i = 0; i < B; i++) expect(cosine(ours.subarray(i * E, (i + 1) * E), r.embedding.subarray(i * E, (i + 1) * E))).toBeGreaterThanOrEqual(0.9999);
    for (const tap of model.config.taps) {
      const mine = experts.get(tap)!;
      expect(Array.from(r.extra[routingOutputName(tap)] as BigInt64Array, Number)).toEqual(mine);
      expect(new Set(mine).size).toBeGreaterThan(1); // routing differs across modalities, so agreement means something
    }
    model.dispose();
  });
});
