// A rewrite of the engine's graphs for onnxruntime's WebGPU provider, which has no kernel for some ops the
// graph builders emit: onnxruntime then runs those nodes on its CPU provider, and each costs a copy from
// the device to the host and one back per step (measured on the IResNet-18 training graph before this
// pass: 35 Sum, 3 OneHot and 3 int64 Identity nodes of 729 placed on CPU). Each rewrite computes exactly
// the same values:
// - Sum(a, b, c, ...) -> Add(Add(a, b), c) ... (onnxruntime's CPU Sum adds its inputs in that order too);
// - OneHot(ArgMax(p, axis 1), depth N, values [0, 1]) of a [B,N] p -> the first maximum of each row of p,
//   in float ops: the provider runs int64 Equal, Unsqueeze and Cast on CPU;
// - OneHot of an int64 graph input (class labels) -> the input fed as float32, Equal against [0 .. N-1];
// - LogSoftmax -> x - max - log(sum(exp(x - max))) (the provider has no LogSoftmax kernel);
// - a graph output's Identity (onnxruntime's WebGPU Identity takes no int64) -> the producing node writes
//   the output name itself.
// The CPU provider keeps the graphs as built (their node choices were measured for its NCHWc layout).
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { ONNX_FLOAT, ONNX_INT64, type OnnxNode } from '../weights/onnx/onnx_proto.ts';

export interface WebGpuLowering {
  sum: number;
  oneHot: number;
  logSoftmax: number;
  outputIdentity: number;
  /** int64 graph inputs turned float32 (class indices < 2^24: exact) for a OneHot of them */
  floatInputs: string[];
}

const FLOAT_TYPE = 1; // TensorProto.FLOAT, Cast's `to`

/** Rewrites the builder's nodes in place (order kept); returns how many of each kind were rewritten. */
export function lowerForWebGpu(b: OnnxGraphBuilder): WebGpuLowering {
  const done: WebGpuLowering = { sum: 0, oneHot: 0, logSoftmax: 0, outputIdentity: 0, floatInputs: [] };
  const producer = new Map<string, OnnxNode>();
  for (const n of b.nodes) for (const o of n.outputs) producer.set(o, n);
  const out: OnnxNode[] = [];
  const orphans: string[] = []; // constants only a rewritten node read
  for (const node of b.nodes) {
    if (node.opType === 'Sum' && node.inputs.length >= 2) {
      let acc = node.inputs[0];
      node.inputs.slice(1).forEach((v, i) => {
        const last = i === node.inputs.length - 2;
        const o = last ? node.outputs[0] : b.fresh(`${node.name}_add`);
        out.push({ name: `${node.name}_add${i}`, opType: 'Add', domain: '', inputs: [acc, v], outputs: [o], attrs: {} });
        acc = o;
      });
      done.sum++;
      continue;
    }
    const probs = node.opType === 'OneHot' ? argMaxRows(b, node, producer) : undefined;
    if (probs !== undefined) {
      // the rows' maxima (ReduceMax returns one of the values, so Equal is exact), then the first of them
      // (CumSum = 1 there), as ArgMax picks the first of equal values
      const n = `${node.name}`;
      const max = b.fresh(`${n}_max`), eq = b.fresh(`${n}_eq`), hot = b.fresh(`${n}_maxima`), cum = b.fresh(`${n}_cumsum`), first = b.fresh(`${n}_first`), firstF = b.fresh(`${n}_firstf`);
      out.push({ name: `${n}_max`, opType: 'ReduceMax', domain: '', inputs: [probs], outputs: [max], attrs: { axes: [1], keepdims: 1 } });
      out.push({ name: `${n}_equal`, opType: 'Equal', domain: '', inputs: [probs, max], outputs: [eq], attrs: {} });
      out.push({ name: `${n}_cast`, opType: 'Cast', domain: '', inputs: [eq], outputs: [hot], attrs: { to: FLOAT_TYPE } });
      out.push({ name: `${n}_cumsum`, opType: 'CumSum', domain: '', inputs: [hot, b.int64('axis', [1], [])], outputs: [cum], attrs: {} });
      out.push({ name: `${n}_first`, opType: 'Equal', domain: '', inputs: [cum, b.scalar('one', 1)], outputs: [first], attrs: {} });
      out.push({ name: `${n}_firstf`, opType: 'Cast', domain: '', inputs: [first], outputs: [firstF], attrs: { to: FLOAT_TYPE } });
      out.push({ name: `${n}_mul`, opType: 'Mul', domain: '', inputs: [hot, firstF], outputs: [node.outputs[0]], attrs: {} });
      orphans.push(node.inputs[1], node.inputs[2]);
      done.oneHot++;
      continue;
    }
    const input = node.opType === 'OneHot' ? oneHotOfInput(b, node) : undefined;
    if (input) {
      // class indices fed as float32: Equal(Unsqueeze(i, -1), [0 .. N-1]) in float
      input.elemType = ONNX_FLOAT;
      const n = node.name, idx = b.fresh(`${n}_idx`), eq = b.fresh(`${n}_eq`);
      const depth = Number((b.initializers.get(node.inputs[1])!.data as BigInt64Array)[0]);
      out.push({ name: `${n}_unsqueeze`, opType: 'Unsqueeze', domain: '', inputs: [input.name, b.int64('axes', [-1])], outputs: [idx], attrs: {} });
      out.push({ name: `${n}_equal`, opType: 'Equal', domain: '', inputs: [idx, b.constant('classes', [depth], Float32Array.from({ length: depth }, (_, k) => k))], outputs: [eq], attrs: {} });
      out.push({ name: `${n}_cast`, opType: 'Cast', domain: '', inputs: [eq], outputs: [node.outputs[0]], attrs: { to: FLOAT_TYPE } });
      orphans.push(node.inputs[1], node.inputs[2]);
      done.oneHot++;
      done.floatInputs.push(input.name);
      continue;
    }
    if (node.opType === 'LogSoftmax') {
      // x - max - log(sum(exp(x - max))) along the axis, as onnxruntime's CPU kernel computes it
      const n = node.name, axes = b.int64('axes', [Number(node.attrs.axis ?? -1)]);
      const max = b.fresh(`${n}_max`), shifted = b.fresh(`${n}_shifted`), exp = b.fresh(`${n}_exp`), sum = b.fresh(`${n}_sum`), log = b.fresh(`${n}_log`);
      out.push({ name: `${n}_max`, opType: 'ReduceMax', domain: '', inputs: [node.inputs[0]], outputs: [max], attrs: { axes: [Number(node.attrs.axis ?? -1)], keepdims: 1 } });
      out.push({ name: `${n}_sub`, opType: 'Sub', domain: '', inputs: [node.inputs[0], max], outputs: [shifted], attrs: {} });
      out.push({ name: `${n}_exp`, opType: 'Exp', domain: '', inputs: [shifted], outputs: [exp], attrs: {} });
      out.push({ name: `${n}_sum`, opType: 'ReduceSum', domain: '', inputs: [exp, axes], outputs: [sum], attrs: { keepdims: 1 } });
      out.push({ name: `${n}_log`, opType: 'Log', domain: '', inputs: [sum], outputs: [log], attrs: {} });
      out.push({ name: `${n}_out`, opType: 'Sub', domain: '', inputs: [shifted, log], outputs: [node.outputs[0]], attrs: {} });
      done.logSoftmax++;
      continue;
    }
    out.push(node);
  }
  b.nodes.splice(0, b.nodes.length, ...out);
  const used = new Set(out.flatMap((n) => n.inputs));
  for (const name of orphans) if (!used.has(name)) b.initializers.delete(name);
  done.outputIdentity = renameOutputs(b);
  return done;
}

