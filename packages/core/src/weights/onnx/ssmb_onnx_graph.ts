// Writes one SSMB block (docs/design.md#the-ssmb-block) as ONNX ops on an NCHW feature map x [B,C,H,W]:
//   mu, sigma over H,W -> s = [mu, sigma] -> r = s or mu (routerInput) -> p = softmax(r Wr + br)
//   top1: k = argmax p, g = p[k]; (dgamma, dbeta) of expert k; y = x + g ((x - mu) dgamma + dbeta [+ spatial_k])
//   soft: y = x + sum_k p_k ((x - mu) dgamma_k + dbeta_k [+ spatial_k])
// What an expert computes comes from the expert-kind registry (ssmb/experts/<kind>.ts: emitModulation and
// the optional spatial branch), the same definitions the tfjs block runs, so every registered kind exports
// as itself and an unknown kind is an error naming the registered ones (never exported as another kind).
// The same emitter serves export (parameters are initializers) and the onnxruntime training engine
// (parameters are graph inputs that Adam updates without rebuilding the session): the caller passes a
// parameter provider `(key, shape) => value name`, with our parameter keys and layouts (SSMBBlock.params,
// SSMBBlock.paramSpecs); layout changes are graph nodes, which onnxruntime folds away for initializers and
// differentiates for inputs.
// Written for onnxruntime's speed on the full-size map and for the engine's gradient table:
// - the expert pick is OneHot(k) @ W (tfjs's formulation: exact, only expert k's rows contribute), so
//   its gradients are matmuls; the gate is sum(p * OneHot(k)) so the router's gradient flows through p;
// - the variance is two-pass (mean of d^2, d = x - mu), as in tfjs, and the modulation is
//   Sum(x, d a, c) with a = g dgamma, c = g dbeta: two full-size ops, no cancellation (see below).
// A forward that is never differentiated (inference graphs, export) takes form 'inference': the same
// block with its modulation in two-input broadcasts, faster on onnxruntime (see SsmbEmitOptions).
import type { OnnxGraphBuilder } from './onnx_graph_builder.ts';
import { checkSelection, SSMB_EPS, ssmbParamSpecs, type ExpertKind, type Selection, type SSMBBlock } from '../../ssmb/ssmb_block.ts';
import { getExpertKind, type ExpertDims } from '../../ssmb/experts/index.ts';
import { checkRouterOptions, type RouterInput, type RoutingMode } from '../../ssmb/router.ts';

/** Returns the value that holds parameter `key` (our layout, `shape`). */
export type ParamProvider = (key: string, shape: number[]) => string;

export interface SsmbBlockSpec {
  tap: string;
  channels: number; // C
  numExperts: number; // N
  hidden: number; // D (kinds without a hidden layer ignore it)
  kind: ExpertKind; // a registered expert kind (listExpertKinds())
  spatial: number; // H = W of the tapped map (the mean of x^2 is a sum of squares / (H W))
  routerInput: RouterInput; // 'style' = [mu; sigma], 'mean' = mu
  routing: RoutingMode; // 'top1' | 'soft'
  /** 'label': the expert comes from SsmbEmitOptions.select, no router (absent = 'router') */
  selection?: Selection;
}

export interface SsmbBlockValues {
  y: string; // [B,C,H,W]
  expert: string; // int64 [B] (soft routing: the most probable expert)
  probs: string; // [B,N]
  gate: string; // [B,1] p of that expert
}

export function ssmbSpec(tap: string, block: SSMBBlock, spatial: number): SsmbBlockSpec {
  return {
    tap, channels: block.channels, numExperts: block.numExperts, hidden: block.hidden, kind: block.kind, spatial,
    routerInput: block.router.routerInput, routing: block.router.routing,
    ...(block.selection === 'label' ? { selection: block.selection } : {}),
  };
}

/** Our parameter keys and shapes of a block (SSMBBlock.params): the router's, then the kind's. An unknown
 *  kind or router option is an error naming the valid ones. */
export function ssmbParamShapes(spec: SsmbBlockSpec): Map<string, number[]> {
  const kind = getExpertKind(spec.kind, `SSMB block at ${spec.tap}`);
  const router = checkRouterOptions({ routerInput: spec.routerInput, routing: spec.routing }, `SSMB block at ${spec.tap}`);
  const dims: ExpertDims = { channels: spec.channels, numExperts: spec.numExperts, hidden: spec.hidden };
  const selection = checkSelection(spec.selection, { ...router, routerJitter: 0 }, `SSMB block at ${spec.tap}`);
  return new Map(ssmbParamSpecs(kind, dims, router.routerInput, selection).map((p) => [p.key, p.shape]));
}

/** Export: every parameter an initializer `ssmb.<tap>.<key>` holding the block's current values. */
export function initializerParams(b: OnnxGraphBuilder, tap: string, block: SSMBBlock): ParamProvider {
  return (key, shape) => {
    const v = block.params.get(key);
    if (!v) throw new Error(`SSMB export: block at ${tap} has no parameter '${key}'`);
    if (v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`SSMB export: ${tap} parameter '${key}' has shape [${v.shape}]; expected [${shape}]`);
    }
    return b.weight(`ssmb.${tap}.${key}`, shape, v.dataSync() as Float32Array);
  };
}

