// Test/benchmark fixtures for engine parity: an HFR model with every backbone and SSMB parameter random
// and non-zero, routers centred and scaled on the batch so routing differs between samples and the
// softmax is not saturated (router gradients then have a scale worth comparing), images of the same
// faces seen by different "sensors", and the SSMB loss with its gradients computed by tfjs autodiff.
import { tf } from '../tf.ts';
import { createBackbone } from '../models/registry.ts';
import { HFRModel, type HFRConfig } from '../models/hfr_model.ts';
import type { Backbone } from '../models/backbone.ts';
import type { SSMBBlock } from '../ssmb/ssmb_block.ts';
import { crossModalContrastiveLoss } from '../losses/cross_modal_contrastive.ts';
import { teacherStudentLoss } from '../losses/teacher_student.ts';
import { loadBalancingLoss } from '../losses/load_balancing.ts';
import { randomImagesNHWC, randomizeParams, seededNormal } from '../weights/onnx/onnx_fixtures.ts';
import { mulberry32 } from '../rng.ts';
import type { LossWeights } from './loss_graph.ts';

/** `n` VIS images then NIR-like (grey, gamma), thermal-like (inverted grey), sketch-like (edges over a faded
 *  grey) versions: [4n,S,S,3]. (Pure edge maps are flat: their deep feature maps have channel means ~1e3
 *  times their spread, where the modulation gradient sum(dy (x - mu)) is known only to eps |mu| / sigma,
 *  ~1e-4, in any float32 implementation: measured, engine vs tfjs 5.8e-4 for one such image at layer3.) */
export function modalityImages(n: number, s: number, seed: number): Float32Array {
  const vis = randomImagesNHWC(n, s, seed);
  const per = s * s * 3;
  const out = new Float32Array(vis.length * 4);
  const grey = (i: number, p: number) => (vis[i * per + p * 3] + vis[i * per + p * 3 + 1] + vis[i * per + p * 3 + 2]) / 3;
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < s * s; p++) {
      const g = grey(i, p);
      const right = p % s < s - 1 ? grey(i, p + 1) : g;
      const values = [Math.sign(g) * Math.abs(g) ** 0.7 * 0.8, -g * 0.6 + 0.2, 0.5 * g + Math.min(1, Math.abs(right - g) * 3) - 0.5];
      for (let c = 0; c < 3; c++) {
        out[i * per + p * 3 + c] = vis[i * per + p * 3 + c];
        for (let m = 1; m < 4; m++) out[(m * n + i) * per + p * 3 + c] = values[m - 1];
      }
    }
  }
  return out;
}

/** Sets each router to Wr scaled so the logits have unit spread over this batch and bias = -mean(s) Wr plus
 *  a seeded offset of 0.25 per expert: routing differs between samples, and the batch is not exactly
 *  centred (centred logits make the bias gradient a sum over samples that cancels to ~1e-3 of its terms,
 *  which float32 reductions of either engine get right to ~1e-4 only). */
function calibrateRouter(h: tf.Tensor4D, block: SSMBBlock, seed: number): void {
  if (block.numExperts === 1) return;
  tf.tidy(() => {
    const { mean, variance } = tf.moments(h, [1, 2]); // [B,C]
    // the router's input: [mu; sigma] [B,2C], or mu [B,C] for routerInput 'mean'
    const s = block.router.routerInput === 'style' ? tf.concat([mean, tf.sqrt(tf.add(variance, 1e-5))], 1) : mean; // [B,Din]
    const w = block.params.get('router.weight')!;
    const centred = tf.sub(s, tf.mean(s, 0, true));
    const spread = tf.sqrt(tf.mean(tf.square(tf.matMul(centred, w)))).dataSync()[0];
    const w2 = tf.div(w, Math.max(spread, 1e-6));
    w.assign(w2);
    const n = seededNormal(seed);
    const offset = tf.tensor1d(Float32Array.from({ length: block.numExperts }, () => 0.25 * n()));
    block.params.get('router.bias')!.assign(tf.add(tf.neg(tf.reshape(tf.matMul(tf.mean(s, 0, true), w2), [-1])), offset));
  });
}

const EXPERT_SCALE = 0.25;

