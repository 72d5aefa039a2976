// Switch Style Modulation Block (docs/design.md#the-ssmb-block). For x [B,H,W,C]:
//   mu, sigma over H,W (eps 1e-5 inside the sqrt); style s = concat(mu, sigma) [B,2C]
//   p = softmax(r Wr + br) [B,N], r = s or mu (ssmb.routerInput), times U(1-e, 1+e) noise in training
//   top1: k = argmax p; g = p[k] (the gate carries the router's gradient); y = x + g E_k(x)
//   soft: y = x + sum_k p_k E_k(x)
//   E_k(x) = (x - mu) dgamma_k + dbeta_k [+ spatial_k((x - mu) / sigma)], with (dgamma_k, dbeta_k) and the
//   spatial branch defined by the expert kind (ssmb/experts/, a registry: style, style+spatial, affine, ...).
// Top-1 selection uses argMax + oneHot (TopK has no gradient). Each sample's expert parameters are
// oneHot @ stacked parameters: with exact 0/1 coefficients this is exactly expert k's, so only the chosen
// expert's parameters affect a sample, and only chosen experts receive gradient.
import { tf } from '../tf.ts';
import { tfSeed } from '../random_seed.ts';
import { modulate } from './modulate.ts';
import { instanceStats } from './instance_stats.ts';
import { expertParamSpecs, getExpertKind, type ExpertDims, type ExpertKindDef, type ExpertParamSpec } from './experts/index.ts';
import {
  checkRouterOptions, routerInputTf, routerInputWidth, routerJitterFactors, routerParams,
  type RouterInput, type RouterOptions, type RoutingMode, type UniformSource,
} from './router.ts';

export const SSMB_EPS = 1e-5;

/** A registered expert kind's name (listExpertKinds()). */
export type ExpertKind = string;

export interface SSMBConfig {
  channels: number; // C of the tapped feature map
  numExperts: number; // N >= 1; N = 1 is the un-routed single modulator (no router parameters)
  hidden?: number; // expert hidden width D; default max(16, C / 2); only for kinds with a hidden layer
  kind?: ExpertKind; // default 'style'
  seed?: number;
  routerInput?: RouterInput; // default 'style'
  routerJitter?: number; // default 0 (off)
  routing?: RoutingMode; // default 'top1'
  /** how each sample's expert is chosen: 'router' (default, learned), or 'label' = given by the caller per
   *  sample (ApplyOptions.select, from the modality label): no router parameters, top1 only */
  selection?: Selection;
}

export const SELECTIONS = ['router', 'label'] as const;
export type Selection = (typeof SELECTIONS)[number];

export interface ApplyOptions {
  /** training forward: the router input is jittered when routerJitter > 0 (evaluation never is) */
  training?: boolean;
  /** the seeded generator the jitter noise is drawn from (required when training with routerJitter > 0) */
  rng?: UniformSource;
  /** selection 'label': [B,N] 0/1 rows, one-hot (that expert at gate 1) or all zero (the block passes the
   *  sample unchanged: gate 0) */
  select?: tf.Tensor2D;
}

/** The routing decision of one block, an explicit value callers inspect (load balancing, routing tables).
 *  With soft routing every expert is applied with weight probs[b, k]; expert and gate still report the
 *  most probable expert and its probability. */
export interface Routing {
  probs: tf.Tensor2D; // [B,N] router softmax
  expert: tf.Tensor1D; // [B] int32 chosen (most probable) expert
  gate: tf.Tensor1D; // [B] probs[b, expert[b]]
}

export interface SSMBOutput {
  y: tf.Tensor4D;
  routing: Routing;
}

export function defaultHidden(channels: number): number {
  return Math.max(16, Math.floor(channels / 2));
}

/** Every parameter of a block (router first, then the kind's), in creation order. */
export function ssmbParamSpecs(kind: ExpertKindDef, dims: ExpertDims, routerInput: RouterInput, selection: Selection = 'router'): ExpertParamSpec[] {
  return [...(selection === 'router' ? routerParams(dims.channels, dims.numExperts, routerInput) : []), ...expertParamSpecs(kind, dims)];
}

/** Checks a block's selection (unknown values name the valid ones): label selection has no router, so
 *  its options must be the defaults, and it is top1 (the label picks one expert). */
export function checkSelection(selection: Selection | undefined, router: RouterOptions, what: string): Selection {
  const sel = selection ?? 'router';
  if (!(SELECTIONS as readonly string[]).includes(sel)) throw new Error(`${what}: selection must be one of ${SELECTIONS.join(', ')}, received ${JSON.stringify(sel)}`);
  if (sel === 'label' && (router.routing !== 'top1' || router.routerJitter !== 0)) {
    throw new Error(`${what}: selection 'label' takes the expert from the label (top1, no router jitter); received routing ${router.routing}, routerJitter ${router.routerJitter}`);
  }
  return sel;
}

