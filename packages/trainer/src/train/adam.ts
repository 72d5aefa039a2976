// Adam (optionally with decoupled weight decay), written out so its whole state (t, m, v) can be
// checkpointed and restored exactly; bias corrections are computed from t in float64, never accumulated.
import { tf } from '@ssmb/core';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled (AdamW) weight decay, applied to variables whose name `decay(name)` accepts. */
  weightDecay?: number;
  decay?: (name: string) => boolean;
}

export interface AdamState {
  t: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

export class Adam {
  t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;

  constructor(
    readonly vars: Map<string, tf.Variable>,
    private readonly opts: AdamOptions = {},
  ) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    for (const [name, w] of vars) {
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
    }
  }

  /** One update with grads keyed like `vars`. */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    const wd = this.opts.weightDecay ?? 0;
    tf.tidy(() => {
      for (const [name, w] of this.vars) {
        const g = grads[name];
        if (!g) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.eps));
        let next = tf.sub(w, tf.mul(update, lr));
        if (wd > 0 && (this.opts.decay?.(name) ?? true)) next = tf.sub(next, tf.mul(w, lr * wd));
        w.assign(next);
      }
    });
  }

  state(): AdamState {
    const read = (src: Map<string, tf.Variable>) => new Map([...src].map(([k, t]) => [k, t.dataSync() as Float32Array]));
    return { t: this.t, m: read(this.m), v: read(this.v) };
  }

  load(s: AdamState): void {
    this.t = s.t;
    for (const [src, dst] of [[s.m, this.m], [s.v, this.v]] as const) {
      for (const [name, variable] of dst) {
        const data = src.get(name);
        if (!data || data.length !== variable.size) throw new Error(`Adam.load: optimiser state for ${name} is missing or has ${data?.length ?? 0} values, expected ${variable.size}`);
        tf.tidy(() => variable.assign(tf.tensor(data, variable.shape)));
      }
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