/** A family with its own initialisation sees its native input, e.g. faceres's BGR - Caffe mean (std 1,
 *  values +-128): with a randomly initialised stem that saturates every ReLU6 and leaves a network whose
 *  output barely depends on its input, gradients that are float32 noise (measured: tfjs cpu vs wasm 4e-2).
 *  Scaling the stem filter (the first rank-4 parameter) by the native std / 127.5 makes it see unit-scale
 *  values, as a trained stem does. */
function unitScaleStem(backbone: Backbone): void {
  const std = backbone.input.normalisation.std;
  const factor = (std[0] + std[1] + std[2]) / 3 / 127.5;
  const stem = [...backbone.params.values()].find((v) => v.rank === 4);
  if (!stem) throw new Error(`parityModel: backbone ${backbone.name} has no rank-4 (convolution) parameter to scale`);
  stem.assign(tf.mul(stem, factor));
}

/** Every backbone parameter random, the network well-conditioned like a trained one: convs/fc with the
 *  variance-preserving gain for PReLU slope a (sqrt(2 / (1 + a^2)) / sqrt(fan-in)), BN near identity with
 *  non-trivial statistics, PReLU slopes a +- 0.05. (Slopes near 1 with ReLU's He gain make the random
 *  residual network almost linear and its activations grow ~600x by layer4.) */
function randomBackbone(params: Map<string, tf.Variable>, seed: number, slope: number): void {
  const n = seededNormal(seed);
  const u = mulberry32(seed + 1);
  const gain = Math.sqrt(2 / (1 + slope * slope));
  for (const [name, v] of params) {
    const size = v.size;
    const fanIn = v.shape.length > 1 ? size / v.shape[v.shape.length - 1] : 1; // HWIO / [in,out]: all but the last axis
    const gen = name.endsWith('running_var') ? () => 0.5 + u()
      : name.endsWith('running_mean') || name.endsWith('.bias') ? () => 0.1 * n()
      : name.includes('prelu') ? () => slope + 0.05 * n()
      : v.shape.length === 1 ? () => 1 + 0.1 * n()
      : () => (n() * gain) / Math.sqrt(fanIn);
    v.assign(tf.tensor(Float32Array.from({ length: size }, gen), v.shape));
  }
}

export interface ParityModel {
  model: HFRModel;
  /** [2B,S,S,3]: B anchors then B partners */
  images: Float32Array;
  labels: Float32Array; // [B]
  pairs: number;
  size: number;
  /** label-selected blocks: [2B,N] selection rows (labelSelection); undefined for routed blocks */
  select?: Float32Array;
}

/** A random model whose routing is spread over the experts for `images` (calibrated on them).
 *  `preluSlope`: mean PReLU slope of an IResNet backbone (default 0.25, insightface's initial value);
 *  other families keep their factory's seeded initialisation (their parameter names are their own).
 *  `overrides`: family config overrides (the registry's testOverrides of a large model). */
export function parityModel(backboneName: string, hfr: Partial<HFRConfig>, pairs: number, seed = 1, preluSlope = 0.25, overrides?: Record<string, unknown>): ParityModel {
  const backbone = createBackbone(backboneName, { seed, overrides });
  if (backbone.family === 'iresnet') randomBackbone(backbone.params, 31 + seed, preluSlope);
  else unitScaleStem(backbone);
  const model = new HFRModel(backbone, { ...hfr, seed });
  // Non-zero experts of a moderate size, like a trained block's: a random modulation of +-100% per
  // channel at every block would make the network ill-conditioned (gradients ~1e-5 that are mostly
  // float32 cancellation noise in either engine), and the comparison would test the noise.
  let k = 0;
  for (const block of model.blocks.values()) {
    randomizeParams(block.params, (d, s) => tf.tensor(d, s), 7 + seed + 13 * k++);
    for (const [name, v] of block.params) if (name.startsWith('experts.')) v.assign(tf.mul(v, EXPERT_SCALE));
  }
  const S = backbone.input.size;
  const quads = Math.ceil((2 * pairs) / 4);
  const images = modalityImages(quads, S, 12 + seed).slice(0, 2 * pairs * S * S * 3);
  tf.dispose(backbone.forward(tf.tensor4d(images, [2 * pairs, S, S, 3]), {
    tapHook: (t, h) => {
      const block = model.blocks.get(t);
      if (!block) return;
      if (block.selection === 'label') return; // no router to calibrate
      calibrateRouter(h, block, 91 + seed);
      const r = block.apply(h);
      tf.dispose([r.routing.probs, r.routing.gate, r.routing.expert]);
      return r.y;
    },
  }));
  const labels = Float32Array.from({ length: pairs }, (_, i) => (i % 2 === 0 ? 1 : 0));
  return { model, images, labels, pairs, size: S, select: labelSelection(model, 2 * pairs, quads) };
}