/** Checks a label selection [B,N] against the batch (what a label-selected block needs). */
function checkSelect(select: tf.Tensor2D | undefined, B: number, N: number): tf.Tensor2D {
  if (!select) throw new Error(`SSMBBlock.apply: this block's expert is chosen by the label (selection 'label'); pass opts.select [${B},${N}]`);
  if (select.rank !== 2 || select.shape[0] !== B || select.shape[1] !== N) throw new Error(`SSMBBlock.apply: opts.select has shape [${select.shape}]; expected [${B},${N}] (one 0/1 row per sample)`);
  return select;
}

export class SSMBBlock {
  readonly channels: number; readonly numExperts: number; readonly hidden: number; readonly kind: ExpertKind;
  readonly expertKind: ExpertKindDef;
  readonly router: RouterOptions;
  readonly selection: Selection;
  /** What each parameter is (shape, init, owning expert), in creation order. */
  readonly paramSpecs: readonly ExpertParamSpec[];
  /** Parameter keys: router.weight [Din,N] (Din = 2C for routerInput style, C for mean), router.bias [N]
   *  (absent when N = 1), then the kind's (ssmb/experts/<kind>.ts), e.g. style: experts.fc1.weight
   *  [N,2C,D], experts.fc1.bias [N,D], experts.fc2.weight [N,D,2C], experts.fc2.bias [N,2C]. */
  readonly params = new Map<string, tf.Variable>();

  constructor(config: SSMBConfig) {
    const { channels: C, numExperts: N } = config;
    if (!Number.isInteger(C) || C < 1) throw new Error(`SSMBBlock: channels must be a positive integer, received ${C}`);
    if (!Number.isInteger(N) || N < 1) throw new Error(`SSMBBlock: numExperts must be an integer >= 1, received ${N}`);
    const kind = getExpertKind(config.kind ?? 'style', 'SSMBBlock kind');
    if (config.hidden !== undefined && !kind.usesHidden) {
      throw new Error(`SSMBBlock: hidden is ${config.hidden}, but expert kind "${kind.name}" has no hidden layer; leave it unset`);
    }
    const D = config.hidden ?? defaultHidden(C);
    if (!Number.isInteger(D) || D < 1) throw new Error(`SSMBBlock: hidden must be a positive integer, received ${D}`);
    this.router = checkRouterOptions({ routerInput: config.routerInput, routerJitter: config.routerJitter, routing: config.routing }, 'SSMBBlock');
    this.selection = checkSelection(config.selection, this.router, 'SSMBBlock');
    this.channels = C;
    this.numExperts = N;
    this.hidden = D;
    this.kind = kind.name;
    this.expertKind = kind;
    this.paramSpecs = ssmbParamSpecs(kind, { channels: C, numExperts: N, hidden: D }, this.router.routerInput, this.selection);
    // One seed per random tensor, in creation order (router, then the kind's): the same values as before
    // the registry for the kinds that existed then.
    let seed = (config.seed ?? 0) * 1009;
    for (const p of this.paramSpecs) {
      const t = p.init.type === 'zeros' ? tf.zeros(p.shape)
        : p.init.type === 'normal' ? tf.randomNormal(p.shape, 0, p.init.std, 'float32', tfSeed(seed++))
        : tf.randomUniform(p.shape, -p.init.bound, p.init.bound, 'float32', tfSeed(seed++));
      this.params.set(p.key, tf.variable(t, true));
      t.dispose();
    }
  }

  get dims(): ExpertDims {
    return { channels: this.channels, numExperts: this.numExperts, hidden: this.hidden };
  }

  get trainableVariables(): tf.Variable[] {
    return [...this.params.values()];
  }

  private p = (name: string): tf.Tensor => {
    const v = this.params.get(name);
    if (!v) throw new Error(`SSMBBlock (${this.kind}): no parameter '${name}'`);
    return v;
  };

