// Plain-JS transcriptions of docs/design.md#the-ssmb-block, sample by sample, for the tests of the expert kinds
// and the block. Every registered kind must have an entry here (the block's property test checks it), so
// a new kind comes with an independent statement of what it computes.
import { tf } from '../../tf.ts';
import { SSMB_EPS, type SSMBBlock } from '../ssmb_block.ts';
import ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../../weights/onnx/onnx_graph_builder.ts';
import { encodeOnnxModel } from '../../weights/onnx/onnx_proto.ts';
import type { ExpertDims, ExpertKindDef } from '../expert_kind.ts';

type Params = (key: string) => unknown;

export interface KindReference {
  /** expert k's (dgamma, dbeta) for style s = [mu; sigma] (2C values) */
  modulation(P: Params, s: number[], k: number, C: number): number[];
  /** expert k has the depthwise 3x3 + pointwise 1x1 branch on (x - mu) / sigma */
  spatial: boolean;
}

function styleMlp(P: Params, s: number[], k: number, C: number): number[] {
  const w1 = (P('experts.fc1.weight') as number[][][])[k], b1 = (P('experts.fc1.bias') as number[][])[k];
  const w2 = (P('experts.fc2.weight') as number[][][])[k], b2 = (P('experts.fc2.bias') as number[][])[k];
  const hid = b1.map((bb, d) => Math.max(0, bb + s.reduce((a, sv, i) => a + sv * w1[i][d], 0)));
  return Array.from({ length: 2 * C }, (_, o) => b2[o] + hid.reduce((a, hv, d) => a + hv * w2[d][o], 0));
}

function affine(P: Params, _s: number[], k: number): number[] {
  return [...(P('experts.dgamma') as number[][])[k], ...(P('experts.dbeta') as number[][])[k]];
}

export const KIND_REFERENCES: Record<string, KindReference> = {
  style: { modulation: styleMlp, spatial: false },
  'style+spatial': { modulation: styleMlp, spatial: true },
  affine: { modulation: affine, spatial: false },
  'affine+spatial': { modulation: affine, spatial: true },
};

/** Expert k's spatial branch pw_k(dw_k(xn)) at every position, xn(h, w, c) zero outside the map. */
export function spatialReference(P: Params, k: number, xn: (h: number, w: number, c: number) => number, H: number, W: number, C: number): number[][][] {
  const dw = P(`experts.${k}.dw.weight`) as number[][][], pw = P(`experts.${k}.pw.weight`) as number[][];
  const at = (h: number, w: number, c: number) => (h < 0 || w < 0 || h >= H || w >= W ? 0 : xn(h, w, c));
  return Array.from({ length: H }, (_, h) => Array.from({ length: W }, (_, w) => {
    const d = Array.from({ length: C }, (_, c) => {
      let acc = 0;
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) acc += at(h + i - 1, w + j - 1, c) * dw[i][j][c];
      return acc;
    });
    return Array.from({ length: C }, (_, o) => d.reduce((a, dv, c) => a + dv * pw[c][o], 0));
  }));
}

export interface BlockReference { y: Float32Array; expert: number[]; gate: number[]; probs: number[][] }

/** The whole block: router (input style or mean, no jitter), top1 or soft, the kind's expert. */
export function blockReference(block: SSMBBlock, x: tf.Tensor4D): BlockReference {
  const ref = KIND_REFERENCES[block.kind];
  if (!ref) throw new Error(`no plain-JS reference for expert kind ${block.kind}`);
  const [B, H, W, C] = x.shape;
  const xv = x.arraySync() as number[][][][];
  const cache = new Map<string, unknown>();
  const P: Params = (n) => {
    if (!cache.has(n)) cache.set(n, block.params.get(n)!.arraySync());
    return cache.get(n);
  };
  const N = block.numExperts;
  const y = new Float32Array(x.size);
  const experts: number[] = [], gates: number[] = [], allProbs: number[][] = [];
  for (let b = 0; b < B; b++) {
    const mu = new Array(C).fill(0), va = new Array(C).fill(0);
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) mu[c] += xv[b][h][w][c] / (H * W);
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) va[c] += (xv[b][h][w][c] - mu[c]) ** 2 / (H * W);
    const sigma = va.map((v) => Math.sqrt(v + SSMB_EPS));
    const s = [...mu, ...sigma];
    const r = block.router.routerInput === 'style' ? s : mu;
    let probs = [1];
    if (N > 1) {
      const wr = P('router.weight') as number[][], br = P('router.bias') as number[];
      const logits = br.map((bb, n) => bb + r.reduce((acc, sv, i) => acc + sv * wr[i][n], 0));
      const mx = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - mx));
      probs = e.map((v) => v / e.reduce((a, q) => a + q, 0));
    }
    const k = probs.indexOf(Math.max(...probs));
    const weights = block.router.routing === 'soft' ? probs : probs.map((p, i) => (i === k ? p : 0));
    const xn = (h: number, w: number, c: number) => (xv[b][h][w][c] - mu[c]) / sigma[c];
    const inner = new Float64Array(H * W * C);
    weights.forEach((wk, e) => {
      if (wk === 0) return;
      const mod = ref.modulation(P, s, e, C);
      const sp = ref.spatial ? spatialReference(P, e, xn, H, W, C) : undefined;
      for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) {
        inner[(h * W + w) * C + c] += wk * ((xv[b][h][w][c] - mu[c]) * mod[c] + mod[C + c] + (sp ? sp[h][w][c] : 0));
      }
    });
    for (let i = 0; i < H * W * C; i++) y[b * H * W * C + i] = xv[b][Math.floor(i / (W * C))][Math.floor(i / C) % W][i % C] + inner[i];
    experts.push(k); gates.push(probs[k]); allProbs.push(probs);
  }
  return { y, expert: experts, gate: gates, probs: allProbs };
}

