import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../tf.ts';
import { IResNet } from '../../models/iresnet.ts';
import { randomImagesNHWC, randomInsightfaceStateDict } from './onnx_fixtures.ts';
import { emitIResNet, iresnetOnnxBytes } from './iresnet_onnx_graph.ts';
import { OnnxGraphBuilder } from './onnx_graph_builder.ts';
import { decodeOnnxModel, encodeOnnxModel } from './onnx_proto.ts';
import { importOnnxGraph } from './import_onnx_graph.ts';
import { insightfaceToOurs } from './insightface_convert.ts';
import { createOnnxEmbedder } from './onnx_embedder.ts';
import { createTfjsEmbedder } from './tfjs_embedder.ts';
import { cosine } from './nchw.ts';

const shape = { depths: [1, 1, 1, 1], widths: [8, 8, 16, 16], stemWidth: 8, inputSize: 32, embeddingSize: 16 };
const sd = randomInsightfaceStateDict(shape, 5);
let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(path.join(os.tmpdir(), 'ssmb-onnx-embedder-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** insightface files that normalise 0..255 pixels themselves: Sub(127.5) -> Mul(1/127.5) -> network */
function rawPixelModel(): Uint8Array {
  const b = new OnnxGraphBuilder({ anonymous: true });
  const x = b.input('data', ['batch', 3, 32, 32]);
  const sub = b.op1('Sub', [x, b.weight('mean', [], Float32Array.of(127.5))]);
  const mul = b.op1('Mul', [sub, b.weight('scale', [], Float32Array.of(1 / 127.5))]);
  b.output(emitIResNet(b, sd, shape, mul, { foldBn: true }), 'fc1', ['batch', 16]);
  return encodeOnnxModel(b.toModel({ graphName: 'raw' }));
}

describe('createOnnxEmbedder', () => {
  it('embeds our NHWC scaled input like our tfjs model, also for files that normalise raw pixels', async () => {
    const plain = path.join(dir, 'plain.onnx');
    const raw = path.join(dir, 'raw.onnx');
    writeFileSync(plain, iresnetOnnxBytes(sd, shape));
    writeFileSync(raw, rawPixelModel());
    expect(importOnnxGraph(decodeOnnxModel(rawPixelModel())).rawPixelInput).toBe(true);

    const model = new IResNet({ arch: 'test', ...shape, dropout: 0 }, { frozen: true });
    for (const [k, t] of insightfaceToOurs(sd, shape, 'test')) model.params.get(k)!.assign(tf.tensor(t.data, t.shape));
    const ours = createTfjsEmbedder({ inputSize: 32, embeddingSize: 16, forward: (t) => model.forward(t) });
    const x = randomImagesNHWC(2, 32, 9);
    const ref = await ours.embed(x); // first call also builds the frozen model's folded-weight cache
    const before = tf.memory().numTensors;
    await ours.embed(x);
    expect(tf.memory().numTensors).toBe(before); // the tfjs embedder leaks nothing per batch
    for (const file of [plain, raw]) {
      const e = await createOnnxEmbedder(file, { threads: 1 });
      expect([e.layout, e.inputSize, e.embeddingSize]).toEqual(['NCHW', 32, 16]);
      const y = await e.embed(x);
      for (let i = 0; i < 2; i++) expect(cosine(y.subarray(i * 16, i * 16 + 16), ref.subarray(i * 16, i * 16 + 16))).toBeGreaterThanOrEqual(0.9999);
      await expect(e.embed(new Float32Array(10))).rejects.toThrow(/input has 10 values; expected B\*32\*32\*3/);
      await e.dispose();
    }
    model.dispose();
  });

  it('names a missing file', async () => {
    await expect(createOnnxEmbedder(path.join(dir, 'nope.onnx'))).rejects.toThrow(/cannot read '.*nope\.onnx' \(ENOENT\)/);
  });
});