  apply(x: tf.Tensor4D, opts: ApplyOptions = {}): SSMBOutput {
    if (x.rank !== 4) throw new Error(`SSMBBlock.apply: x must be rank 4 [B,H,W,C], received shape [${x.shape}]`);
    if (x.shape[3] !== this.channels) {
      throw new Error(`SSMBBlock.apply: x has ${x.shape[3]} channels (shape [${x.shape}]); expected ${this.channels}`);
    }
    const jitter = opts.training ? this.router.routerJitter : 0;
    if (jitter > 0 && !opts.rng) throw new Error(`SSMBBlock.apply: routerJitter is ${jitter} in training; pass opts.rng (the run's seeded generator)`);
    const [B, , , C] = x.shape;
    const N = this.numExperts;
    const kind = this.expertKind;
    // drawn outside tidy: one factor per router-input element, only when jittering (no draw otherwise)
    const din = routerInputWidth(this.router.routerInput, C);
    const noise = jitter > 0 && N > 1 ? routerJitterFactors(opts.rng!, jitter, B, din) : null;
    const select = this.selection === 'label' ? checkSelect(opts.select, B, N) : null;
    return tf.tidy(() => {
      // Full-size work is kept to pooled reductions and one fused affine (see modulate.ts / spatial_*.ts).
      const { mu: mean, variance } = instanceStats(x); // [B,1,1,C] each
      const sigma = tf.sqrt(tf.add(variance, SSMB_EPS)); // [B,1,1,C]
      const s = tf.concat([tf.reshape(mean, [B, C]), tf.reshape(sigma, [B, C])], 1) as tf.Tensor2D; // [B,2C]
      let r = routerInputTf(s, this.router.routerInput); // [B,Din]
      if (noise) r = tf.mul(r, tf.tensor2d(noise, [B, din])) as tf.Tensor2D; // Switch-style jitter, training only
      // label selection: the given rows are the probabilities and the one-hot (an all-zero row: gate 0)
      const probs: tf.Tensor2D = select ? tf.clone(select)
        : N > 1 ? tf.softmax(tf.add(tf.matMul(r, this.p('router.weight') as tf.Tensor2D), this.p('router.bias')) as tf.Tensor2D)
        : tf.ones([B, 1]); // [B,N]
      const expert = N > 1 ? (tf.argMax(probs, 1) as tf.Tensor1D) : (tf.zeros([B], 'int32') as tf.Tensor1D); // [B]
      const onehot = (select ? select : N > 1 ? tf.oneHot(expert, N, 1, 0, 'float32') : tf.ones([B, 1])) as tf.Tensor2D; // [B,N]
      const gate = tf.sum(tf.mul(probs, onehot), 1) as tf.Tensor1D; // [B]
      const modulation = (sel: tf.Tensor2D) => kind.modulation({ s, sel, dims: this.dims, param: this.p }); // [B,2C]
      const soft = this.router.routing === 'soft';
      // top1: g E_k with the routed one-hot; soft: sum_k p_k E_k with each expert's constant one-hot (with
      // N = 1 both are p_0 = g = 1 times the same expert computation, so they agree exactly)
      const weightOf = (k: number) => tf.slice(probs, [0, k], [B, 1]); // [B,1]
      const selectOf = (k: number) => (N > 1 ? tf.oneHot(tf.fill([B], k, 'int32') as tf.Tensor1D, N, 1, 0, 'float32') : tf.ones([B, 1])) as tf.Tensor2D;
      const g4 = tf.reshape(gate, [B, 1, 1, 1]);
      let a: tf.Tensor4D, c: tf.Tensor4D; // g dgamma, g dbeta [B,1,1,C]
      if (!soft) {
        const mod = modulation(onehot); // [B,2C]
        a = tf.mul(g4, tf.reshape(tf.slice(mod, [0, 0], [B, C]), [B, 1, 1, C]));
        c = tf.mul(g4, tf.reshape(tf.slice(mod, [0, C], [B, C]), [B, 1, 1, C]));
      } else {
        const mod = tf.addN(Array.from({ length: N }, (_, k) => tf.mul(weightOf(k), modulation(selectOf(k))))); // [B,2C]
        a = tf.reshape(tf.slice(mod, [0, 0], [B, C]), [B, 1, 1, C]);
        c = tf.reshape(tf.slice(mod, [0, C], [B, C]), [B, 1, 1, C]);
      }
      // x + ((x - mu) a + c) rearranged as x (1 + a) + (c - mu a): two full-size ops instead of five.
      let y = modulate(x, a, tf.sub(c, tf.mul(mean, a)) as tf.Tensor4D); // [B,H,W,C]
      if (kind.spatial) {
        const inv = tf.reciprocal(sigma); // (x - mu) / sigma = x (1 + (1/sigma - 1)) - mu/sigma
        const xn = modulate(x, tf.sub(inv, 1) as tf.Tensor4D, tf.neg(tf.mul(mean, inv)) as tf.Tensor4D); // [B,H,W,C]
        const branch = soft
          ? tf.addN(Array.from({ length: N }, (_, k) => tf.mul(tf.reshape(weightOf(k), [B, 1, 1, 1]), kind.spatial!.apply(xn, k, this.p)))) // every expert on every sample
          : tf.mul(g4, this.spatialTop1(xn, expert.dataSync()));
        y = tf.add(y, branch) as tf.Tensor4D;
      }
      return { y, routing: { probs, expert, gate } };
    });
  }

  /** Top-1 spatial branch: each expert run only on the samples routed to it, results put back in order. */
  private spatialTop1(xn: tf.Tensor4D, experts: ArrayLike<number>): tf.Tensor4D {
    const B = xn.shape[0];
    const samples = tf.split(xn, B, 0); // B x [1,H,W,C]
    const out: tf.Tensor[] = new Array(B);
    for (let k = 0; k < this.numExperts; k++) {
      const idx = Array.from(experts, (e, b) => (e === k ? b : -1)).filter((b) => b >= 0);
      if (!idx.length) continue;
      const n = idx.length;
      const grp = idx.length === B ? xn : (tf.concat(idx.map((b) => samples[b]), 0) as tf.Tensor4D); // [n,H,W,C]
      const res = this.expertKind.spatial!.apply(grp, k, this.p); // [n,H,W,C]
      const parts = n === 1 ? [res] : tf.split(res, n, 0);
      idx.forEach((b, i) => (out[b] = parts[i]));
    }
    return (B === 1 ? out[0] : tf.concat(out, 0)) as tf.Tensor4D;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}