/** Gives every zero-initialised parameter and the router seeded random values, so the block does something. */
export function activate(block: SSMBBlock, seed = 3, std = 0.5): void {
  let i = 0;
  for (const spec of block.paramSpecs) {
    if (spec.init.type === 'zeros' || spec.expert === 'router') {
      const v = block.params.get(spec.key)!;
      v.assign(tf.tidy(() => tf.randomNormal(v.shape, 0, std, 'float32', seed + i++)));
    }
  }
}

/** [B,H,W,C] with per-sample scale and shift, so samples have different styles and route differently. */
export function styledInput(B: number, H: number, W: number, C: number, seed = 1): tf.Tensor4D {
  return tf.tidy(() => tf.add(tf.mul(tf.randomNormal([B, H, W, C], 0, 1, 'float32', seed), tf.randomUniform([B, 1, 1, C], 0.2, 3, 'float32', seed + 1)),
    tf.randomUniform([B, 1, 1, C], -2, 2, 'float32', seed + 2))) as tf.Tensor4D;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// ---- ONNX: a kind's emission run by onnxruntime on the same inputs as its tfjs forward ----------------


/** Seeded parameters for every spec of a kind (zero-initialised ones too, so every parameter matters). */
export function randomKindParams(def: ExpertKindDef, dims: ExpertDims, seed = 1): Map<string, tf.Tensor> {
  return new Map(def.params(dims).map((p, i) => [p.key, tf.randomNormal(p.shape, 0, 0.5, 'float32', seed + i)]));
}

/** One-hot rows [B,N] picking expert (b mod N) for sample b. */
export function cyclingSelection(B: number, N: number): tf.Tensor2D {
  if (N === 1) return tf.ones([B, 1]); // tf.oneHot needs depth >= 2
  return tf.oneHot(tf.tensor1d(Array.from({ length: B }, (_, b) => b % N), 'int32'), N, 1, 0, 'float32') as tf.Tensor2D;
}

/** The kind's emitModulation with parameters as initializers, run on s [B,2C] and sel [B,N]: [B,2C]. */
export async function onnxModulation(def: ExpertKindDef, dims: ExpertDims, params: Map<string, tf.Tensor>, s: tf.Tensor2D, sel: tf.Tensor2D): Promise<Float32Array> {
  const b = new OnnxGraphBuilder();
  const sIn = b.input('s', [s.shape[0], 2 * dims.channels]);
  const selIn = b.input('sel', [sel.shape[0], dims.numExperts]);
  const param = (key: string) => {
    const t = params.get(key);
    if (!t) throw new Error(`no test value for ${key}`);
    return b.weight(`p.${key}`, t.shape, t.dataSync() as Float32Array);
  };
  const out = def.emitModulation({ b, s: sIn, sel: selIn, dims, param, hint: 'test' });
  b.output(out, 'mod', [s.shape[0], 2 * dims.channels]);
  const session = await ort.InferenceSession.create(encodeOnnxModel(b.toModel({ graphName: def.name })));
  const r = await session.run({ s: new ort.Tensor('float32', s.dataSync() as Float32Array, s.shape), sel: new ort.Tensor('float32', sel.dataSync() as Float32Array, sel.shape) });
  return r.mod.data as Float32Array;
}

/** The spatial branch's emit for expert k on NCHW xn, run by onnxruntime: returns NHWC [B,H,W,C]. */
export async function onnxSpatial(def: ExpertKindDef, dims: ExpertDims, params: Map<string, tf.Tensor>, xn: tf.Tensor4D, k: number): Promise<Float32Array> {
  const [B, H, W, C] = xn.shape;
  const b = new OnnxGraphBuilder();
  const xIn = b.input('xn', [B, C, H, W]);
  const param = (key: string) => b.weight(`p.${key}`, params.get(key)!.shape, params.get(key)!.dataSync() as Float32Array);
  b.output(def.spatial!.emit(b, xIn, k, dims, param, 'test'), 'out', [B, C, H, W]);
  const session = await ort.InferenceSession.create(encodeOnnxModel(b.toModel({ graphName: def.name })));
  const nchw = tf.tidy(() => tf.transpose(xn, [0, 3, 1, 2]).dataSync() as Float32Array);
  const r = await session.run({ xn: new ort.Tensor('float32', nchw, [B, C, H, W]) });
  return tf.tidy(() => tf.transpose(tf.tensor4d(r.out.data as Float32Array, [B, C, H, W]), [0, 2, 3, 1]).dataSync() as Float32Array);
}

/** The checks every kind's own test file runs on its modulation (and spatial branch): the plain-JS
 *  reference, zero output at initialisation (the block starts as the identity), ONNX = tfjs. */
export async function checkKind(def: ExpertKindDef, dims: ExpertDims): Promise<void> {
  const { channels: C, numExperts: N } = dims;
  const ref = KIND_REFERENCES[def.name];
  if (!ref) throw new Error(`no plain-JS reference for expert kind ${def.name}`);
  const B = 7;
  const s = tf.tidy(() => tf.concat([tf.randomNormal([B, C], 0, 1, 'float32', 3), tf.randomUniform([B, C], 0.2, 2, 'float32', 4)], 1)) as tf.Tensor2D;
  const sel = cyclingSelection(B, N);
  const params = randomKindParams(def, dims, 11);
  const param = (k: string) => params.get(k)!;
  const mod = def.modulation({ s, sel, dims, param });
  if (mod.shape.join() !== [B, 2 * C].join()) throw new Error(`${def.name}: modulation shape [${mod.shape}], expected [${B},${2 * C}]`);
  const arrays = new Map([...params].map(([k, v]) => [k, v.arraySync()]));
  const sv = s.arraySync();
  const expected = sv.flatMap((row, b) => ref.modulation((k) => arrays.get(k), row, b % N, C));
  const got = mod.dataSync();
  const diff = maxAbsDiff(got, expected);
  if (!(diff < 1e-4)) throw new Error(`${def.name}: modulation differs from the plain-JS reference by ${diff}`);
  // ONNX emission on the same inputs
  const onnx = await onnxModulation(def, dims, params, s, sel);
  const od = maxAbsDiff(onnx, got);
  if (!(od < 1e-5)) throw new Error(`${def.name}: ONNX modulation differs from tfjs by ${od}`);
  // initial parameters: the modulation (and the spatial branch) is exactly zero
  const init = new Map(def.params(dims).map((p) => [p.key, p.init.type === 'zeros' ? tf.zeros(p.shape) : tf.randomNormal(p.shape, 0, 1, 'float32', 5)]));
  const mod0 = def.modulation({ s, sel, dims, param: (k) => init.get(k)! });
  if (mod0.dataSync().some((v) => v !== 0)) throw new Error(`${def.name}: modulation at initialisation is not exactly zero`);
  if (Boolean(def.spatial) !== ref.spatial) throw new Error(`${def.name}: spatial branch ${Boolean(def.spatial)}, reference says ${ref.spatial}`);
  if (def.spatial) {
    const H = 5, W = 4;
    const xn = tf.randomNormal([B, H, W, C], 0, 1, 'float32', 6) as tf.Tensor4D;
    const xv = xn.arraySync() as number[][][][];
    for (let k = 0; k < N; k++) {
      const out = def.spatial.apply(xn, k, param);
      const expect = xv.flatMap((_, b) => spatialReference((key) => arrays.get(key), k, (h, w, c) => xv[b][h][w][c], H, W, C).flat(2));
      const d = maxAbsDiff(out.dataSync(), expect);
      if (!(d < 1e-4)) throw new Error(`${def.name}: spatial branch of expert ${k} differs from the plain-JS reference by ${d}`);
      const o = await onnxSpatial(def, dims, params, xn, k);
      const e = maxAbsDiff(o, out.dataSync());
      if (!(e < 1e-4)) throw new Error(`${def.name}: ONNX spatial branch of expert ${k} differs from tfjs by ${e}`);
      const zero = def.spatial.apply(xn, k, (key) => init.get(key)!);
      if (zero.dataSync().some((v) => v !== 0)) throw new Error(`${def.name}: spatial branch at initialisation is not exactly zero`);
      tf.dispose([out, zero]);
    }
    xn.dispose();
  }
  tf.dispose([s, sel, mod, mod0, ...params.values(), ...init.values()]);
}
