// Switch Style Modulation Block (docs/design.md#the-ssmb-block). For x [B,H,W,C]:
//   mu, sigma over H,W (eps 1e-5 inside the sqrt); style s = concat(mu, sigma) [B,2C]
//   p = softmax(s Wr + br) [B,N]; k = argmax p; g = p[k] (the gate carries the router's gradient)
//   (dgamma, dbeta) = MLP_k(s): 2C -> D (ReLU) -> 2C, last layer zero-initialised (block starts as identity)
//   y = x + g * ((x - mu) * dgamma + dbeta)            ['style+spatial' adds + pw_k(dw_k((x - mu) / sigma))]
// Top-1 selection uses argMax + oneHot (TopK has no gradient). Each sample's expert weights are
// oneHot @ stacked weights: with exact 0/1 coefficients this is exactly W_k, so only the chosen expert's
// parameters affect a sample, and only chosen experts receive gradient.
import { tf } from '../tf.ts';
import { tfSeed } from '../random_seed.ts';
import { modulate } from './modulate.ts';
import { instanceStats } from './instance_stats.ts';

export const SSMB_EPS = 1e-5;

export type ExpertKind = 'style' | 'style+spatial';
export const EXPERT_KINDS: readonly ExpertKind[] = ['style', 'style+spatial'];

export interface SSMBConfig {
  channels: number; // C of the tapped feature map
  numExperts: number; // N >= 1; N = 1 is the un-routed single modulator (no router parameters)
  hidden?: number; // expert hidden width D; default max(16, C / 2)
  kind?: ExpertKind; // default 'style'
  seed?: number;
}

/** The routing decision of one block, an explicit value callers inspect (load balancing, routing tables). */
export interface Routing {
  probs: tf.Tensor2D; // [B,N] router softmax
  expert: tf.Tensor1D; // [B] int32 chosen expert
  gate: tf.Tensor1D; // [B] probs[b, expert[b]]
}

export interface SSMBOutput {
  y: tf.Tensor4D;
  routing: Routing;
}

export function defaultHidden(channels: number): number {
  return Math.max(16, Math.floor(channels / 2));
}

export class SSMBBlock {
  readonly channels: number; readonly numExperts: number; readonly hidden: number; readonly kind: ExpertKind;
  /** Parameter keys: router.weight [2C,N], router.bias [N], experts.fc1.weight [N,2C,D], experts.fc1.bias [N,D],
   *  experts.fc2.weight [N,D,2C], experts.fc2.bias [N,2C]; spatial: experts.<k>.dw.weight [3,3,C],
   *  experts.<k>.pw.weight [C,C] (separate per expert: each runs only on its own samples). */
  readonly params = new Map<string, tf.Variable>();

