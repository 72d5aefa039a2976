// Embedding throughput (img/s) of our tfjs engine vs onnxruntime-node on the same IResNet-18 weights
// (random, seeded), batch 16, 112x112. Also checks that both engines agree (cosine per image).
// Run: npx tsx packages/core/bench/onnx_vs_tfjs.ts [--batches N] [--model iresnet18]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend, engineInfo } from '../src/backend.ts';
import { tf } from '../src/tf.ts';
import { getModelConfig } from '../src/models/registry.ts';
import { IResNet } from '../src/models/iresnet.ts';
import { randomImagesNHWC, randomInsightfaceStateDict } from '../src/weights/onnx/onnx_fixtures.ts';
import { iresnetOnnxBytes } from '../src/weights/onnx/iresnet_onnx_graph.ts';
import { insightfaceToOurs } from '../src/weights/onnx/insightface_convert.ts';
import { createOnnxEmbedder, type Embedder } from '../src/weights/onnx/onnx_embedder.ts';
import { createTfjsEmbedder } from '../src/weights/onnx/tfjs_embedder.ts';
import { cosine } from '../src/weights/onnx/nchw.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const BATCH = Number(arg('batch', '16'));
const BATCHES = Number(arg('batches', '3'));
const cfg = getModelConfig(arg('model', 'iresnet18'));

async function throughput(e: Embedder, x: Float32Array): Promise<{ ips: number; out: Float32Array }> {
  const out = await e.embed(x); // warm-up (kernel compilation, weight folding)
  const t0 = performance.now();
  for (let i = 0; i < BATCHES; i++) await e.embed(x);
  const s = (performance.now() - t0) / 1000;
  return { ips: (BATCHES * BATCH) / s, out };
}

const engine = await initBackend({ prefer: process.env.SSMB_BACKEND ?? 'wasm' });
const sd = randomInsightfaceStateDict(cfg, 1);
const dir = mkdtempSync(path.join(os.tmpdir(), 'ssmb-bench-'));
const file = path.join(dir, `${cfg.arch}.onnx`);
writeFileSync(file, iresnetOnnxBytes(sd, cfg, { foldBn: true }));
const model = new IResNet(cfg, { frozen: true });
for (const [k, t] of insightfaceToOurs(sd, cfg, 'bench')) model.params.get(k)!.assign(tf.tensor(t.data, t.shape));
const x = randomImagesNHWC(BATCH, cfg.inputSize, 5);

console.log(`${cfg.arch}, batch ${BATCH}, ${cfg.inputSize}x${cfg.inputSize}, ${BATCHES} timed batches after one warm-up; ${os.cpus().length} cores`);
const ours = await throughput(createTfjsEmbedder({ inputSize: cfg.inputSize, embeddingSize: cfg.embeddingSize, forward: (t) => model.forward(t) }), x);
console.log(`tfjs ${engine} [${engineInfo().description}]: ${ours.ips.toFixed(1)} img/s`);
for (const threads of [1, 0]) {
  const ort = await createOnnxEmbedder(file, threads ? { threads } : {});
  const r = await throughput(ort, x);
  await ort.dispose();
  const E = cfg.embeddingSize;
  const cos = Array.from({ length: BATCH }, (_, i) => cosine(ours.out.subarray(i * E, (i + 1) * E), r.out.subarray(i * E, (i + 1) * E)));
  console.log(`onnxruntime-node (${threads ? `${threads} thread` : 'default threads'}): ${r.ips.toFixed(1)} img/s = ${(r.ips / ours.ips).toFixed(2)}x tfjs ${engine}; min cosine vs tfjs ${Math.min(...cos).toFixed(6)}`);
}
model.dispose();
rmSync(dir, { recursive: true, force: true });