export interface SsmbEmitOptions {
  /**
   * 'gradient' (default): the form the engine's gradient table differentiates without cancellation:
   * y = Sum(x, d a, c).
   * 'inference': for a forward only: y = x (1 + a) + (c - mu a), a Mul and an Add that each broadcast one
   * [B,C,1,1] vector, in place of onnxruntime's slow 3-input broadcasting Sum. Its forward rounds like the
   * gradient form's; only its gradients would cancel (see below), and none is taken of it. Measured on
   * IResNet-18 (batch 16, 2 threads, blocks at stem/layer1/layer2, CPU time): 707 ms against 781 ms for
   * the gradient form, 641 ms without blocks.
   * (A one-pass variance, E[x^2] - mu^2, would save the d map too, about 20 ms more, but its cancellation
   * reaches the forward: it is not used.)
   */
  form?: 'gradient' | 'inference';
  /** selection 'label': the value [B,N] holding each sample's 0/1 selection row (one-hot, or all zero =
   *  the sample passes unchanged) */
  select?: string;
}

/** Emits the block on NCHW value `x`. */
export function emitSsmbBlock(b: OnnxGraphBuilder, spec: SsmbBlockSpec, x: string, param: ParamProvider, opts: SsmbEmitOptions = {}): SsmbBlockValues {
  const form = opts.form ?? 'gradient';
  if (form !== 'gradient' && form !== 'inference') throw new Error(`SSMB block at ${spec.tap}: form is '${String(form)}'; expected 'gradient' or 'inference'`);
  const { channels: C, numExperts: N, tap } = spec;
  if (!Number.isInteger(spec.spatial) || spec.spatial < 1) throw new Error(`SSMB block at ${tap}: spatial is ${spec.spatial}; expected the tapped map's side H = W`);
  const kind = getExpertKind(spec.kind, `SSMB block at ${tap}`); // never another kind's graph
  const shapes = ssmbParamShapes(spec);
  // the provider is asked once per key (soft routing reads every expert's parameters once per expert)
  const asked = new Map<string, string>();
  const p = (key: string) => {
    const shape = shapes.get(key);
    if (!shape) throw new Error(`SSMB block at ${tap} (${kind.name}): no parameter '${key}'; its parameters: ${[...shapes.keys()].join(', ')}`);
    if (!asked.has(key)) asked.set(key, param(key, shape));
    return asked.get(key)!;
  };
  const i64 = (hint: string, v: number[]) => b.int64(`${tap}_${hint}`, v);
  const dims: ExpertDims = { channels: C, numExperts: N, hidden: spec.hidden };

  const mu = b.op1('ReduceMean', [x], { axes: [2, 3], keepdims: 1 }); // [B,C,1,1]
  // two-pass variance, as tfjs computes it, in both forms: E[x^2] - mu^2 loses the variance to
  // cancellation wherever a channel's mean is large against its spread (measured: 0.7 relative error in
  // router gradients at layer3 of a random IResNet-18; in a forward, 1% in y on a channel of mean 300 and
  // spread 0.05, through the router's input sigma: ssmb_onnx_graph.test.ts)
  const d = b.op1('Sub', [x, mu]); // [B,C,H,W]
  const variance = b.op1('Mul', [b.op1('ReduceSumSquare', [d], { axes: [2, 3], keepdims: 1 }), b.scalar(`${tap}_inv_hw`, 1 / (spec.spatial * spec.spatial))]); // [B,C,1,1]
  const sigma = b.op1('Sqrt', [b.op1('Add', [variance, b.scalar(`${tap}_eps`, SSMB_EPS)])]); // [B,C,1,1]
  const mu2 = b.op1('Flatten', [mu], { axis: 1 }); // [B,C]
  const s = b.op1('Concat', [mu2, b.op1('Flatten', [sigma], { axis: 1 })], { axis: 1 }); // [B,2C]
  const r = spec.routerInput === 'style' ? s : mu2; // [B,Din]
  const din = spec.routerInput === 'style' ? 2 * C : C;
  // N = 1 has no router: a zero router gives softmax 1, expert 0 and gate 1, exactly as SSMBBlock.
  const label = spec.selection === 'label';
  if (label && !opts.select) throw new Error(`SSMB block at ${tap}: its expert is chosen by the label (selection 'label'); pass the selection value [B,${N}] (opts.select)`);
  if (!label && opts.select) throw new Error(`SSMB block at ${tap}: a selection value was given, but the block routes itself (selection 'router')`);
  // label selection: the given rows are the probabilities and the one-hot, as in SSMBBlock (an all-zero
  // row: gate 0)
  const routerProbs = () => {
    const routerW = N > 1 ? p('router.weight') : b.constant(`${tap}_router_w0`, [din, 1], new Float32Array(din));
    const routerB = N > 1 ? p('router.bias') : b.constant(`${tap}_router_b0`, [1], new Float32Array(1));
    return b.op1('Softmax', [b.op1('Gemm', [r, routerW, routerB])], { axis: 1 }); // [B,N]
  };
  const probs = label ? b.op1('Identity', [opts.select!]) : routerProbs(); // [B,N]
  const expert = b.op1('ArgMax', [probs], { axis: 1, keepdims: 0 }); // [B] int64
  const onehot = label ? opts.select! : b.op1('OneHot', [expert, b.int64(`${tap}_depth`, [N], []), b.constant(`${tap}_onehot_values`, [2], Float32Array.of(0, 1))], { axis: -1 }); // [B,N]
  const gate = b.op1('ReduceSum', [b.op1('Mul', [probs, onehot]), i64('axes', [1])], { keepdims: 1 }); // [B,1]
  const pOf = (k: number) => (N === 1 ? probs : b.op1('Slice', [probs, i64('starts', [k]), i64('ends', [k + 1]), i64('axes', [1])])); // [B,1]
  // (dgamma, dbeta) [B,2C] of the expert `sel` [B,N] selects for each sample: the kind's own emission
  const modulation = (sel: string) => kind.emitModulation({ b, s, sel, dims, param: p, hint: tap });
  const soft = spec.routing === 'soft';
  // soft: expert k on every sample, its selection an exact [B,N] one-hot row (0 * onehot + e_k: Expand is
  // not in the engine's gradient table, and a broadcast [1,N] row would change the kinds' matmul shapes)
  const selectOf = (k: number) => {
    if (N === 1) return onehot;
    const e = new Float32Array(N);
    e[k] = 1;
    return b.op1('Add', [b.op1('Mul', [onehot, b.scalar(`${tap}_zero`, 0)]), b.constant(`${tap}_select${k}`, [1, N], e)]); // [B,N]
  };
  let a2: string, c2: string; // g dgamma, g dbeta [B,C] (soft: sum_k p_k dgamma_k, sum_k p_k dbeta_k)
  if (!soft) {
    const [dgamma, dbeta] = b.op('Split', [modulation(onehot), i64('split', [C, C])], { axis: 1 }, 2); // [B,C] x2
    a2 = b.op1('Mul', [gate, dgamma]);
    c2 = b.op1('Mul', [gate, dbeta]);
  } else {
    const terms = Array.from({ length: N }, (_, k) => b.op1('Mul', [pOf(k), modulation(selectOf(k))])); // [B,2C] each
    [a2, c2] = b.op('Split', [terms.length === 1 ? terms[0] : b.op1('Sum', terms), i64('split', [C, C])], { axis: 1 }, 2);
  }
  const a4 = b.op1('Reshape', [a2, i64('shape', [0, C, 1, 1])]); // [B,C,1,1]
  const c4 = b.op1('Reshape', [c2, i64('shape', [0, C, 1, 1])]); // [B,C,1,1]
  // x + g((x - mu) dgamma + dbeta) = Sum(x, d a, c), d = x - mu: two full-size ops (Mul, and Sum
  // broadcasting c), and both gradients without cancellation: da = sum(dy d), dmu = -a sum(dy). (As
  // x (1 + a) + (c - mu a), da = sum(dy x) - mu sum(dy) cancels where a channel's mean is large against
  // its spread; as d (1 + a) + (mu + c), dmu = sum(dy) - (1 + a) sum(dy) cancels where a is small, and the
  // blocks upstream see it: measured 3e-4 at layer3 of IResNet-18 with a block at layer4.)
  // The inference form: x (1 + a) + (c - mu a), one Mul and one Add over the map, both per-(b,c) broadcasts.
  let y = form === 'gradient'
    ? b.op1('Sum', [x, b.op1('Mul', [d, a4]), c4]) // [B,C,H,W]
    : b.op1('Add', [b.op1('Mul', [x, b.op1('Add', [a4, b.scalar(`${tap}_one`, 1)])]), b.op1('Sub', [c4, b.op1('Mul', [mu, a4])])]); // [B,C,H,W]
  if (kind.spatial) {
    // every expert's branch on every sample (a static graph has no cheap per-sample dispatch), weighted by
    // its one-hot entry (top1, then the gate) or by p_k (soft): only the chosen expert contributes in top1
    const xn = b.op1('Div', [d, sigma]); // (x - mu) / sigma [B,C,H,W]
    const parts = Array.from({ length: N }, (_, k) => {
      const out = kind.spatial!.emit(b, xn, k, dims, p, tap); // [B,C,H,W]
      if (N === 1 && !soft) return out;
      const w = soft ? pOf(k) : b.op1('Slice', [onehot, i64('starts', [k]), i64('ends', [k + 1]), i64('axes', [1])]); // [B,1]
      return b.op1('Mul', [out, b.op1('Reshape', [w, i64('shape', [0, 1, 1, 1])])]);
    });
    let branch = parts.length === 1 ? parts[0] : b.op1('Sum', parts); // [B,C,H,W]
    if (!soft) branch = b.op1('Mul', [branch, b.op1('Reshape', [gate, i64('shape', [0, 1, 1, 1])])]);
    y = b.op1('Add', [y, branch]);
  }
  return { y, expert, probs, gate };
}
