// Engine benchmark (a script, not a test): the same work on every engine, side by side, in one
// run, with the ratios to a PyTorch reference measured on this machine in the same run.
//   work: IResNet-18, 112x112, batch 16 (= 8 pairs), SSMB N=4 at stem/layer1/layer2 ('style'),
//   - inference: frozen backbone forward (teacher/evaluation), and backbone + SSMB (the SSMB share);
//   - training step: student forward on 16 images, L_cc + L_ts + alpha L_lb on cached teacher
//     embeddings, gradients of every SSMB parameter, Adam update.
//   engines: tfjs on the active tf backend (wasm here, 1 thread), onnxruntime on 1 thread and on all
//   cores, onnxruntime on its WebGPU provider when the machine has an adapter (labelled with the adapter;
//   a software adapter's figures say nothing about GPU speed), onnxruntime int8 on all cores (the frozen
//   network's convs and head in int8, calibrated on synthetic images of four modalities; its training
//   step is fp32: the gradient guard keeps it so, see ssmb_trainer.ts), PyTorch (bench/torch_reference.py,
//   /usr/bin/python3, when `import torch` works) on 1 thread and on all cores, in its default mode (fp32
//   NCHW) and its best CPU mode here (channels_last + bf16 autocast) on all cores. Ratios against both.
// Run: npm run bench (all sections) or BENCH_ONLY=engines npm run bench; BENCH_REPS (default 3) timed runs
// per figure after one warm-up; engines interleaved run by run so that load drift on a shared machine hits
// them alike. Wall-clock time (onnxruntime and PyTorch are multi-threaded). Each figure is the FASTEST of
// its runs: on a machine other processes share, the slower runs measure the other processes (a median
// made 2 threads slower than 1 and the SSMB share negative in a loaded run). The SSMB share compares the
// plain and the SSMB forward run back to back.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { tf } from '../src/index.ts';
import { crossModalContrastiveLoss } from '../src/losses/cross_modal_contrastive.ts';
import { teacherStudentLoss } from '../src/losses/teacher_student.ts';
import { loadBalancingLoss } from '../src/losses/load_balancing.ts';
import { parityModel, ssmbParamValues } from '../src/engine/parity_fixtures.ts';
import { OrtSsmbTrainer } from '../src/engine/ssmb_trainer.ts';
import { createEngineEmbedder } from '../src/engine/embedder.ts';
import { engineModelOf } from '../src/engine/student_graph.ts';
import { chooseProvider, loadOrt, resolveThreads } from '../src/engine/ort_session.ts';
import { calibrateModel } from '../src/engine/int8/calibrate_model.ts';
import { modalityImages } from '../src/engine/parity_fixtures.ts';
import { int8Accuracy } from '../src/engine/int8/accuracy.ts';
import { ensureSystemPackages } from '../../../scripts/system-deps.mjs';

const BATCH = 16; // images per step (8 pairs) and per inference batch
const PAIRS = BATCH / 2;
const SIZE = 112;
const TAPS = ['stem', 'layer1', 'layer2'];
const EXPERTS = 4;
const LOSS = { margin: 0, lambdaTs: 1, alpha: 0.01 }; // torch_reference.py's loss
const TORCH_PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = path.join(import.meta.dirname, 'torch_reference.py');

const best = (xs: number[]) => Math.min(...xs);
const imgPerSec = (ms: number) => BATCH / (ms / 1e3);
const fmt = (x: number | undefined, d = 1) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '-');

/** The PyTorch reference as a persistent process (one JSON line per command). */
class TorchReference {
  private lines: AsyncIterableIterator<string>;
  private constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  }

  /** null (with the reason printed) when /usr/bin/python3 cannot import torch. */
  static start(): TorchReference | null {
    const probeTorch = () => spawnSync(TORCH_PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    let probe = probeTorch();
    if (probe.status !== 0) {
      // The reference is the bench's own need: install Debian's build the way the tests install theirs
      // (apt-get through scripts/system-deps.mjs), then look again. Never a dependency of the packages.
      const installed = ensureSystemPackages({ packages: [{ name: 'python3-torch', why: 'the PyTorch reference of the engine bench (/usr/bin/python3)' }] });
      if (installed.ok) probe = probeTorch();
      else console.log(installed.message);
    }
    if (probe.status !== 0) {
      const why = probe.error ? probe.error.message : (probe.stderr || '').trim().split('\n').pop();
      console.log(`PyTorch reference skipped: \`${TORCH_PYTHON} -c 'import torch'\` failed (${why}); install it with apt-get install -y python3-torch`);
      return null;
    }
    return new TorchReference(spawn(TORCH_PYTHON, [TORCH_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] }));
  }

  async send(cmd: string): Promise<Record<string, unknown>> {
    this.proc.stdin.write(`${cmd}\n`);
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`PyTorch reference exited before answering '${cmd}'`);
    const out = JSON.parse(value) as Record<string, unknown>;
    if (out.error) throw new Error(`PyTorch reference, '${cmd}': ${String(out.error)}`);
    return out;
  }

  async time(cmd: 'infer' | 'infer_ssmb' | 'train'): Promise<number> {
    return (await this.send(cmd)).ms as number;
  }

  async stop(): Promise<void> {
    this.proc.stdin.write('quit\n');
    await new Promise((r) => this.proc.once('exit', r));
  }
}

