// The GPU check (a benchmark script, bundled by scripts/gpu-bundle.mjs into ssmb-gpu-check/check.js, started
// by its `run`): on the machine it runs on, which Vulkan adapter onnxruntime's WebGPU provider gets, the SSMB
// training step and inference img/s of IResNet-18 and IResNet-100 at several batch sizes on `webgpu` and on
// `cpu` (every core), and one training step's gradients on webgpu against cpu. Weights are random, made
// here (parityModel: the engine parity suite's well-conditioned initialisation), so it needs no files.
// The work per row is the engine bench's (packages/core/bench/engine_bench.ts): SSMB N=4 'style' at
// stem/layer1/layer2, batch B = B/2 pairs, L_cc + L_ts + alpha L_lb and every SSMB gradient in one
// session run; inference = the evaluation embedding graph (backbone + SSMB + routing).
// It keeps inside --limit seconds (default 480) by itself: the gradient check first (its step times are
// the first estimates), then the rows smallest batch first; a row whose estimate (from what was already
// measured) does not fit in what is left is skipped and listed; `run` kills it at the limit as a last resort.
//   ssmb-gpu-check/run [--limit S] [--models iresnet18,iresnet100] [--batches 16,64,128] [--providers cpu,webgpu]
//                      (--providers may add cuda where that provider is installed)
//                      [--work train,infer] [--reps N] [--grad-model iresnet18|none] [--grad-pairs 4] [--adapter-only]
// During development: npx tsx tools/src/gpu_check/check.ts --probe <compiled vk_adapter> [options]
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../../../packages/core/src/backend.ts';
import { tf } from '../../../packages/core/src/tf.ts';
import { iresnetConfig } from '../../../packages/core/src/models/iresnet_family.ts';
import { parityModel, ssmbParamValues, type ParityModel } from '../../../packages/core/src/engine/parity_fixtures.ts';
import { OrtSsmbTrainer } from '../../../packages/core/src/engine/ssmb_trainer.ts';
import { createEngineEmbedder, type EngineEmbedder } from '../../../packages/core/src/engine/embedder.ts';
import { engineModelOf } from '../../../packages/core/src/engine/student_graph.ts';
import { CUDA_INSTALL_HINT, listProviders, loadOrt, resolveThreads } from '../../../packages/core/src/engine/ort_session.ts';
import { maxRelDiff } from '../../../packages/core/src/kernels/test_utils.ts';
import { estimateRow, type MeasuredRow } from './plan.ts';
import { describeDevice, discoverAdapter, probeRunner, type DiscoveryResult } from './vulkan.ts';

const HFR = { taps: ['stem', 'layer1', 'layer2'], numExperts: 4, kind: 'style' as const };
const LOSS = { margin: 0, lambdaTs: 1, alpha: 0.01 }; // the engine bench's loss
// cuda: only when asked for (onnxruntime-node's CUDA provider is an extra install, README)
const PROVIDERS = ['webgpu', 'cpu', 'cuda'] as const;
type Provider = (typeof PROVIDERS)[number];
const WORK = ['train', 'infer'] as const;

const started = performance.now();
const elapsed = () => (performance.now() - started) / 1e3;
const say = (line: string) => console.log(line);
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

function list(value: string, what: string, allowed?: readonly string[]): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new Error(`--${what} is '${value}'; expected a comma-separated list`);
  const bad = allowed ? items.filter((i) => !allowed.includes(i)) : [];
  if (bad.length) throw new Error(`--${what} has ${bad.join(', ')}; expected some of ${allowed!.join(', ')}`);
  return items;
}

function positive(value: string, what: string, even = false): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || (even && n % 2)) throw new Error(`--${what} is '${value}'; expected a positive ${even ? 'even ' : ''}integer`);
  return n;
}