/** The [B,N] input of the ArgMax (axis 1, first index) whose result a OneHot (values [0, 1], last axis)
 *  encodes: the one-hot is then a function of that input alone; else undefined. The builders' one-hots
 *  have depth N = the ArgMax input's width (the VJP's nodes have no type table to check it here; a
 *  mismatch would fail onnxruntime's shape inference when the session opens, not run). */
function argMaxRows(b: OnnxGraphBuilder, node: OnnxNode, producer: Map<string, OnnxNode>): string | undefined {
  const depth = b.initializers.get(node.inputs[1]), values = b.initializers.get(node.inputs[2]);
  const argMax = producer.get(node.inputs[0]);
  if ((node.attrs.axis ?? -1) !== -1 || depth?.dataType !== ONNX_INT64 || depth.data.length !== 1 || values?.dataType !== ONNX_FLOAT) return undefined;
  const v = values.data as Float32Array;
  if (v.length !== 2 || v[0] !== 0 || v[1] !== 1) return undefined;
  if (argMax?.opType !== 'ArgMax' || argMax.attrs.axis !== 1 || argMax.attrs.keepdims !== 0 || argMax.attrs.select_last_index) return undefined;
  return argMax.inputs[0];
}

/** The int64 graph input a OneHot (constant depth, values [0, 1], last axis) encodes, else undefined. */
function oneHotOfInput(b: OnnxGraphBuilder, node: OnnxNode) {
  const depth = b.initializers.get(node.inputs[1]), values = b.initializers.get(node.inputs[2]);
  const input = b.inputs.find((i) => i.name === node.inputs[0] && i.elemType === ONNX_INT64);
  if (!input || (node.attrs.axis ?? -1) !== -1 || depth?.dataType !== ONNX_INT64 || depth.data.length !== 1 || values?.dataType !== ONNX_FLOAT) return undefined;
  const v = values.data as Float32Array;
  // the input may feed nothing else: it changes type
  const readers = b.nodes.filter((n) => n.inputs.includes(input.name)).length;
  return v.length === 2 && v[0] === 0 && v[1] === 1 && readers === 1 ? input : undefined;
}

/** Drops each graph output's Identity whose input a node produces and nothing else outputs: the producer
 *  writes the output name, and the value's readers read it. */
function renameOutputs(b: OnnxGraphBuilder): number {
  const outputs = new Set(b.outputs.map((o) => o.name));
  const producer = new Map<string, OnnxNode>();
  for (const n of b.nodes) for (const o of n.outputs) producer.set(o, n);
  const renamed = new Map<string, string>();
  const keep: OnnxNode[] = [];
  for (const n of b.nodes) {
    const src = n.inputs[0];
    const free = n.opType === 'Identity' && outputs.has(n.outputs[0]) && producer.has(src) && !outputs.has(src) && !renamed.has(src);
    if (free) renamed.set(src, n.outputs[0]);
    else keep.push(n);
  }
  for (const n of keep) {
    n.outputs = n.outputs.map((o) => renamed.get(o) ?? o);
    n.inputs = n.inputs.map((i) => renamed.get(i) ?? i);
  }
  b.nodes.splice(0, b.nodes.length, ...keep);
  return renamed.size;
}
