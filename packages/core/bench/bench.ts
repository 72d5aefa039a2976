// Benchmark (a script, not a test): conv kernel GFLOP/s before/after our wasm gradients, IResNet-18
// inference img/s, the SSMB training step img/s and the SSMB inference overhead, on the active backend.
//   npm run bench -w @ssmb/core          (SSMB_BACKEND=cpu|wasm|node|gpu to force an engine)
//   BENCH_REPS=5 npm run bench           (timed repetitions per measurement, default 3)
//   BENCH_ONLY=engines|kernels|inference|train|pretrain|placement   (run one section: the whole script takes a few minutes)
//   placement: nodes per provider of the engine's graphs on webgpu (bench/placement_bench.ts)
//   pretrain: the backbone pre-training step, tfjs vs onnxruntime 1 thread / all cores (bench/pretrain_bench.ts)
//   engines: tfjs vs onnxruntime (1 thread, all cores, webgpu where an adapter exists) vs PyTorch (bench/engine_bench.ts), with ratios
//   BENCH_CLOCK=cpu|wall                 (see timing.ts; cpu by default on wasm/cpu)
import os from 'node:os';
import { tf, initBackend, engineInfo } from '../src/index.ts';
import { displacedWasmKernel } from '../src/kernels/register.ts';
import { benchInference, benchTraining } from './model_bench.ts';
import { benchEngines } from './engine_bench.ts';
import { benchPretrain } from './pretrain_bench.ts';
import { benchPlacement } from './placement_bench.ts';
import { setClock, timeIt } from './timing.ts';

const REPS = Number(process.env.BENCH_REPS ?? 3);
const ONLY = process.env.BENCH_ONLY;

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

type Shape4 = [number, number, number, number];
// IResNet-18 conv shapes at batch 16, 112x112 input, then iresnet-synth ones: [x shape, filter shape, stride]
const CONV_CASES: [string, Shape4, Shape4, number][] = [
  ['layer1.0.conv1 3x3 s1 112x112x64', [16, 112, 112, 64], [3, 3, 64, 64], 1],
  ['layer1.0.conv2 3x3 s2 112->56 x64', [16, 112, 112, 64], [3, 3, 64, 64], 2],
  ['layer2.1.conv1 3x3 s1 28x28x128', [16, 28, 28, 128], [3, 3, 128, 128], 1],
  ['layer3.0.conv2 3x3 s2 28->14 x256', [16, 28, 28, 256], [3, 3, 256, 256], 2],
  ['layer3.0.downsample 1x1 s2 x128->256', [16, 28, 28, 128], [1, 1, 128, 256], 2],
  // iresnet-synth (the quickstart's backbone, pre-trained with trainable convs) at batch 64, 64x64 input
  ['synth layer1.0.conv1 3x3 s1 64x64x16', [64, 64, 64, 16], [3, 3, 16, 16], 1],
  ['synth layer2.0.conv2 3x3 s2 32->16 x32', [64, 32, 32, 32], [3, 3, 32, 32], 2],
  ['synth layer4.0.conv1 3x3 s1 8x8 64->128', [64, 8, 8, 64], [3, 3, 64, 128], 1],
];

function benchKernels(): void {
  const wasm = tf.getBackend() === 'wasm';
  const builtin = displacedWasmKernel('Conv2DBackpropInput');
  console.log('\n== conv kernels (GFLOP/s; FLOPs = 2 x outputs x kh x kw x Cin for forward, dx and dW alike)');
  console.log(['conv', 'forward', 'dx before', 'dx after', 'dW before', 'dW after'].map((s, i) => i ? s.padStart(10) : s.padEnd(38)).join(''));
  for (const [name, xs, ws, s] of CONV_CASES) {
    const pad = ws[0] === 3 ? 1 : 0;
    const x = tf.randomNormal(xs) as tf.Tensor4D;
    const w = tf.randomNormal(ws) as tf.Tensor4D;
    const y = tf.conv2d(x, w, s, pad);
    const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
    const gflop = (2 * y.size * ws[0] * ws[1] * ws[2]) / 1e9;
    const attrs = { strides: [s, s], pad, dataFormat: 'NHWC' };
    const fwd = timeIt(() => tf.conv2d(x, w, s, pad), REPS);
    const dx = timeIt(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: xs }) as tf.Tensor, REPS);
    const dw = timeIt(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: ws }) as tf.Tensor, REPS);
    let dxBefore = NaN;
    if (wasm && builtin) {
      // The displaced tfjs-backend-wasm kernel, called directly (slow: one repetition).
      const backend = tf.backend();
      dxBefore = timeIt(() => {
        const info = builtin.kernelFunc({ inputs: { dy, filter: w }, attrs: { ...attrs, inputShape: xs }, backend }) as tf.TensorInfo;
        return tf.engine().makeTensorFromTensorInfo(info);
      }, 1);
    }
    const rate = (ms: number) => fmt(gflop / (ms / 1e3), 2).padStart(10);
    // tfjs-backend-wasm registers no Conv2DBackpropFilter: "before" there is not runnable at all.
    console.log(name.padEnd(38) + rate(fwd) + rate(dxBefore) + rate(dx) + (wasm ? 'missing'.padStart(10) : rate(NaN)) + rate(dw));
    tf.dispose([x, w, y, dy]);
  }
}

async function main(): Promise<void> {
  await initBackend();
  const info = engineInfo();
  console.log(`engine: ${info.engine} - ${info.description}`);
  for (const t of info.tried.filter((a) => !a.ok)) console.log(`  skipped ${t.engine}: ${t.reason}`);
  const clock = setClock(info.engine);
  console.log(`clock: ${clock} time${clock === 'cpu' ? ' of this process (single-threaded engine: excludes waiting for a core)' : ''}; ` +
    `repetitions per measurement: ${REPS} after one warm-up; ${os.cpus().length} cores, load average ` +
    `${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const sections = ['engines', 'kernels', 'inference', 'train', 'pretrain', 'placement'];
  if (ONLY !== undefined && !sections.includes(ONLY)) throw new Error(`BENCH_ONLY='${ONLY}' is not a section; expected one of ${sections.join(', ')}`);
  if (!ONLY || ONLY === 'engines') await benchEngines(REPS);
  if (!ONLY || ONLY === 'kernels') benchKernels();
  if (!ONLY || ONLY === 'inference') await benchInference(REPS);
  if (!ONLY || ONLY === 'train') await benchTraining(REPS);
  if (!ONLY || ONLY === 'pretrain') await benchPretrain(REPS);
  if (!ONLY || ONLY === 'placement') await benchPlacement();
  console.log(`\ntf.memory(): ${tf.memory().numTensors} tensors live at exit`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
