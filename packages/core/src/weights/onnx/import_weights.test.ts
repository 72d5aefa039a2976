import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../../tf.ts';
import { randomImagesNHWC, randomInsightfaceStateDict, stateDictToSafetensors } from './onnx_fixtures.ts';
import { foldStateDict, iresnetOnnxBytes } from './iresnet_onnx_graph.ts';
import { cosine } from './nchw.ts';
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

  it('names unreadable inputs', () => {
    expect(() => importInsightfaceBackbone({ onnx: path.join(dir, 'none.onnx') })).toThrow(/ONNX file '.*none\.onnx' cannot be read \(ENOENT\)/);
    const junk = path.join(dir, 'junk.safetensors');
    writeFileSync(junk, Buffer.from('not a safetensors file at all'));
    expect(() => importInsightfaceBackbone({ safetensors: junk })).toThrow(/junk\.safetensors: header length .* not a safetensors file/);
  });
});
