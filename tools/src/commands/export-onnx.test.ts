import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosineSimilarity, createIResNet, createOnnxEmbedder, disposeHFROutput, HFRModel, initBackend, randomImagesNHWC, stateDictToSafetensors, tf,
  type PlainTensor,
} from '@ssmb/core';
import { launchRun, resolveConfig, RunStore } from '@ssmb/trainer';
import { exportOnnx } from './export-onnx.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ssmb-cli-export-onnx-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ prefer: 'cpu' }); // the command's own initBackend() then keeps it
});

/** Seeded, non-trivial values for every variable (so a wrong mapping changes the output). */
function perturb(vars: Map<string, tf.Variable>, seed: number): Map<string, PlainTensor> {
  const out = new Map<string, PlainTensor>();
  let i = seed;
  for (const [name, v] of vars) {
    tf.tidy(() => {
      const noise = tf.randomNormal(v.shape, 0, 0.3, 'float32', i++);
      v.assign(name.endsWith('running_var') ? tf.add(tf.abs(noise), 0.5) : tf.add(v, noise));
    });
    out.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
  }
  return out;
}

describe('ssmb export-onnx', () => {
  it("writes a run's latest checkpoint (backbone from its init file + SSMB blocks) that onnxruntime runs like HFRModel", async () => {
    const storeFile = path.join(tmp, 'runs.sqlite');
    const config = resolveConfig({ base: { backbone: { model: 'iresnet-tiny' }, ssmb: { numExperts: 3, positions: ['stem', 'layer2'] }, seed: 4 } });
    // the "pre-trained" backbone file and the trained SSMB blocks, as the trainer writes them
    const backbone = createIResNet('iresnet-tiny', { seed: 4 });
    const backboneFile = path.join(tmp, 'backbone.safetensors');
    fs.writeFileSync(backboneFile, stateDictToSafetensors(perturb(backbone.params, 1)));
    const model = new HFRModel(backbone, { taps: ['stem', 'layer2'], numExperts: 3, kind: 'style', seed: 4 });
    const ssmb = perturb(new Map([...model.params].filter(([k]) => k.startsWith('ssmb.'))), 50);
    const ckFile = path.join(tmp, 'step-00000007.ckpt');
    fs.writeFileSync(ckFile, stateDictToSafetensors(new Map([...ssmb].map(([k, t]) => [`model/${k}`, t]))));
    const store = RunStore.open(storeFile);
    const runId = launchRun(store, config, { experiment: 'export', initFrom: backboneFile });
    const bare = launchRun(store, config, { experiment: 'export' });
    store.addCheckpoint(runId, 7, ckFile);
    store.close();

    const out = path.join(tmp, 'run.onnx');
    const lines: string[] = [];
    const r = await exportOnnx(runId, { store: storeFile, out, verify: true, count: 4 }, (l) => lines.push(l));
    expect(r).toMatchObject({ kind: 'hfr', checkpoint: ckFile, check: { passed: true, routingAgreement: { stem: 1, layer2: 1 } } });
    expect(lines[0]).toMatch(/run \d+ step 7: iresnet-tiny \+ SSMB at stem, layer2 \(3 experts, style\)/);
    expect(lines[1]).toMatch(/verify \(4 random images, onnxruntime cpu\): cosine min (1\.0+|0\.9999\d+), routing agreement stem 100%, layer2 100% -> PASS/);
    // the same file verified on onnxruntime's WebGPU provider (this machine's Vulkan adapter); a provider
    // onnxruntime does not have is named
    const onGpu = await exportOnnx(runId, { store: storeFile, out, verify: true, count: 4, provider: 'webgpu' }, (l) => lines.push(l));
    expect(onGpu.check).toMatchObject({ passed: true, routingAgreement: { stem: 1, layer2: 1 } });
    expect(lines[3]).toMatch(/verify \(4 random images, onnxruntime webgpu\): cosine min (1\.0+|0\.9999\d+), routing agreement stem 100%, layer2 100% -> PASS/);
    await expect(exportOnnx(runId, { store: storeFile, out, verify: true, provider: 'rocm' })).rejects.toThrow(/--provider 'rocm': onnxruntime-node has no execution provider 'rocm'; it offers cpu, webgpu/);

    const x = randomImagesNHWC(6, 32, 3);
    const ours = model.forward(tf.tensor4d(x, [6, 32, 32, 3]));
    const emb = ours.embedding.dataSync() as Float32Array;
    const experts = ours.routings.map((b) => Array.from(b.expert.dataSync()));
    disposeHFROutput(ours);
    const ort = await createOnnxEmbedder(out, { threads: 1 });
    const res = await ort.run(x);
    await ort.dispose();
    const E = 16;
    for (let i = 0; i < 6; i++) expect(cosineSimilarity(emb.subarray(i * E, (i + 1) * E), res.embedding.subarray(i * E, (i + 1) * E))).toBeGreaterThanOrEqual(0.9999);
    expect(Array.from(res.extra.routing_stem as BigInt64Array, Number)).toEqual(experts[0]);
    expect(Array.from(res.extra.routing_layer2 as BigInt64Array, Number)).toEqual(experts[1]);

    await expect(exportOnnx(bare, { store: storeFile, out })).rejects.toThrow(new RegExp(`run ${bare} \\(queued\\) has no checkpoint yet`));
    await expect(exportOnnx(999, { store: storeFile, out })).rejects.toThrow(/999/);
    model.dispose();
  });
});
