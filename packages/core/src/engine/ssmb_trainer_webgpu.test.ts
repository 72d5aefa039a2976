// The engine on onnxruntime's WebGPU provider, on every CI run: the machine's Vulkan adapter (the software
// one, Mesa's lavapipe, where there is no GPU: scripts/system-packages.txt). A representative subset of the
// CPU suite, same comparisons and tolerances: the SSMB step against tfjs autodiff (ssmb_trainer.test.ts
// explains the float32 floors) for N = 1 and 4, expert kinds style and affine, shallow and deep
// placements, iresnet-synth and an npm backbone (each case's float32 floor measured on the CPU provider);
// the pre-training step, the embedding graph and an exported file against the CPU provider (which the CPU
// suite pins against tfjs).
// Cost on the 2-core development machine: docs/engines.md, "The GPU path".
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { createBackbone } from '../models/registry.ts';
import { maxRelDiff } from '../kernels/test_utils.ts';
import { exportHfrModelToOnnx } from '../weights/onnx/onnx_export.ts';
import { checkOnnxExport } from '../weights/onnx/export_verify.ts';
import { createEngineEmbedder } from './embedder.ts';
import { normalData } from './grad_check.ts';
import { OrtPretrainer } from './ort_pretrainer.ts';
import { HEAD_PARAM } from './pretrain_graph.ts';
import { modalityImages, parityModel } from './parity_fixtures.ts';
import { compare, PRELU_SLOPE, SYNTH_SEED, useParitySuite } from './parity_compare.ts';
import { engineModelOf } from './student_graph.ts';

useParitySuite();
const dir = mkdtempSync(path.join(os.tmpdir(), 'ssmb-webgpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// a case's first graph compiles its shaders on the software adapter (a minute, cold, on a loaded 2-core machine)
describe('onnxruntime SSMB step on webgpu = tfjs autodiff', { timeout: 300_000 }, () => {
  it('iresnet-synth N=1 style at stem+layer1+layer2 (BN folded, the training default)', async () => {
    await compare('iresnet-synth', 1, 'style', ['stem', 'layer1', 'layer2'], 4, SYNTH_SEED, true, undefined, {}, undefined, 'webgpu');
  });
  it('iresnet-synth N=4 affine at layer3+layer4', async () => {
    await compare('iresnet-synth', 4, 'affine', ['layer3', 'layer4'], 4, SYNTH_SEED, false, undefined, {}, undefined, 'webgpu');
  });
  it('dlib-resnet29 (npm weights\' family) N=4 style at stem+layer3', async () => {
    await compare('dlib-resnet29', 4, 'style', ['stem', 'layer3'], 2, 3, false, undefined, {}, undefined, 'webgpu');
  });
});

describe('webgpu = cpu provider', { timeout: 300_000 }, () => {
  it('backbone pre-training step: loss, every gradient and the BN batch statistics', async () => {
    const backbone = createBackbone('iresnet-synth', { seed: 2 });
    const B = 4, K = 5, S = backbone.input.size;
    const head = normalData(backbone.embeddingSize * K, 5, 0.01);
    const params = new Map([...[...backbone.params].filter(([, v]) => v.trainable).map(([k, v]) => [k, v.dataSync() as Float32Array] as const), [HEAD_PARAM, head] as const]);
    const input = { images: modalityImages(1, S, 2), labels: [0, 3, 1, 3], params };
    const step = async (provider: string) => {
      const t = await OrtPretrainer.create(backbone, { batch: B, numClasses: K, scale: 64, margin: 0.5, threads: 2, provider, checkPlacement: false });
      try {
        return await t.step(input);
      } finally {
        await t.release();
      }
    };
    try {
      const [cpu, gpu] = [await step('cpu'), await step('webgpu')];
      expect(Math.abs(gpu.loss - cpu.loss) / Math.abs(cpu.loss)).toBeLessThan(1e-5);
      // a gradient that is zero up to float32 noise (a BN bias before another training-mode BN:
      // ort_pretrainer.test.ts's structural zeros) is compared against the largest gradient's scale
      const scale = Math.max(...[...cpu.grads.values()].map((g) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
      for (const [k, g] of cpu.grads) {
        const mine = gpu.grads.get(k)!;
        const small = g.every((v) => Math.abs(v) < 1e-5 * scale);
        if (small) expect(mine.every((v, i) => Math.abs(v - g[i]) <= 1e-5 * scale), `${k} (zero up to float32 noise)`).toBe(true);
        else expect(maxRelDiff(mine, g), k).toBeLessThanOrEqual(1e-4);
      }
      // batch statistics: a variance relative to itself; a mean relative to its channels' spread (a zero-mean
      // channel's mean is float32 noise, ~1e-7 of a unit-scale activation, in both providers)
      const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const absDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, j) => Math.max(m, Math.abs(v - b[j])), 0);
      expect(gpu.bnStats.length).toBe(cpu.bnStats.length);
      gpu.bnStats.forEach((s, i) => {
        const ref = cpu.bnStats[i];
        expect(maxRelDiff(s.variance, ref.variance), `${s.name} variance`).toBeLessThanOrEqual(1e-4);
        expect(absDiff(s.mean, ref.mean) / Math.max(maxAbs(ref.mean), Math.sqrt(maxAbs(ref.variance))), `${s.name} mean`).toBeLessThanOrEqual(1e-4);
      });
    } finally {
      backbone.dispose();
    }
  });

  it('embedding graph with SSMB blocks (teacher and evaluation): embeddings and routing; an exported file verifies on webgpu', async () => {
    const p = parityModel('iresnet-synth', { taps: ['stem', 'layer2'], numExperts: 3, kind: 'style' }, 4, SYNTH_SEED, PRELU_SLOPE);
    try {
      const embed = async (provider: string) => {
        const e = await createEngineEmbedder(engineModelOf(p.model), { provider, threads: 2, checkPlacement: false });
        try {
          return { provider: e.provider, ...(await e.embedRouted(p.images)) };
        } finally {
          e.dispose();
        }
      };
      const [cpu, gpu] = [await embed('cpu'), await embed('webgpu')];
      expect(gpu.provider).toBe('webgpu');
      expect(maxRelDiff(gpu.embedding, cpu.embedding)).toBeLessThanOrEqual(1e-4);
      for (const [tap, e] of cpu.experts) expect(Array.from(gpu.experts.get(tap)!), tap).toEqual(Array.from(e));
      expect(Math.max(...[...cpu.experts.values()].map((e) => new Set(e).size))).toBeGreaterThan(1); // routing decides
      const file = path.join(dir, 'synth-hfr.onnx');
      exportHfrModelToOnnx(p.model, file);
      const c = await checkOnnxExport(p.model, file, p.images, 0.9999, 'webgpu');
      expect(c.minCosine).toBeGreaterThanOrEqual(0.9999);
      expect(Object.values(c.routingAgreement)).toEqual([1, 1]);
      expect(c.passed).toBe(true);
    } finally {
      p.model.dispose();
    }
  });
});
