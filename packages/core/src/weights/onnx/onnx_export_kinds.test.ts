// ONNX export of every registered expert kind (listExpertKinds()) and router option: onnxruntime's
// embeddings equal the tfjs forward (cosine >= 0.99999 per sample) and the routing is identical, block by
// block, on inputs whose styles really route to different experts. An unregistered kind is never exported
// (as another kind or at all): the error names the registered kinds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../tf.ts';
import { createIResNet } from '../../models/registry.ts';
import { HFRModel, disposeHFROutput } from '../../models/hfr_model.ts';
import { listExpertKinds } from '../../ssmb/experts/index.ts';
import type { SSMBBlock } from '../../ssmb/ssmb_block.ts';
import type { RouterInput, RoutingMode } from '../../ssmb/router.ts';
import { mulberry32 } from '../../rng.ts';
import { randomImagesNHWC, randomizeParams } from './onnx_fixtures.ts';
import { exportHfrModelToOnnx, routingOutputName } from './onnx_export.ts';
import { createOnnxEmbedder } from './onnx_embedder.ts';
import { cosine } from './nchw.ts';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(path.join(os.tmpdir(), 'ssmb-onnx-kinds-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const S = 32, B = 8;

/** B images of the same random faces under per-sample "sensors": gain, offset and polarity per channel,
 *  so the instance styles differ between samples. NHWC in [-1, 1]-ish. */
function styledImages(seed: number): Float32Array {
  const base = randomImagesNHWC(2, S, seed);
  const u = mulberry32(seed + 1);
  const per = S * S * 3;
  const out = new Float32Array(B * per);
  for (let i = 0; i < B; i++) {
    const gain = [0, 1, 2].map(() => (u() < 0.3 ? -1 : 1) * (0.3 + u()));
    const offset = [0, 1, 2].map(() => u() - 0.5);
    for (let p = 0; p < S * S; p++) for (let c = 0; c < 3; c++) out[i * per + p * 3 + c] = base[(i % 2) * per + p * 3 + c] * gain[c] + offset[c];
  }
  return out;
}

/** Centres each block's router on this batch's router inputs (bias = -mean(r) Wr), block by block on
 *  the maps that carry the earlier blocks' modulation, so routing differs between samples. */
function calibrate(model: HFRModel, x: tf.Tensor4D): void {
  tf.dispose(model.backbone.forward(x, {
    tapHook: (t, h) => {
      const block = model.blocks.get(t) as SSMBBlock | undefined;
      if (!block) return;
      tf.tidy(() => {
        const { mean, variance } = tf.moments(h, [1, 2]); // [B,C]
        const r = block.router.routerInput === 'style' ? tf.concat([mean, tf.sqrt(tf.add(variance, 1e-5))], 1) : mean; // [B,Din]
        const w = block.params.get('router.weight')!;
        block.params.get('router.bias')!.assign(tf.neg(tf.reshape(tf.matMul(tf.mean(r, 0, true), w), [-1])));
      });
      const out = block.apply(h);
      tf.dispose([out.routing.probs, out.routing.gate, out.routing.expert]);
      return out.y;
    },
  }));
}

const OPTIONS: Array<[RoutingMode, RouterInput]> = [['top1', 'style'], ['soft', 'style'], ['top1', 'mean']];

describe.each(listExpertKinds())('ONNX export of expert kind %s', (kind) => {
  it.each(OPTIONS)('routing %s, router input %s: onnxruntime = tfjs (cosine >= 0.99999), routing identical', async (routing, routerInput) => {
    const backbone = createIResNet('iresnet-tiny');
    randomizeParams(backbone.params, (d, s) => tf.tensor(d, s), 31);
    const model = new HFRModel(backbone, { taps: ['stem', 'layer1', 'layer2'], numExperts: 3, kind, routing, routerInput, seed: 1 });
    for (const block of model.blocks.values()) randomizeParams(block.params, (d, s) => tf.tensor(d, s), 7);
    const data = styledImages(12);
    const x = tf.tensor4d(data, [B, S, S, 3]);
    calibrate(model, x);
    const out = model.forward(x);
    const ours = out.embedding.dataSync() as Float32Array;
    const routed = new Map(out.routings.map((r) => [r.tap as string, { expert: Array.from(r.expert.dataSync()), probs: r.probs.dataSync() as Float32Array }]));
    disposeHFROutput(out);
    expect(Array.from(ours)).not.toEqual(Array.from(tf.tidy(() => model.teacherForward(x).dataSync()))); // the blocks really act
    x.dispose();

    const file = path.join(dir, `${kind}-${routing}-${routerInput}.onnx`);
    exportHfrModelToOnnx(model, file);
    const ort = await createOnnxEmbedder(file, { threads: 1 });
    const r = await ort.run(data);
    await ort.dispose();
    const E = backbone.config.embeddingSize;
    for (let i = 0; i < B; i++) expect(cosine(ours.subarray(i * E, (i + 1) * E), r.embedding.subarray(i * E, (i + 1) * E)), `sample ${i}`).toBeGreaterThanOrEqual(0.99999);
    for (const tap of model.config.taps) {
      const mine = routed.get(tap)!;
      expect(Array.from(r.extra[routingOutputName(tap)] as BigInt64Array, Number), tap).toEqual(mine.expert);
      expect(new Set(mine.expert).size, `${tap} routes to more than one expert`).toBeGreaterThan(1); // agreement means something
      const probs = r.extra[`probs_${tap}`] as Float32Array;
      mine.probs.forEach((q, j) => expect(Math.abs(probs[j] - q), `${tap} probs[${j}]`).toBeLessThan(1e-4));
    }
    model.dispose();
  });
});
