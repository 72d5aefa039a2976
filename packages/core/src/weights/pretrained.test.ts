// The pre-trained families against the packages' own implementations, on images the test generates:
// same descriptors (cosine >= 0.9999) on wasm, where training runs, and on the cpu backend.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { initBackend } from '../backend.ts';
import { backboneInfo, createBackbone } from '../models/registry.ts';
import { importPretrained, listPretrainedBackbones, pretrainedFiles } from './pretrained.ts';
import { createPackageReference } from './package_reference.ts';
import { loadModel, loadWeightsInto, readWeightsFile, saveWeights } from './weights_io.ts';
import { cosine } from './onnx/nchw.ts';
import { seededValues } from '../kernels/test_utils.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ssmb-pretrained-'));
beforeAll(async () => {
  expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** B generated RGB images in 0..255 [B,S,S,3]: smooth colour fields (face-like low frequencies: a bright
 *  ellipse, two dark blobs) plus seeded noise, so the networks see structure and texture. */
function generatedPixels(B: number, S: number, seed: number): tf.Tensor4D {
  const noise = seededValues(B * S * S * 3, seed);
  const px = new Float32Array(B * S * S * 3);
  for (let b = 0; b < B; b++) for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const u = x / S - 0.5, v = y / S - 0.5;
    const face = u * u / 0.1 + v * v / 0.16 < 1 ? 1 : 0;
    const eyes = ((u + 0.15) ** 2 + (v + 0.08) ** 2 < 0.003 || (u - 0.15) ** 2 + (v + 0.08) ** 2 < 0.003) ? 1 : 0;
    for (let c = 0; c < 3; c++) {
      const i = ((b * S + y) * S + x) * 3 + c;
      const base = 60 + 120 * face * (0.8 + 0.1 * c + 0.05 * b) - 90 * eyes + 40 * Math.sin((x + 7 * b) / 9 + c);
      px[i] = Math.min(255, Math.max(0, base + 25 * noise[i]));
    }
  }
  return tf.tensor4d(px, [B, S, S, 3]);
}

describe('pre-trained backbones from npm packages', () => {
  it('lists the families with package weights and where they ship', () => {
    expect(listPretrainedBackbones()).toEqual(['dlib-resnet29', 'faceres-mobilenet']);
    expect(backboneInfo('dlib-resnet29').pretrained).toMatchObject({ package: '@vladmandic/face-api', version: '1.7.15' });
    expect(backboneInfo('faceres-mobilenet').pretrained).toMatchObject({ package: '@vladmandic/human', version: '3.3.6' });
  });

  describe.each(listPretrainedBackbones())('%s', (name) => {
    it('matches the package\'s own model on generated images (cosine >= 0.9999), on wasm (4 images) and cpu (1)', async () => {
      const imp = importPretrained(name);
      const ref = await createPackageReference(name);
      const S = imp.model.input.size;
      const E = imp.model.embeddingSize;
      const B = 4;
      const px = generatedPixels(B, S, 11);
      try {
        // the cpu backend takes ~10 s per 224x224 image here: one image checks it
        for (const [backend, n] of [['wasm', B], ['cpu', 1]] as const) {
          await tf.setBackend(backend);
          const batch = tf.slice(px, 0, n);
          const theirs = await ref.embed(batch);
          const ours = tf.tidy(() => imp.model.forward(tf.div(tf.sub(batch, 127.5), 127.5) as tf.Tensor4D).dataSync() as Float32Array);
          batch.dispose();
          for (let i = 0; i < n; i++) {
            const c = cosine(ours.subarray(i * E, (i + 1) * E), theirs.subarray(i * E, (i + 1) * E));
            expect(c, `${backend} image ${i}`).toBeGreaterThanOrEqual(0.9999);
          }
          // and the descriptors are not degenerate: the images differ, so do the embeddings
          if (n > 1) expect(cosine(ours.subarray(0, E), ours.subarray(E, 2 * E))).toBeLessThan(0.9999);
        }
      } finally {
        await tf.setBackend('wasm');
        px.dispose();
        ref.dispose();
        imp.model.dispose();
      }
    });

    it('records source package, version, licence and file hashes; the saved file rebuilds the model', () => {
      const imp = importPretrained(name);
      const info = backboneInfo(name).pretrained!;
      expect(imp.metadata.source_package).toBe(info.package);
      expect(imp.metadata.source_version).toBe(info.version);
      expect(imp.metadata.source_license).toBe(`MIT (package); ${info.license}`); // the package's licence once, then the weights'
      expect(info.license).not.toContain('(package)');
      expect(imp.metadata.source_files.split(', ')).toEqual(info.files);
      expect(imp.metadata.source_sha256).toMatch(/^[0-9a-f]{64}$/);
      const file = path.join(dir, `${name}.safetensors`);
      saveWeights(imp.model, file, imp.metadata);
      const wf = readWeightsFile(file);
      expect(wf.description).toMatchObject({ kind: 'backbone', family: backboneInfo(name).family });
      expect(wf.metadata).toMatchObject(imp.metadata);
      const again = loadModel(file);
      for (const [k, v] of imp.model.params) expect(Array.from(again.params.get(k)!.dataSync()), k).toEqual(Array.from(v.dataSync()));
      again.dispose();
      imp.model.dispose();
    });
  });

  it('faceres: the age/gender heads are left out and named; the ReLU6 bounds are checked', () => {
    const imp = importPretrained('faceres-mobilenet');
    expect(imp.unused.map((u) => u.name).sort()).toEqual(['age_pred/bias', 'age_pred/kernel', 'feats/bias', 'feats/kernel', 'gender_pred/bias', 'gender_pred/kernel']);
    expect(imp.metadata.source_unused).toContain('feats/kernel');
    imp.model.dispose();
  });

  it('weights of another family are refused, the error naming both', () => {
    const file = path.join(dir, 'dlib-for-faceres.safetensors');
    const imp = importPretrained('dlib-resnet29');
    saveWeights(imp.model, file, imp.metadata);
    imp.model.dispose();
    const other = createBackbone('faceres-mobilenet');
    expect(() => loadWeightsInto(other, file, { what: 'backbone faceres-mobilenet' })).toThrow(
      /holds a dlib-resnet29 backbone \(dlib-resnet29\); backbone faceres-mobilenet is a faceres-mobilenet backbone \(faceres-mobilenet\)/);
    other.dispose();
  });

  it('a missing package file, a --file without its shard, a non-JSON --file and a backbone without package weights are named', () => {
    // a copy of face-api's manifest without its .bin beside it
    const copy = path.join(dir, 'no-bin');
    mkdirSync(copy);
    const json = pretrainedFiles('dlib-resnet29').json;
    copyFileSync(json, path.join(copy, path.basename(json)));
    expect(() => importPretrained('dlib-resnet29', { file: path.join(copy, path.basename(json)) })).toThrow(
      /shard face_recognition_model\.bin named in .*face_recognition_model-weights_manifest\.json is missing/);
    expect(() => importPretrained('dlib-resnet29', { file: path.join(copy, 'nope.json') })).toThrow(/--file .*nope\.json does not exist; expected the tfjs JSON of dlib-resnet29/);
    expect(() => importPretrained('dlib-resnet29', { file: json.replace('-weights_manifest.json', '.bin') })).toThrow(/expected the tfjs JSON/);
    expect(() => importPretrained('iresnet50')).toThrow(/backbone iresnet50 has no pre-trained weights in an npm package; backbones that have: dlib-resnet29, faceres-mobilenet/);
  });
});
