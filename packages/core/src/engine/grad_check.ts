// Finite-difference check of the op table's gradients (used by the tests beside every op file).
// A small graph is built, its VJP derived with deriveVjp, and onnxruntime computes the analytic gradient
// of L = sum_k <seed_k, y_k> (random seeds); central differences of L, evaluated in float64 from the
// forward graph's float32 outputs, give the reference. Inputs should keep away from kinks (Relu at 0).
import './ort_env.ts'; // before onnxruntime-node: telemetry off
import ort from 'onnxruntime-node';
import { mulberry32 } from '../rng.ts';
import { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { encodeOnnxModel, ONNX_INT64 } from '../weights/onnx/onnx_proto.ts';
import type { VjpOptions } from './op_registry.ts';
import { deriveVjp, inferTypes } from './vjp.ts';

export interface GradInput {
  name: string;
  shape: number[];
  /** default: seeded normal values */
  data?: Float32Array | BigInt64Array;
  /** an initializer instead of a graph input (a frozen weight; constant-filter code paths) */
  constant?: boolean;
  /** differentiate with respect to it (default: true for float inputs that are not constants) */
  wrt?: boolean;
}

export interface GradCase {
  inputs: GradInput[];
  /** builds the op(s) under test on the named inputs; returns the outputs to differentiate */
  build(b: OnnxGraphBuilder, v: Record<string, string>): string | string[];
  options?: Partial<VjpOptions>;
}

export interface GradCheckResult {
  /** per wrt input: max |analytic - numeric| / max |numeric| over the checked elements */
  errors: Record<string, number>;
  maxError: number;
  checked: number;
}

export function normalData(n: number, seed: number, scale = 1): Float32Array {
  const u = mulberry32(seed);
  return Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u()));
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

export async function gradCheck(c: GradCase, opts: { h?: number; maxElements?: number; seed?: number } = {}): Promise<GradCheckResult> {
  const h = opts.h ?? 1e-2;
  const maxElements = opts.maxElements ?? 64;
  const seed = opts.seed ?? 3;
  const b = new OnnxGraphBuilder();
  const names: Record<string, string> = {};
  const data = new Map<string, Float32Array | BigInt64Array>();
  c.inputs.forEach((inp, k) => {
    const d = inp.data ?? normalData(size(inp.shape), seed * 101 + k);
    data.set(inp.name, d);
    if (inp.constant) {
      if (!(d instanceof Float32Array)) b.initializers.set(inp.name, { name: inp.name, dims: inp.shape, dataType: ONNX_INT64, data: d });
      else b.weight(inp.name, inp.shape, d);
      names[inp.name] = inp.name;
    } else {
      names[inp.name] = b.input(inp.name, inp.shape, d instanceof BigInt64Array ? ONNX_INT64 : 1);
    }
  });
  const built = c.build(b, names);
  const outs = Array.isArray(built) ? built : [built];
  const types = inferTypes(b);
  outs.forEach((o, k) => b.output(o, `y${k}`, types.get(o)!.shape));
  const forwardBytes = encodeOnnxModel(b.toModel({ graphName: 'forward' }));
  const seeds = outs.map((o, k) => ({ value: o, grad: b.input(`seed${k}`, types.get(o)!.shape), data: normalData(size(types.get(o)!.shape), seed * 7 + k) }));
  const wrt = c.inputs.filter((i) => (i.wrt ?? (!i.constant && !(data.get(i.name) instanceof BigInt64Array)))).map((i) => i.name);
  const vjp = deriveVjp(b, { wrt, seeds: seeds.map((s) => ({ value: s.value, grad: s.grad })), options: c.options });
  for (const w of wrt) b.output(vjp.grads.get(w)!, `grad_${w}`, types.get(w)!.shape);
  const fullBytes = encodeOnnxModel(b.toModel({ graphName: 'vjp' }));

  const sessionOpts = { graphOptimizationLevel: 'all' as const, intraOpNumThreads: 1, logSeverityLevel: 3 as const };
  const fwd = await ort.InferenceSession.create(forwardBytes, sessionOpts);
  const full = await ort.InferenceSession.create(fullBytes, sessionOpts);
  const tensorOf = (name: string, d: Float32Array | BigInt64Array) => {
    const shape = c.inputs.find((i) => i.name === name)!.shape;
    return d instanceof BigInt64Array ? new ort.Tensor('int64', d, shape) : new ort.Tensor('float32', d, shape);
  };
  const feeds = (override?: [string, Float32Array]) => {
    const f: Record<string, ort.Tensor> = {};
    for (const inp of c.inputs) if (!inp.constant) f[inp.name] = tensorOf(inp.name, override && override[0] === inp.name ? override[1] : data.get(inp.name)!);
    return f;
  };
  const fullFeeds = feeds();
  seeds.forEach((s, k) => (fullFeeds[`seed${k}`] = new ort.Tensor('float32', s.data, types.get(s.value)!.shape)));
  const r = await full.run(fullFeeds);
  const loss = async (override: [string, Float32Array]) => {
    const y = await fwd.run(feeds(override));
    let l = 0;
    seeds.forEach((s, k) => { const v = y[`y${k}`].data as Float32Array; for (let i = 0; i < v.length; i++) l += s.data[i] * v[i]; });
    return l;
  };
  const errors: Record<string, number> = {};
  let checked = 0;
  const pick = mulberry32(seed + 99);
  for (const w of wrt) {
    const base = data.get(w) as Float32Array;
    const ana = r[`grad_${w}`].data as Float32Array;
    if (ana.length !== base.length) throw new Error(`gradCheck: grad of ${w} has ${ana.length} values, expected ${base.length}`);
    const idx = base.length <= maxElements ? base.map((_, i) => i) : Array.from({ length: maxElements }, () => Math.floor(pick() * base.length));
    let maxDiff = 0, maxRef = 0;
    for (const i of idx) {
      const plus = base.slice(); plus[i] += h;
      const minus = base.slice(); minus[i] -= h;
      const num = ((await loss([w, plus])) - (await loss([w, minus]))) / (2 * h);
      maxDiff = Math.max(maxDiff, Math.abs(num - ana[i]));
      maxRef = Math.max(maxRef, Math.abs(num));
      checked++;
    }
    errors[w] = maxDiff / Math.max(maxRef, 1e-6);
  }
  await fwd.release();
  await full.release();
  return { errors, maxError: Math.max(0, ...Object.values(errors)), checked };
}
