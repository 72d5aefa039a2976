import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../tf.ts';
import { randomImagesNHWC, randomInsightfaceStateDict, stateDictToSafetensors } from './onnx_fixtures.ts';
import { foldStateDict, iresnetOnnxBytes } from './iresnet_onnx_graph.ts';
import { cosine } from './nchw.ts';
import { decodeOnnxModel, encodeOnnxModel } from './onnx_proto.ts';
import { createOnnxEmbedder } from './onnx_embedder.ts';
import { importInsightfaceBackbone, verifyAgainstOnnxRuntime } from './import_weights.ts';
import type { IResNetShape } from './insightface_layout.ts';

const shape: IResNetShape = { depths: [2, 1, 1, 1], widths: [8, 8, 16, 16], stemWidth: 8, inputSize: 32, embeddingSize: 16 };
const sd = randomInsightfaceStateDict(shape, 8);
const images = randomImagesNHWC(3, 32, 2);
let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(path.join(os.tmpdir(), 'ssmb-import-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('importInsightfaceBackbone', () => {
  it('imports a BN-folded ONNX file with anonymous tensors and passes verification', async () => {
    const file = path.join(dir, 'r.onnx');
    writeFileSync(file, iresnetOnnxBytes(sd, shape, { foldBn: true, anonymous: true }));
    const imp = importInsightfaceBackbone({ onnx: file });
    expect(imp.config).toMatchObject({ ...shape, dropout: 0 });
    expect(imp.folded).toBe(true);
    const v = await verifyAgainstOnnxRuntime(imp, images);
    expect(v.cosines).toHaveLength(3);
    expect(v.passed).toBe(true);
    // the check can fail: perturb one of our weights
    const w = imp.model.params.get('layer1.0.conv1.weight')!;
    tf.tidy(() => w.assign(tf.mul(w, -1)));
    expect((await verifyAgainstOnnxRuntime(imp, images)).passed).toBe(false);
    imp.model.dispose();
  });

  for (const dtype of ['F32', 'F16'] as const) {
    it(`imports a PyTorch state dict saved as safetensors (${dtype}, DataParallel 'module.' prefix)`, async () => {
      const file = path.join(dir, `r-${dtype}.safetensors`);
      writeFileSync(file, stateDictToSafetensors(sd, { dtype, prefix: 'module.' }));
      const imp = importInsightfaceBackbone({ safetensors: file });
      expect(imp.config).toMatchObject(shape);
      const v = await verifyAgainstOnnxRuntime(imp, images);
      expect(v.min).toBeGreaterThanOrEqual(0.9999);
      imp.model.dispose();
    });
  }

  it('imports a BN-folded state dict (biased convs, no conv BN tensors) and verifies it against the folded tensors', async () => {
    const file = path.join(dir, 'r-folded.safetensors');
    writeFileSync(file, stateDictToSafetensors(foldStateDict(sd, shape)));
    const imp = importInsightfaceBackbone({ safetensors: file });
    expect(imp.folded).toBe(true);
    expect((await verifyAgainstOnnxRuntime(imp, images)).min).toBeGreaterThanOrEqual(0.9999);
    // and it computes what the unfolded original computes
    const plain = path.join(dir, 'r-plain.onnx');
    writeFileSync(plain, iresnetOnnxBytes(sd, shape));
    const orig = importInsightfaceBackbone({ onnx: plain });
    const a = imp.model.forward(tf.tensor4d(images, [3, 32, 32, 3]));
    const b = orig.model.forward(tf.tensor4d(images, [3, 32, 32, 3]));
    const [ya, yb] = [a.dataSync() as Float32Array, b.dataSync() as Float32Array];
    tf.dispose([a, b]);
    for (let i = 0; i < 3; i++) expect(cosine(ya.subarray(i * 16, i * 16 + 16), yb.subarray(i * 16, i * 16 + 16))).toBeGreaterThanOrEqual(0.9999);
    imp.model.dispose();
    orig.model.dispose();
  });

  it('lists missing and unknown tensors of a safetensors file by name and shape', () => {
    const broken = new Map(sd);
    broken.delete('layer2.0.bn3.running_var');
    broken.set('head.extra', { shape: [4, 2], data: new Float32Array(8) });
    const file = path.join(dir, 'broken.safetensors');
    writeFileSync(file, stateDictToSafetensors(broken));
    expect(() => importInsightfaceBackbone({ safetensors: file })).toThrow(/missing tensors: layer2\.0\.bn3\.running_var \[8\][\s\S]*unknown tensors: head\.extra \[4,2\]/);
  });

  it('verifies a file exported with a fixed batch of 1 (and runs a fixed batch of 2 on 5 images)', async () => {
    const fixed = (batch: number) => {
      const m = decodeOnnxModel(iresnetOnnxBytes(sd, shape, { foldBn: true }));
      m.graph.inputs[0].shape = [batch, 3, 32, 32];
      m.graph.outputs[0].shape = [batch, 16];
      return encodeOnnxModel(m);
    };
    const file = path.join(dir, 'batch1.onnx');
    writeFileSync(file, fixed(1));
    const imp = importInsightfaceBackbone({ onnx: file });
    const v = await verifyAgainstOnnxRuntime(imp, images); // 3 images through a batch-1 file
    expect(v.cosines).toHaveLength(3);
    expect(v.min).toBeGreaterThanOrEqual(0.9999);
    imp.model.dispose();
    const five = randomImagesNHWC(5, 32, 4);
    const dynamic = await createOnnxEmbedder(iresnetOnnxBytes(sd, shape, { foldBn: true }));
    const two = await createOnnxEmbedder(fixed(2));
    expect([dynamic.fixedBatch, two.fixedBatch]).toEqual([null, 2]);
    const [a, b] = [await dynamic.embed(five), await two.embed(five)]; // 2 + 2 + 1 (padded) images
    expect(b).toHaveLength(5 * 16);
    for (let i = 0; i < 5 * 16; i++) expect(b[i]).toBeCloseTo(a[i], 5);
    await Promise.all([dynamic.dispose(), two.dispose()]);
  });

  it('says a cut-off ONNX file looks truncated, with the size it has and the size its header promises', () => {
    const bytes = iresnetOnnxBytes(sd, shape);
    const file = path.join(dir, 'cut.onnx');
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    expect(() => importInsightfaceBackbone({ onnx: file })).toThrow(
      new RegExp(`cut\\.onnx: the ONNX file looks truncated: the file is ${Math.floor(bytes.length * 0.6)} bytes, but its 'graph' field at byte \\d+ declares \\d+ bytes and only \\d+ follow \\(\\d+ bytes missing\\); copy or download it again`),
    );
  });

  it('names unreadable inputs', () => {
    expect(() => importInsightfaceBackbone({ onnx: path.join(dir, 'none.onnx') })).toThrow(/ONNX file '.*none\.onnx' cannot be read \(ENOENT\)/);
    const junk = path.join(dir, 'junk.safetensors');
    writeFileSync(junk, Buffer.from('not a safetensors file at all'));
    expect(() => importInsightfaceBackbone({ safetensors: junk })).toThrow(/junk\.safetensors: header length .* not a safetensors file/);
  });
});