function options() {
  const { values } = parseArgs({
    options: {
      limit: { type: 'string', default: '480' },
      models: { type: 'string', default: 'iresnet18,iresnet100' },
      batches: { type: 'string', default: '16,64,128' },
      providers: { type: 'string', default: 'cpu,webgpu' },
      work: { type: 'string', default: WORK.join(',') },
      reps: { type: 'string', default: '3' },
      'adapter-only': { type: 'boolean', default: false },
      'grad-model': { type: 'string', default: 'iresnet18' },
      'grad-pairs': { type: 'string', default: '4' },
      probe: { type: 'string' },
    },
  });
  const models = list(values.models, 'models');
  const gradModel = values['grad-model'] === 'none' ? null : values['grad-model'];
  for (const m of [...models, ...(gradModel ? [gradModel] : [])]) iresnetConfig(m); // names the registered IResNets when unknown
  return {
    limit: positive(values.limit, 'limit'),
    models,
    batches: list(values.batches, 'batches').map((b) => positive(b, 'batches', true)).sort((a, b) => a - b),
    providers: list(values.providers, 'providers', PROVIDERS) as Provider[],
    work: list(values.work, 'work', WORK),
    reps: positive(values.reps, 'reps'),
    adapterOnly: values['adapter-only'],
    gradModel,
    gradPairs: positive(values['grad-pairs'], 'grad-pairs'),
    probe: values.probe ?? process.env.GPU_CHECK_PROBE ?? path.join(import.meta.dirname ?? __dirname, 'vk_adapter'),
  };
}

async function time<T>(f: () => Promise<T>): Promise<{ s: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { s: (performance.now() - t0) / 1e3, value };
}

