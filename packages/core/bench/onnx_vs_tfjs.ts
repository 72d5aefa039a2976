// Embedding throughput (img/s) of our tfjs engine vs onnxruntime-node on the same IResNet-18 weights
// (random, seeded), batch 16, 112x112. Also checks that both engines agree (cosine per image).
// Run: npx tsx packages/core/bench/onnx_vs_tfjs.ts [--batches N] [--batch 16] [--model iresnet18]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend, engineInfo } from '../src/backend.ts';
import { tf } from '../src/tf.ts';
import { iresnetConfig } from '../src/models/registry.ts';
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
const BATCHES = Number(arg('batches', '5'));
const cfg = iresnetConfig(arg('model', 'iresnet18'));

/** Seconds per batch of each engine, timed in alternation so that load from other processes on a
 *  shared machine hits all engines alike; the median is reported. */
async function timeAlternating(engines: Embedder[], x: Float32Array): Promise<{ ips: number[]; outs: Float32Array[] }> {
  const outs = await Promise.all(engines.map((e) => e.embed(x))); // warm-up (kernels, weight folding)
  const secs: number[][] = engines.map(() => []);
  for (let r = 0; r < BATCHES; r++) {
    for (let k = 0; k < engines.length; k++) {
      const t0 = performance.now();
      await engines[k].embed(x);
      secs[k].push((performance.now() - t0) / 1000);
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return { ips: secs.map((s) => BATCH / median(s)), outs };
}

const engine = await initBackend({ prefer: process.env.SSMB_BACKEND ?? 'wasm' });
const sd = randomInsightfaceStateDict(cfg, 1);
const dir = mkdtempSync(path.join(os.tmpdir(), 'ssmb-bench-'));
const file = path.join(dir, `${cfg.arch}.onnx`);
writeFileSync(file, iresnetOnnxBytes(sd, cfg, { foldBn: true }));
const model = new IResNet(cfg, { frozen: true });
for (const [k, t] of insightfaceToOurs(sd, cfg, 'bench')) model.params.get(k)!.assign(tf.tensor(t.data, t.shape));
const x = randomImagesNHWC(BATCH, cfg.inputSize, 5);

console.log(`${cfg.arch}, batch ${BATCH}, ${cfg.inputSize}x${cfg.inputSize}, median of ${BATCHES} alternating timed batches after one warm-up; ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}`);
const tfjs = createTfjsEmbedder({ inputSize: cfg.inputSize, embeddingSize: cfg.embeddingSize, forward: (t) => model.forward(t) });
const ort1 = await createOnnxEmbedder(file, { threads: 1 });
const ortN = await createOnnxEmbedder(file);
const { ips, outs } = await timeAlternating([tfjs, ort1, ortN], x);
const E = cfg.embeddingSize;
const minCos = (o: Float32Array) => Math.min(...Array.from({ length: BATCH }, (_, i) => cosine(outs[0].subarray(i * E, (i + 1) * E), o.subarray(i * E, (i + 1) * E))));
console.log(`tfjs ${engine} [${engineInfo().description}]: ${ips[0].toFixed(1)} img/s`);
console.log(`onnxruntime-node, 1 thread: ${ips[1].toFixed(1)} img/s = ${(ips[1] / ips[0]).toFixed(2)}x tfjs ${engine}; min cosine vs tfjs ${minCos(outs[1]).toFixed(6)}`);
console.log(`onnxruntime-node, default threads: ${ips[2].toFixed(1)} img/s = ${(ips[2] / ips[0]).toFixed(2)}x tfjs ${engine}; min cosine vs tfjs ${minCos(outs[2]).toFixed(6)}`);
await ort1.dispose();
await ortN.dispose();
model.dispose();
rmSync(dir, { recursive: true, force: true });