/** Adam over Float32Arrays (the trainer's update rule, lr 1e-3): the optimiser step is part of the work. */
function adamUpdater(params: Map<string, Float32Array>) {
  const m = new Map([...params].map(([k, v]) => [k, new Float32Array(v.length)]));
  const v2 = new Map([...params].map(([k, v]) => [k, new Float32Array(v.length)]));
  let t = 0;
  return (grads: Map<string, Float32Array>) => {
    t++;
    const [b1, b2, lr, eps] = [0.9, 0.999, 1e-3, 1e-8];
    const c1 = 1 - b1 ** t, c2 = 1 - b2 ** t;
    for (const [k, p] of params) {
      const g = grads.get(k)!, mk = m.get(k)!, vk = v2.get(k)!;
      for (let i = 0; i < p.length; i++) {
        mk[i] = b1 * mk[i] + (1 - b1) * g[i];
        vk[i] = b2 * vk[i] + (1 - b2) * g[i] * g[i];
        p[i] -= (lr * (mk[i] / c1)) / (Math.sqrt(vk[i] / c2) + eps);
      }
    }
  };
}

type Row = { engine: string; threads: number; infer?: number; inferSsmb?: number; train?: number; torchMode?: 'default' | 'best' };

export async function benchEngines(reps: number): Promise<void> {
  const cores = resolveThreads(0);
  console.log(`\n== engines: IResNet-18 ${SIZE}x${SIZE}, batch ${BATCH} (${PAIRS} pairs), SSMB N=${EXPERTS} at ${TAPS.join('/')}, ` +
    `Adam; fastest of ${reps} wall-clock runs after a warm-up; ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const p = parityModel('iresnet18', { taps: TAPS, numExperts: EXPERTS, kind: 'style' }, PAIRS, 1);
  const { model, images, labels } = p;
  const x = tf.tensor4d(images, [BATCH, SIZE, SIZE, 3]); // [16,112,112,3]
  const teacherT = tf.tidy(() => model.teacherForward(tf.slice(x, [0, 0, 0, 0], [PAIRS, -1, -1, -1]) as tf.Tensor4D)); // [8,512]
  const teacher = teacherT.dataSync() as Float32Array;
  const y = Array.from(labels);

  // tfjs (the run's tf backend): autodiff + tf.train.adam over the SSMB variables
  const vars = [...model.params].filter(([k]) => k.startsWith('ssmb.')).map(([, v]) => v);
  const adam = tf.train.adam(1e-3);
  const tfjs = {
    infer: () => tf.tidy(() => model.teacherForward(x)).dataSync(),
    inferSsmb: () => tf.tidy(() => model.forward(x).embedding).dataSync(),
    train: () => {
      const cost = adam.minimize(() => {
        const out = model.forward(x); // [16,E]
        const sv = tf.slice(out.embedding, [0, 0], [PAIRS, -1]) as tf.Tensor2D;
        const st = tf.slice(out.embedding, [PAIRS, 0], [PAIRS, -1]) as tf.Tensor2D;
        const l = tf.add(tf.add(crossModalContrastiveLoss(sv, st, y, LOSS.margin), tf.mul(teacherStudentLoss(sv, st, teacherT, y), LOSS.lambdaTs)), tf.mul(loadBalancingLoss(out.routings), LOSS.alpha));
        return l as tf.Scalar;
      }, true, vars);
      cost!.dataSync();
      cost!.dispose();
    },
  };

  // onnxruntime on 1 thread and on every core, and on its WebGPU provider where the machine has an adapter
  const webgpu = await chooseProvider(await loadOrt(), 'webgpu').catch((err: Error) => {
    console.log(`webgpu rows skipped: ${err.message}`);
    return null;
  });
  const adapterLabel = webgpu?.adapter ? `${webgpu.adapter.name}${webgpu.adapter.software ? ', software' : ''}` : 'adapter unknown';
  if (webgpu?.adapter?.software) {
    console.log(`webgpu runs on a SOFTWARE adapter (${webgpu.adapter.name}, ${webgpu.adapter.driver}): the CPU emulates the GPU, so its figures check the path and say nothing about GPU speed`);
  }
  const ortEngines = [];
  // int8: calibrated on 16 synthetic images of four modalities (VIS, NIR-, thermal-, sketch-like), the
  // backbone alone for the teacher embedder, with the blocks for the routed one
  const calibrationImages = modalityImages(4, SIZE, 77);
  const calibrationSets = ['VIS', 'NIR', 'TH', 'SK'].map((modality, i) => ({ modality, images: calibrationImages.subarray(i * 4 * SIZE * SIZE * 3, (i + 1) * 4 * SIZE * SIZE * 3) }));
  const int8For = async (m: Parameters<typeof calibrateModel>[0]) => ({ precision: 'int8' as const, calibration: await calibrateModel(m, calibrationSets, { batch: BATCH }) });
  const configs: { threads: number; provider: string; int8?: boolean }[] = [
    ...[...new Set([1, cores])].map((threads) => ({ threads, provider: 'cpu' })), { threads: cores, provider: 'cpu', int8: true }, ...(webgpu ? [{ threads: cores, provider: 'webgpu' }] : []),
  ];
  for (const { threads, provider, int8 } of configs) {
    const trainer = await OrtSsmbTrainer.create(engineModelOf(model), { pairs: PAIRS, loss: LOSS, threads, provider, ...(int8 ? await int8For(engineModelOf(model)) : {}) });
    const plain = await createEngineEmbedder({ backbone: model.backbone }, { threads, provider, ...(int8 ? await int8For({ backbone: model.backbone }) : {}) });
    const routed = await createEngineEmbedder(engineModelOf(model), { threads, provider, ...(int8 ? await int8For(engineModelOf(model)) : {}) });
    const params = ssmbParamValues(model);
    const step = adamUpdater(params);
    if (int8) {
      console.log(`onnxruntime int8: embedders ${plain.precision.layers} / ${routed.precision.layers} layers in int8 (${plain.precision.calibration}); training step ${trainer.precision.precision}: ${trainer.precision.reason}`);
      const fp = await createEngineEmbedder(engineModelOf(model), { threads, provider });
      const acc = int8Accuracy(await fp.embedRouted(images), await routed.embedRouted(images), fp.embeddingSize, Array.from({ length: BATCH }, (_, i) => i % PAIRS));
      await fp.dispose();
      console.log(`  int8 vs fp32 on the bench's ${BATCH} images (random IResNet-18 + SSMB): min cosine ${acc.minCosine.toFixed(4)}, routing identical ${(100 * acc.routingAgreement).toFixed(1)}%`);
    }
    ortEngines.push({
      threads, provider, trainer, plain, routed, int8: !!int8,
      infer: () => plain.embed(images),
      inferSsmb: () => routed.embed(images),
      train: async () => step((await trainer.step({ images, labels, teacher, params })).grads),
    });
    const placed = trainer.description.placement ? `; nodes ${JSON.stringify(trainer.description.placement.byProvider)}` : '';
    console.log(`onnxruntime ${provider} ${threads} thread(s): training graph ${trainer.description.nodes.forward} forward + ${trainer.description.nodes.gradient} gradient nodes, built and opened in ${trainer.description.buildMs.toFixed(0)} ms${placed}`);
  }

  const torch = TorchReference.start();
  if (torch) {
    const info = await torch.send(`setup iresnet18 ${BATCH} ${SIZE} ${TAPS.join(',')} ${EXPERTS}`);
    console.log(`PyTorch ${String(info.torch)} (${TORCH_PYTHON} ${path.relative(process.cwd(), TORCH_SCRIPT)}): ${String(info.params)} SSMB parameters`);
  }

  const rows: Row[] = [
    { engine: `tfjs-${tf.getBackend()}`, threads: 1 },
    ...ortEngines.map((e) => ({ engine: e.provider === 'cpu' ? (e.int8 ? 'onnxruntime int8' : 'onnxruntime') : `onnxruntime webgpu (${adapterLabel})`, threads: e.threads })),
    ...(torch ? [...[...new Set([1, cores])].map((t) => ({ engine: 'pytorch', threads: t, torchMode: 'default' as const })), { engine: 'pytorch best (channels_last+bf16)', threads: cores, torchMode: 'best' as const }] : []),
  ];
  const samples = new Map(rows.map((r) => [r, { infer: [] as number[], inferSsmb: [] as number[], train: [] as number[] }]));
  const time = async (f: () => unknown) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  const kinds = ['infer', 'inferSsmb', 'train'] as const;
  // warm-up (BN folding, XNNPACK operator creation, onnxruntime's first-run allocations), then interleaved
  for (let rep = -1; rep < reps; rep++) {
    let i = 0;
    const record = (kind: (typeof kinds)[number], ms: number) => { if (rep >= 0) samples.get(rows[i])![kind].push(ms); };
    for (const f of [tfjs, ...ortEngines]) {
      for (const kind of kinds) record(kind, await time(f[kind]));
      i++;
    }
    if (torch) {
      for (const r of rows.filter((x) => x.torchMode)) {
        await torch.send(`threads ${r.threads}`);
        await torch.send(`mode ${r.torchMode}`);
        for (const kind of kinds) record(kind, await torch.time(kind === 'inferSsmb' ? 'infer_ssmb' : kind));
        i++;
      }
    }
    console.log(`  run ${rep < 0 ? 'warm-up' : rep + 1} of ${reps} done`);
  }
  for (const r of rows) {
    const s = samples.get(r)!;
    r.infer = best(s.infer);
    r.inferSsmb = best(s.inferSsmb);
    r.train = best(s.train);
  }

  const torchAt = (threads: number, mode: 'default' | 'best' = 'default') => rows.find((r) => r.torchMode === mode && r.threads === threads);
  const torchBest = torchAt(cores, 'best');
  const width = Math.max(14, ...rows.map((r) => r.engine.length + 1));
  console.log(['engine', 'threads', 'infer img/s', '+SSMB img/s', 'SSMB share', 'train img/s', 'infer vs torch', 'train vs torch', 'infer vs best', 'train vs best']
    .map((h, i) => (i ? h.padStart(15) : h.padEnd(width))).join(''));
  for (const r of rows) {
    const ref = torchAt(r.threads);
    const share = (100 * (r.inferSsmb! - r.infer!)) / r.inferSsmb!;
    const ratio = (to: Row | undefined, mine: number, theirs: number | undefined) => (to && theirs ? `${fmt(theirs / mine, 2)}x` : '-');
    const vsBest = torchBest && r.threads === cores;
    console.log([
      r.engine.padEnd(width), String(r.threads).padStart(15), fmt(imgPerSec(r.infer!)).padStart(15), fmt(imgPerSec(r.inferSsmb!)).padStart(15),
      `${fmt(share)}%`.padStart(15), fmt(imgPerSec(r.train!), 2).padStart(15), ratio(ref, r.infer!, ref?.infer).padStart(15), ratio(ref, r.train!, ref?.train).padStart(15),
      ratio(vsBest ? torchBest : undefined, r.infer!, torchBest?.infer).padStart(15), ratio(vsBest ? torchBest : undefined, r.train!, torchBest?.train).padStart(15),
    ].join(''));
  }
  const ortAll = rows.find((r) => r.engine === 'onnxruntime' && r.threads === cores)!;
  const ortInt8 = rows.find((r) => r.engine === 'onnxruntime int8')!;
  const ref = torchAt(cores);
  if (ref) {
    const tr = ref.train! / ortAll.train!, ir = ref.infer! / ortAll.infer!, share = (100 * (ortAll.inferSsmb! - ortAll.infer!)) / ortAll.inferSsmb!;
    console.log(`targets (onnxruntime vs PyTorch, ${cores} threads each): training step ${fmt(tr, 2)}x (>= 1.5x: ${tr >= 1.5 ? 'met' : 'NOT met'}), ` +
      `inference ${fmt(ir, 2)}x (>= 1.5x: ${ir >= 1.5 ? 'met' : 'NOT met'}), SSMB share of a forward ${fmt(share)}% (<= 5%: ${share <= 5 ? 'met' : 'NOT met'})`);
  }
  if (torchBest) {
    // ours at our fastest (int8 inference; the training step of the int8 row is the fp32 one) against PyTorch's best mode
    const ir = torchBest.infer! / Math.min(ortAll.infer!, ortInt8.infer!), tr = torchBest.train! / Math.min(ortAll.train!, ortInt8.train!);
    console.log(`targets against PyTorch's best mode (channels_last + bf16 autocast, ${cores} threads): inference ${fmt(ir, 2)}x (>= 1.5x: ${ir >= 1.5 ? 'met' : 'NOT met'}), ` +
      `training step ${fmt(tr, 2)}x (>= 1.5x: ${tr >= 1.5 ? 'met' : 'NOT met'}); int8 vs fp32 (ours): inference ${fmt(ortAll.infer! / ortInt8.infer!, 2)}x`);
  }
  if (!ref) console.log('targets: not checked (no PyTorch reference on this machine)');
  if (torch) await torch.stop();
  for (const e of ortEngines) {
    await e.trainer.release();
    await e.plain.dispose();
    await e.routed.dispose();
  }
  adam.dispose();
  tf.dispose([x, teacherT]);
  model.dispose();
}
