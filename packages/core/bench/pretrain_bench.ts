// Backbone pre-training benchmark (a script, not a test): the `pretrain` run's step (ArcFace, BN in
// training mode, gradients of every backbone parameter and the head) on tfjs (active tf backend: wasm
// here, 1 thread) and on onnxruntime with 1 thread and with all cores, for the quickstart's work
// (iresnet-synth, 64 px, batch 32; BENCH_PRETRAIN_MODEL / _BATCH override). Adam is the same tfjs code on
// both engines and is left out; the onnxruntime figure includes reading the parameters out of their
// tf variables and the gradients back into tensors, as the run does.
//   BENCH_ONLY=pretrain npm run bench -w @ssmb/core      (BENCH_REPS timed steps per engine, default 3)
// Engines interleaved step by step so that load drift on a shared machine hits them alike; each figure is
// the FASTEST of its steps (the slower ones measure the other processes). Wall-clock time.
import os from 'node:os';
import { arcfaceLoss, createBackbone, tf } from '../src/index.ts';
import { OrtPretrainer, updateRunningStats } from '../src/engine/ort_pretrainer.ts';
import { HEAD_PARAM } from '../src/engine/pretrain_graph.ts';
import { normalData } from '../src/engine/grad_check.ts';
import { modalityImages } from '../src/engine/parity_fixtures.ts';

const CLASSES = 64;
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

export async function benchPretrain(reps: number): Promise<void> {
  const model = process.env.BENCH_PRETRAIN_MODEL ?? 'iresnet-synth';
  const B = Number(process.env.BENCH_PRETRAIN_BATCH ?? 32);
  const backbone = createBackbone(model, { seed: 1 });
  const S = backbone.input.size, E = backbone.embeddingSize;
  const head = tf.variable(tf.tensor(normalData(E * CLASSES, 3, 0.01), [E, CLASSES]), true);
  const images = modalityImages(Math.ceil(B / 4), S, 2).slice(0, B * S * S * 3);
  const labels = Array.from({ length: B }, (_, i) => i % CLASSES);
  const named = new Map([...backbone.params].filter(([, v]) => v.trainable));
  named.set(HEAD_PARAM, head);
  const allCores = os.availableParallelism();
  console.log(`\npre-training step: ${model}, ${S}x${S}, batch ${B}, ${CLASSES} classes; tfjs on ${tf.getBackend()}; ${allCores} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const tfjsStep = () => {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => {
      const emb = backbone.forward(tf.tensor4d(images, [B, S, S, 3]), { training: true }); // [B,E]
      return arcfaceLoss(emb, head as unknown as tf.Tensor2D, labels, { scale: 32, margin: 0.5 });
    }, [...named.values()]);
    for (const g of Object.values(grads)) g.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
    return performance.now() - t0;
  };
  const trainers = new Map<string, OrtPretrainer>();
  for (const threads of [...new Set([1, allCores])]) {
    const t = await OrtPretrainer.create(backbone, { batch: B, numClasses: CLASSES, scale: 32, margin: 0.5, threads });
    console.log(`onnxruntime ${threads} thread(s): graph ${t.description.nodes.forward} forward + ${t.description.nodes.gradient} gradient nodes, built and opened in ${fmt(t.description.buildMs, 0)} ms`);
    trainers.set(`onnxruntime ${threads} thread(s)`, t);
  }
  const ortStep = async (t: OrtPretrainer) => {
    const t0 = performance.now();
    const params = new Map([...named].map(([k, v]) => [k, v.dataSync() as Float32Array]));
    const out = await t.step({ images, labels, params });
    const gs = [...named].map(([k, v]) => tf.tensor(out.grads.get(k)!, v.shape));
    updateRunningStats(backbone.params, out.bnStats);
    tf.dispose(gs);
    return performance.now() - t0;
  };
  const times = new Map<string, number[]>([['tfjs', []], ...[...trainers.keys()].map((k) => [k, []] as [string, number[]])]);
  for (let r = 0; r <= reps; r++) {
    const tt = tfjsStep();
    if (r > 0) times.get('tfjs')!.push(tt); // the first step of each engine is a warm-up
    for (const [k, t] of trainers) { const ms = await ortStep(t); if (r > 0) times.get(k)!.push(ms); }
  }
  const base = Math.min(...times.get('tfjs')!);
  console.log('engine                     s/step   img/s   speed-up vs tfjs');
  for (const [k, ts] of times) {
    const ms = Math.min(...ts);
    console.log(`${k.padEnd(26)} ${fmt(ms / 1e3, 3).padStart(6)}  ${fmt(B / (ms / 1e3)).padStart(6)}   ${fmt(base / ms, 2)}x`);
  }
  for (const t of trainers.values()) await t.release();
  head.dispose();
  backbone.dispose();
}
