import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createIResNet, createOnnxEmbedder, cosineSimilarity, initBackend, iresnetOnnxBytes, randomImagesNHWC, randomInsightfaceStateDict,
  loadModel, readWeightsFile, stateDictToSafetensors, tf, type IResNet, type IResNetShape,
} from '@ssmb/core';
import { Command } from 'commander';
import { ensurePackageWeights, importFamilyWeights, importWeights, register } from './import-weights.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ssmb-cli-import-weights-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
});
beforeAll(async () => {
  await initBackend({ prefer: 'cpu' }); // tiny models: the pure-JS engine is fastest to start
});

const shape: IResNetShape = { depths: [1, 2, 1, 1], widths: [8, 8, 16, 16], stemWidth: 8, inputSize: 32, embeddingSize: 16 };
const sd = randomInsightfaceStateDict(shape, 17);

describe('ssmb import-weights', () => {
  it("--verify's help says what it compares with: onnxruntime for insightface files, the package's own implementation for --family", () => {
    const program = new Command('ssmb');
    register(program);
    const verify = program.commands.find((c) => c.name() === 'import-weights')!.options.find((o) => o.long === '--verify')!;
    expect(verify.description).toBe(
      "compare our embeddings with the source's on the same images (cosine >= threshold per image): onnxruntime on the ONNX graph for --onnx / --safetensors, the package's own implementation for --family",
    );
  });

  it('--onnx (BN folded, anonymous tensors) --out --verify: writes our weights with the config, and the check passes', async () => {
    const onnx = path.join(tmp, 'r-folded.onnx');
    fs.writeFileSync(onnx, iresnetOnnxBytes(sd, shape, { foldBn: true, anonymous: true }));
    const out = path.join(tmp, 'ours.safetensors');
    const lines: string[] = [];
    const r = await importWeights({ onnx, out, verify: true, count: 3 }, (l) => lines.push(l));
    expect(lines[0]).toContain('iresnet-d1-2-1-1-w8-8-16-16 (depths [1,2,1,1], widths [8,8,16,16], stem 8, input 32, embedding 16)');
    expect(lines[0]).toContain('BN folded into convs');
    expect(lines.at(-1)).toMatch(/verify \(ours on cpu vs onnxruntime, 3 random images\): cosine min (1\.000000|0\.9999\d+).*PASS/);
    expect(r.verify!.passed).toBe(true);
    expect(process.exitCode).toBeUndefined();

    // the written file is our weights format: loadModel rebuilds the IResNet from its config alone
    const wf = readWeightsFile(out);
    const arch = 'iresnet-d1-2-1-1-w8-8-16-16';
    expect(wf.description).toEqual({ kind: 'backbone', family: 'iresnet', config: { family: 'iresnet', name: arch, arch, ...shape, dropout: 0 } });
    expect(wf.metadata).toMatchObject({ source: onnx, source_format: 'onnx', bn_folded_in_source: 'true' });
    const model = loadModel(out, { frozen: true }) as IResNet;
    const x = randomImagesNHWC(2, 32, 99);
    const y = model.forward(tf.tensor4d(x, [2, 32, 32, 3]));
    const ours = y.dataSync() as Float32Array;
    y.dispose();
    const ort = await createOnnxEmbedder(onnx, { threads: 1 });
    const ref = await ort.embed(x);
    await ort.dispose();
    for (let i = 0; i < 2; i++) expect(cosineSimilarity(ours.subarray(i * 16, i * 16 + 16), ref.subarray(i * 16, i * 16 + 16))).toBeGreaterThanOrEqual(0.9999);
    model.dispose();
  });

  it('--safetensors (PyTorch state dict, F16) --verify with given image files', async () => {
    const file = path.join(tmp, 'r.safetensors');
    fs.writeFileSync(file, stateDictToSafetensors(sd, { dtype: 'F16' }));
    const images = await Promise.all([0, 1].map(async (i) => {
      const p = path.join(tmp, `face${i}.png`);
      const raw = Buffer.from(Array.from({ length: 40 * 40 * 3 }, (_, k) => (k * (7 + i * 13)) % 251));
      await sharp(raw, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(p);
      return p;
    }));
    const lines: string[] = [];
    const r = await importWeights({ safetensors: file, verify: true, images }, (l) => lines.push(l));
    expect(r.out).toBeUndefined();
    expect(lines.at(-1)).toMatch(/on the PyTorch-layout tensors, 2 given images\): cosine min (1\.000000|0\.9999\d+).*PASS/);
  });

  it('rejects ambiguous or incomplete arguments, and names missing tensors', async () => {
    await expect(importWeights({ onnx: 'a', safetensors: 'b', verify: true })).rejects.toThrow(/exactly one of --onnx FILE, --safetensors FILE or --family NAME \(dlib-resnet29, faceres-mobilenet\)/);
    await expect(importWeights({ onnx: 'a' })).rejects.toThrow(/give --out FILE/);
    const partial = new Map(sd);
    partial.delete('fc.bias');
    const file = path.join(tmp, 'partial.safetensors');
    fs.writeFileSync(file, stateDictToSafetensors(partial));
    await expect(importWeights({ safetensors: file, out: path.join(tmp, 'x.safetensors') })).rejects.toThrow(/missing tensors: fc\.bias \[16\]/);
    expect(fs.existsSync(path.join(tmp, 'x.safetensors'))).toBe(false);
  });

  it('--family dlib-resnet29 --out --verify: reads the installed face-api package, records the source, matches face-api', async () => {
    const out = path.join(tmp, 'dlib.safetensors');
    const lines: string[] = [];
    const r = await importFamilyWeights({ family: 'dlib-resnet29', out, verify: true, count: 2 }, (l) => lines.push(l));
    expect(lines[0]).toMatch(/face_recognition_model-weights_manifest\.json: dlib-resnet29 \(family dlib-resnet29, 150x150 RGB -> 128\), 5614592 parameters from 117 tensors; source @vladmandic\/face-api@1\.7\.15 \(MIT/);
    expect(lines.at(-1)).toMatch(/verify \(ours on \w+ vs face-api [\d.]+ FaceRecognitionNet, 2 random images\): cosine min (1\.0000000|0\.9999\d+) -> PASS/);
    expect(r.verify!.passed).toBe(true);
    const wf = readWeightsFile(out);
    expect(wf.description).toMatchObject({ kind: 'backbone', family: 'dlib-resnet29', config: { family: 'dlib-resnet29', name: 'dlib-resnet29' } });
    expect(wf.metadata).toMatchObject({ source_package: '@vladmandic/face-api', source_version: '1.7.15', source_checked_version: '@vladmandic/face-api@1.7.15' });
    expect(wf.metadata.source_license).toContain('public domain');
    const m = loadModel(out);
    expect([...m.params.values()].reduce((n, v) => n + v.size, 0)).toBe(5614592);
    m.dispose();
  });

  it('--family errors: a family without package weights lists the ones with; --file that does not exist; --file without --family', async () => {
    await expect(importFamilyWeights({ family: 'iresnet50', out: path.join(tmp, 'x') })).rejects.toThrow(
      /--family iresnet50 has no pre-trained weights in an npm package; choose one of dlib-resnet29, faceres-mobilenet/);
    await expect(importFamilyWeights({ family: 'faceres-mobilenet', file: path.join(tmp, 'gone.json'), out: path.join(tmp, 'x') })).rejects.toThrow(
      /--file .*gone\.json does not exist; expected the tfjs JSON of faceres-mobilenet \(faceres\.json, with faceres\.bin beside it\)/);
    await expect(importWeights({ file: 'a.json', out: 'b' })).rejects.toThrow(/--file goes with --family NAME/);
  });

  it('the quickstart cache of package weights: reused when it holds that backbone, written again otherwise', async () => {
    const lines: string[] = [];
    const cached = path.join(tmp, 'dlib.safetensors'); // written by the --family test above
    expect(await ensurePackageWeights('dlib-resnet29', cached, (l) => lines.push(l))).toBe(cached);
    expect(lines).toEqual([expect.stringMatching(/dlib-resnet29 package weights cached at/)]);
    const stale = path.join(tmp, 'stale.safetensors');
    fs.writeFileSync(stale, 'not a weights file');
    lines.length = 0;
    await ensurePackageWeights('dlib-resnet29', stale, (l) => lines.push(l));
    expect(lines[0]).toBe('[2/5] backbone: dlib-resnet29 from its npm package (no pre-training)');
    expect(readWeightsFile(stale).description).toMatchObject({ family: 'dlib-resnet29' });
  });
});