async function main(): Promise<number> {
  const opt = options();
  const budget = opt.limit - Math.min(20, opt.limit * 0.1); // time kept for the summary
  const left = () => budget - elapsed();
  const threads = resolveThreads(0);
  const ort = await loadOrt();
  say(`ssmb-gpu-check: node ${process.version}, onnxruntime-node ${ort.env.versions.common}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ` +
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB memory, limit ${opt.limit} s`);

  if (process.env.GPU_CHECK_RUNTIME) say(`C runtime: ${process.env.GPU_CHECK_RUNTIME}`);
  const cuda = listProviders(ort).find((p) => p.name === 'cuda');
  if (cuda) say(`onnxruntime cuda provider: ${cuda.installed ? 'installed' : `not installed (${cuda.reason})`}`);
  if (opt.providers.includes('cuda') && !cuda?.installed) {
    throw new Error(`--providers has cuda: the onnxruntime execution provider 'cuda' is not installed (${cuda?.reason ?? 'onnxruntime-node does not offer it'}); install it with ${CUDA_INSTALL_HINT}`);
  }

  // -- the adapter
  let providers = opt.providers;
  let software = false;
  let exit = 0;
  if (providers.includes('webgpu')) {
    const found: DiscoveryResult = discoverAdapter({ run: probeRunner(opt.probe, { loader: process.env.GPU_CHECK_LOADER, libraryPath: process.env.GPU_CHECK_LIBRARY_PATH }) });
    for (const p of found.probes) say(`vulkan driver manifest ${p.manifest}: ${p.devices.length ? p.devices.map(describeDevice).join('; ') : `no device (${p.error})`}`);
    if (found.choice) {
      const c = found.choice;
      process.env.VK_DRIVER_FILES = c.manifest; // Dawn then opens the same driver the probe named
      say(`driver manifest used: ${c.manifest} (${c.source === 'VK_DRIVER_FILES' || c.source === 'VK_ICD_FILENAMES' ? `from ${c.source}` : `found in ${c.source}`})`);
      say(`adapter: ${describeDevice(c.device)}`);
      software = c.software;
      if (software) say('NOTE: a software adapter (a CPU-type Vulkan device): its webgpu figures say nothing about GPU speed');
    } else {
      say(`adapter: none: ${found.reason}`);
      say('webgpu rows skipped: no Vulkan adapter for the WebGPU provider');
      providers = providers.filter((p) => p !== 'webgpu');
      exit = 2;
    }
  }
  if (opt.adapterOnly) return exit;
  const engine = await initBackend({ prefer: 'wasm' }); // tfjs only makes the random models
  say(`random models made by tfjs on ${engine}; onnxruntime cpu on ${threads} threads`);

  // -- one step's gradients, webgpu against cpu; its step times are the first estimate of the rows (a
  // software adapter's IResNet-18 row can take longer than the whole limit: it is then skipped, not killed)
  const seeds: MeasuredRow[] = [];
  if (opt.gradModel && providers.includes('webgpu') && providers.includes('cpu')) {
    const t = await time(() => gradientCheck(opt.gradModel!, opt.gradPairs, threads));
    say(`${t.value.line} [${fmt(t.s)} s]`);
    for (const [provider, m] of Object.entries(t.value.timing)) {
      seeds.push({ model: opt.gradModel, provider, batch: 2 * opt.gradPairs, openS: m.openS, firstS: m.stepS, stepS: m.stepS, inferS: NaN });
    }
  }

  // -- speed rows, smallest batch first, each model, each provider
  say(`\nSSMB N=${HFR.numExperts} ${HFR.kind} at ${HFR.taps.join('/')}; training step = forward + loss + every SSMB gradient (B/2 pairs); inference = evaluation embeddings with routing; ` +
    `best of up to ${opt.reps} runs after one warm-up${software ? '; webgpu rows: SOFTWARE adapter' : ''}`);
  say(['model', 'provider', 'batch', 'train img/s', 'infer img/s', 'first step s', 'open s'].map((h, i) => (i < 2 ? h.padEnd(14) : h.padStart(13))).join(''));
  const measured: MeasuredRow[] = [];
  const skipped: string[] = [];
  const models = new Map<string, ParityModel>();
  const embedders = new Map<string, EngineEmbedder>();
  for (const batch of opt.batches) {
    for (const model of opt.models) {
      for (const provider of providers) {
        const est = estimateRow([...seeds, ...measured], model, provider, batch);
        const row = `${model} ${provider} batch ${batch}`;
        if ((est !== null && est > left()) || left() <= 0) {
          const why = est !== null ? `needs ~${fmt(est, 0)} s, ${fmt(Math.max(0, left()), 0)} s left` : 'no time left';
          skipped.push(`${row} (${why})`);
          say(`${model.padEnd(14)}${provider.padEnd(14)}${String(batch).padStart(13)}   skipped: ${why}`);
          continue;
        }
        if (!models.has(model)) models.set(model, parityModel(model, HFR, 1, 1));
        const m = await measureRow(models.get(model)!, model, provider, batch, threads, opt, left, embedders);
        measured.push({ ...m, provider });
        say(`${model.padEnd(14)}${provider.padEnd(14)}${String(batch).padStart(13)}${fmt(batch / m.stepS, 2).padStart(13)}${fmt(batch / m.inferS, 1).padStart(13)}` +
          `${fmt(m.firstS, 1).padStart(13)}${fmt(m.openS, 1).padStart(13)}${m.runs < opt.reps ? `   (${m.runs} timed run${m.runs === 1 ? '' : 's'}: time)` : ''}`);
      }
    }
  }
  for (const e of embedders.values()) await e.dispose();
  for (const p of models.values()) p.model.dispose();
  say(`\n${measured.length} rows measured, ${skipped.length} skipped${skipped.length ? `: ${skipped.join('; ')}` : ''}`);
  if (software) say('NOTE: the webgpu rows ran on a software adapter: they say nothing about GPU speed');
  say(`done in ${fmt(elapsed(), 0)} s`);
  return exit;
}

/** One row: a training session of `batch` images (opened, one warm-up step, up to `reps` timed ones while
 *  they fit), then the model's embedder (one per model and provider) on `batch` images likewise. */
async function measureRow(p: ParityModel, model: string, provider: Provider, batch: number, threads: number, opt: { reps: number; work: string[] }, left: () => number, embedders: Map<string, EngineEmbedder>) {
  const reps = opt.reps;
  const em = engineModelOf(p.model);
  const S = p.size, pairs = batch / 2, E = p.model.backbone.embeddingSize;
  const images = new Float32Array(batch * S * S * 3).map((_, i) => p.images[i % p.images.length]);
  const input = {
    images,
    labels: Float32Array.from({ length: pairs }, (_, i) => i % 2),
    teacher: new Float32Array(pairs * E).map((_, i) => Math.sin(i) / Math.sqrt(E)),
    params: ssmbParamValues(p.model),
  };
  let runs = 0, stepS = NaN, inferS = NaN, firstS = NaN, openS = NaN;
  if (opt.work.includes('train')) {
    const open = await time(() => OrtSsmbTrainer.create(em, { pairs, loss: LOSS, threads, provider }));
    const trainer = open.value;
    openS = open.s;
    stepS = Infinity;
    try {
      firstS = (await time(() => trainer.step(input))).s;
      for (let r = 0; r < reps && (r === 0 || Math.min(stepS, firstS) < left()); r++, runs++) stepS = Math.min(stepS, (await time(() => trainer.step(input))).s);
    } finally {
      await trainer.release();
    }
  }
  // inference after a training row that used up the time: not started (its figure shows as '-')
  if (!opt.work.includes('infer') || left() <= 0) return { model, batch, openS, firstS, stepS, inferS, runs };
  const key = `${model}/${provider}`;
  if (!embedders.has(key)) embedders.set(key, await createEngineEmbedder(em, { threads, provider }));
  const embedder = embedders.get(key)!;
  const first = (await time(() => embedder.embed(images))).s; // warm-up at this batch size
  inferS = Infinity;
  for (let r = 0; r < reps && (r === 0 || inferS < left()); r++) inferS = Math.min(inferS, (await time(() => embedder.embed(images))).s);
  if (!opt.work.includes('train')) { firstS = first; runs = reps; }
  return { model, batch, openS, firstS, stepS, inferS, runs };
}

/** One training step of a calibrated model (routing spread over the experts, away from ties) on cpu and on
 *  webgpu, same inputs: the largest gradient difference relative to the parameter's cpu scale. */
async function gradientCheck(model: string, pairs: number, threads: number): Promise<{ line: string; timing: Record<string, { openS: number; stepS: number }> }> {
  const p = parityModel(model, HFR, pairs, 2);
  try {
    const B = p.pairs, S = p.size;
    const teacher = tf.tidy(() => p.model.teacherForward(tf.tensor4d(p.images.subarray(0, B * S * S * 3), [B, S, S, 3])).dataSync() as Float32Array);
    const input = { images: p.images, labels: p.labels, teacher, params: ssmbParamValues(p.model) };
    const out = {} as Record<'cpu' | 'webgpu', Awaited<ReturnType<OrtSsmbTrainer['step']>>>;
    const timing: Record<string, { openS: number; stepS: number }> = {};
    for (const provider of ['cpu', 'webgpu'] as const) {
      const open = await time(() => OrtSsmbTrainer.create(engineModelOf(p.model), { pairs, loss: LOSS, threads, provider }));
      try {
        const step = await time(() => open.value.step(input));
        out[provider] = step.value;
        timing[provider] = { openS: open.s, stepS: step.s };
      } finally {
        await open.value.release();
      }
    }
    let worst = 0, worstName = '';
    for (const [name, g] of out.cpu.grads) {
      const d = maxRelDiff(out.webgpu.grads.get(name)!, g);
      if (!(d <= worst)) { worst = d; worstName = name; }
    }
    const decisions = out.cpu.routing.reduce((a, r) => a + r.expert.length, 0);
    const differ = out.cpu.routing.reduce((a, r, i) => a + r.expert.filter((e, j) => e !== out.webgpu.routing[i].expert[j]).length, 0);
    const line = `gradients webgpu vs cpu (${model}, ${2 * pairs} images, one step): max relative difference ${worst.toExponential(2)} over ${out.cpu.grads.size} SSMB parameters ` +
      `(worst ${worstName}); loss ${out.webgpu.loss.toPrecision(7)} vs ${out.cpu.loss.toPrecision(7)}; routing ${differ === 0 ? `identical (${decisions} decisions)` : `${differ} of ${decisions} decisions differ`}`;
    return { line, timing };
  } finally {
    p.model.dispose();
  }
}

main().then((code) => {
  process.exitCode = code;
}, (err) => {
  console.error(`ssmb-gpu-check: ${(err as Error)?.message ?? err}`);
  process.exitCode = 1;
});
