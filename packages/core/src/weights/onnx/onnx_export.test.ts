import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../tf.ts';
import { createIResNet } from '../../models/registry.ts';
import { randomImagesNHWC, randomizeParams } from './onnx_fixtures.ts';
import { exportBackboneToOnnx } from './onnx_export.ts';
import { createOnnxEmbedder } from './onnx_embedder.ts';
import { decodeOnnxModel } from './onnx_proto.ts';
import { importOnnxGraph } from './import_onnx_graph.ts';
import { insightfaceToOurs } from './insightface_convert.ts';
import { cosine } from './nchw.ts';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(path.join(os.tmpdir(), 'ssmb-onnx-export-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('exportBackboneToOnnx', () => {
  it('writes an IResNet that onnxruntime runs like ours and that imports back to the same parameters', async () => {
    const model = createIResNet('iresnet-tiny', { frozen: true });
    randomizeParams(model.params, (d, s) => tf.tensor(d, s), 21);
    const x = randomImagesNHWC(3, 32, 4);
    const y = model.forward(tf.tensor4d(x, [3, 32, 32, 3]));
    const ours = y.dataSync() as Float32Array;
    y.dispose();
    const E = model.config.embeddingSize;
    for (const foldBn of [false, true]) {
      const file = path.join(dir, `tiny-${foldBn}.onnx`);
      exportBackboneToOnnx(model, file, { foldBn });
      const e = await createOnnxEmbedder(file, { threads: 1 });
      const ref = await e.embed(x);
      await e.dispose();
      for (let i = 0; i < 3; i++) expect(cosine(ours.subarray(i * E, (i + 1) * E), ref.subarray(i * E, (i + 1) * E))).toBeGreaterThanOrEqual(0.9999);
      const imp = importOnnxGraph(decodeOnnxModel(readFileSync(file)));
      expect(imp.shape).toMatchObject({ depths: model.config.depths, widths: model.config.widths, inputSize: 32 });
      if (!foldBn) {
        const back = insightfaceToOurs(imp.stateDict, imp.shape, file);
        for (const [name, v] of model.params) expect(Array.from(back.get(name)!.data)).toEqual(Array.from(v.dataSync()));
      }
    }
    model.dispose();
  });
});