  constructor(config: SSMBConfig) {
    const { channels: C, numExperts: N } = config;
    if (!Number.isInteger(C) || C < 1) throw new Error(`SSMBBlock: channels must be a positive integer, received ${C}`);
    if (!Number.isInteger(N) || N < 1) throw new Error(`SSMBBlock: numExperts must be an integer >= 1, received ${N}`);
    const D = config.hidden ?? defaultHidden(C);
    if (!Number.isInteger(D) || D < 1) throw new Error(`SSMBBlock: hidden must be a positive integer, received ${D}`);
    const kind = config.kind ?? 'style';
    if (!EXPERT_KINDS.includes(kind)) throw new Error(`SSMBBlock: kind must be one of ${EXPERT_KINDS.join(', ')}, received "${kind}"`);
    this.channels = C;
    this.numExperts = N;
    this.hidden = D;
    this.kind = kind;
    let seed = (config.seed ?? 0) * 1009;
    const add = (name: string, t: tf.Tensor) => {
      this.params.set(name, tf.variable(t, true));
      t.dispose();
    };
    const uniform = (shape: number[], fanIn: number) => tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), 'float32', tfSeed(seed++));
    if (N > 1) {
      add('router.weight', uniform([2 * C, N], 2 * C));
      add('router.bias', tf.zeros([N]));
    }
    add('experts.fc1.weight', tf.randomNormal([N, 2 * C, D], 0, Math.sqrt(2 / (2 * C)), 'float32', tfSeed(seed++))); // He
    add('experts.fc1.bias', tf.zeros([N, D]));
    add('experts.fc2.weight', tf.zeros([N, D, 2 * C])); // zero-init: every block starts as the identity
    add('experts.fc2.bias', tf.zeros([N, 2 * C]));
    if (kind === 'style+spatial') {
      for (let k = 0; k < N; k++) {
        // depthwise random, pointwise zero: the branch starts at 0 and both layers still receive gradient.
        add(`experts.${k}.dw.weight`, tf.randomNormal([3, 3, C], 0, Math.sqrt(2 / 9), 'float32', tfSeed(seed++)));
        add(`experts.${k}.pw.weight`, tf.zeros([C, C]));
      }
    }
  }

  get trainableVariables(): tf.Variable[] {
    return [...this.params.values()];
  }

  private p(name: string): tf.Tensor {
    return this.params.get(name)!;
  }

  apply(x: tf.Tensor4D): SSMBOutput {
    if (x.rank !== 4) throw new Error(`SSMBBlock.apply: x must be rank 4 [B,H,W,C], received shape [${x.shape}]`);
    if (x.shape[3] !== this.channels) {
      throw new Error(`SSMBBlock.apply: x has ${x.shape[3]} channels (shape [${x.shape}]); expected ${this.channels}`);
    }
    const [B, , , C] = x.shape;
    const N = this.numExperts, D = this.hidden;
    return tf.tidy(() => {
      // Full-size work is kept to pooled reductions and one fused affine (see modulate.ts / spatial_*.ts).
      const { mu: mean, variance } = instanceStats(x); // [B,1,1,C] each
      const sigma = tf.sqrt(tf.add(variance, SSMB_EPS)); // [B,1,1,C]
      const s = tf.concat([tf.reshape(mean, [B, C]), tf.reshape(sigma, [B, C])], 1) as tf.Tensor2D; // [B,2C]
      const probs: tf.Tensor2D = N > 1
        ? tf.softmax(tf.add(tf.matMul(s, this.p('router.weight') as tf.Tensor2D), this.p('router.bias')) as tf.Tensor2D)
        : tf.ones([B, 1]); // [B,N]
      const expert = N > 1 ? (tf.argMax(probs, 1) as tf.Tensor1D) : (tf.zeros([B], 'int32') as tf.Tensor1D); // [B]
      const onehot = (N > 1 ? tf.oneHot(expert, N, 1, 0, 'float32') : tf.ones([B, 1])) as tf.Tensor2D; // [B,N]
      const gate = tf.sum(tf.mul(probs, onehot), 1) as tf.Tensor1D; // [B]
      const pick = (name: string, rows: number, cols: number) => // per-sample W_k = onehot @ stacked: [B,rows,cols]
        tf.reshape(tf.matMul(onehot, tf.reshape(this.p(name), [N, rows * cols])), [B, rows, cols]) as tf.Tensor3D;
      const h = tf.relu(tf.add(
        tf.reshape(tf.matMul(tf.reshape(s, [B, 1, 2 * C]), pick('experts.fc1.weight', 2 * C, D)), [B, D]),
        tf.matMul(onehot, this.p('experts.fc1.bias') as tf.Tensor2D))); // [B,D]
      const mod = tf.add(
        tf.reshape(tf.matMul(tf.reshape(h, [B, 1, D]), pick('experts.fc2.weight', D, 2 * C)), [B, 2 * C]),
        tf.matMul(onehot, this.p('experts.fc2.bias') as tf.Tensor2D)); // [B,2C]
      const g4 = tf.reshape(gate, [B, 1, 1, 1]);
      const a = <tf.Tensor4D>tf.mul(g4, tf.reshape(tf.slice(mod, [0, 0], [B, C]), [B, 1, 1, C])); // g*dgamma [B,1,1,C]
      const c = tf.mul(g4, tf.reshape(tf.slice(mod, [0, C], [B, C]), [B, 1, 1, C])); // g*dbeta  [B,1,1,C]
      // x + g((x - mu) dgamma + dbeta) rearranged as x (1 + a) + (c - mu a): two full-size ops instead of five.
      let y = modulate(x, a, tf.sub(c, tf.mul(mean, a)) as tf.Tensor4D); // [B,H,W,C]
      if (this.kind === 'style+spatial') {
        const inv = tf.reciprocal(sigma); // (x - mu) / sigma = x (1 + (1/sigma - 1)) - mu/sigma
        const xn = modulate(x, tf.sub(inv, 1) as tf.Tensor4D, tf.neg(tf.mul(mean, inv)) as tf.Tensor4D); // [B,H,W,C]
        y = tf.add(y, tf.mul(g4, this.spatial(xn, expert.dataSync()))) as tf.Tensor4D;
      }
      return { y, routing: { probs, expert, gate } };
    });
  }

  /** Per-expert depthwise 3x3 (as 9 shifted multiply-adds: wasm has no depthwise gradient kernels) then
   *  pointwise 1x1 (a matmul), each expert run only on the samples routed to it. */
  private spatial(xn: tf.Tensor4D, experts: ArrayLike<number>): tf.Tensor4D {
    const [B, H, W, C] = xn.shape;
    const samples = tf.split(xn, B, 0); // B x [1,H,W,C]
    const out: tf.Tensor[] = new Array(B);
    for (let k = 0; k < this.numExperts; k++) {
      const idx = Array.from(experts, (e, b) => (e === k ? b : -1)).filter((b) => b >= 0);
      if (!idx.length) continue;
      const n = idx.length;
      const grp = idx.length === B ? xn : tf.concat(idx.map((b) => samples[b]), 0); // [n,H,W,C]
      const padded = tf.pad(grp, [[0, 0], [1, 1], [1, 1], [0, 0]]);
      const dw = this.p(`experts.${k}.dw.weight`); // [3,3,C]
      let acc: tf.Tensor | undefined;
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          const term = tf.mul(tf.slice(padded, [0, i, j, 0], [n, H, W, C]), tf.reshape(tf.slice(dw, [i, j, 0], [1, 1, C]), [C]));
          acc = acc ? tf.add(acc, term) : term;
        }
      }
      const pw = tf.reshape(tf.matMul(tf.reshape(acc!, [n * H * W, C]), this.p(`experts.${k}.pw.weight`) as tf.Tensor2D), [n, H, W, C]);
      const parts = n === 1 ? [pw] : tf.split(pw, n, 0);
      idx.forEach((b, i) => (out[b] = parts[i]));
    }
    return (B === 1 ? out[0] : tf.concat(out, 0)) as tf.Tensor4D;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}