/** Label-selected blocks: each image's selection row from its modality in `modalityImages` (image i is
 *  modality floor(i / n): 0 VIS, 1 NIR, 2 thermal, 3 sketch): N = 1 gates the non-VIS images (one
 *  modulator for the target modalities, VIS unchanged), N > 1 picks expert (modality mod N). Undefined
 *  for routed blocks. */
function labelSelection(model: HFRModel, images: number, n: number): Float32Array | undefined {
  if (model.config.selection !== 'label') return undefined;
  const N = model.config.numExperts;
  const sel = new Float32Array(images * N);
  for (let i = 0; i < images; i++) {
    const m = Math.floor(i / n);
    if (N === 1) sel[i] = m === 0 ? 0 : 1;
    else sel[i * N + (m % N)] = 1;
  }
  return sel;
}

export interface TfjsStep {
  loss: number;
  teacher: Float32Array; // [B,E]
  /** gradient per parameter (ssmb.<tap>.<key>); a parameter that got none (an unchosen expert) maps to zeros */
  grads: Map<string, Float32Array>;
  experts: Map<string, Int32Array>;
  /** min over samples of (top-1 - top-2 probability): how far each routing decision is from a tie */
  margin: number;
}

/** The trainer's SSMB step loss and its gradients by tfjs autodiff (teacher = the frozen backbone). */
export function tfjsStep(p: ParityModel, w: LossWeights): TfjsStep {
  const { model, images, labels, pairs: B, size: S } = p;
  const tv = tf.tidy(() => model.teacherForward(tf.tensor4d(images.subarray(0, B * S * S * 3), [B, S, S, 3]))); // [B,E]
  const vars = new Map([...model.params].filter(([k]) => k.startsWith('ssmb.')));
  const byEngineName = new Map([...vars].map(([k, v]) => [v.name, k]));
  const experts = new Map<string, Int32Array>();
  let margin = Infinity;
  const y = Array.from(labels);
  const select = p.select ? tf.tensor2d(p.select, [2 * B, p.select.length / (2 * B)]) : undefined; // [2B,N]
  const { value, grads } = tf.variableGrads(() => {
    const out = model.forward(tf.tensor4d(images, [2 * B, S, S, 3]), { select }); // [2B,E]
    for (const r of out.routings) {
      experts.set(r.tap, Int32Array.from(r.expert.dataSync()));
      const pr = r.probs.arraySync() as number[][];
      for (const row of pr) if (row.length > 1) { const [a, b] = [...row].sort((u, v) => v - u); margin = Math.min(margin, a - b); }
    }
    const sv = tf.slice(out.embedding, [0, 0], [B, -1]) as tf.Tensor2D;
    const st = tf.slice(out.embedding, [B, 0], [B, -1]) as tf.Tensor2D;
    const lcc = crossModalContrastiveLoss(sv, st, y, w.margin);
    const lts = teacherStudentLoss(sv, st, tv, y);
    const llb = loadBalancingLoss(out.routings);
    return tf.add(tf.add(lcc, tf.mul(lts, w.lambdaTs)), tf.mul(llb, w.alpha)) as tf.Scalar;
  }, [...vars.values()]);
  const named = new Map<string, Float32Array>();
  for (const [k, v] of vars) named.set(k, new Float32Array(v.size));
  for (const [n, g] of Object.entries(grads)) named.set(byEngineName.get(n)!, g.dataSync() as Float32Array);
  const result = { loss: value.dataSync()[0], teacher: tv.dataSync() as Float32Array, grads: named, experts, margin };
  tf.dispose([value, tv, ...Object.values(grads), ...(select ? [select] : [])]);
  return result;
}

/** Current SSMB parameter values by name (what the engine's step takes). */
export function ssmbParamValues(model: HFRModel): Map<string, Float32Array> {
  return new Map([...model.params].filter(([k]) => k.startsWith('ssmb.')).map(([k, v]) => [k, v.dataSync() as Float32Array]));
}
