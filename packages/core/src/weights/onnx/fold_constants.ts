// Constant folding for import: torch.onnx.export(..., do_constant_folding=False) leaves parameters behind
// small ops on initializers (PRelu's slope as Unsqueeze(prelu.weight, [1, 2]), Identity copies, Cast,
// Reshape), so the graph mapper would find a node output where it expects stored weights. Nodes of the
// shape-only ops below whose inputs are all constants are evaluated here and replaced by initializers;
// initializers nobody reads any more are dropped. Values are unchanged: these ops only move, reshape or
// convert numbers.
import { ONNX_FLOAT, ONNX_INT32, ONNX_INT64, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx_proto.ts';

/** The ops folded (a Constant node's value is already an initializer after decoding). */
export const FOLDABLE_OPS = ['Identity', 'Unsqueeze', 'Squeeze', 'Reshape', 'Flatten', 'Cast'] as const;

const ONNX_DOUBLE = 11;

function ints(t: OnnxTensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/** Output dims of a shape-only op, or null when it cannot be folded (unknown attribute form). */
function foldedDims(n: OnnxNode, x: OnnxTensor, inputs: (OnnxTensor | undefined)[], opset: number): number[] | null {
  // axes: an input from opset 13, an attribute before; absent = every size-1 axis (Squeeze only)
  const rawAxes = n.inputs[1] ? (inputs[1] ? ints(inputs[1]) : null) : Array.isArray(n.attrs.axes) ? (n.attrs.axes as number[]) : [];
  const axesOf = (rank: number): number[] | null => (rawAxes === null ? null : rawAxes.map((a) => (a < 0 ? a + rank : a)));
  void opset;
  switch (n.opType) {
    case 'Identity':
    case 'Cast':
      return x.dims;
    case 'Unsqueeze': {
      const axes = axesOf(x.dims.length + (rawAxes?.length ?? 0)); // negative axes count in the output rank
      if (!axes || axes.length === 0) return null;
      const out = [...x.dims];
      for (const a of [...axes].sort((p, q) => p - q)) out.splice(a, 0, 1);
      return out;
    }
    case 'Squeeze': {
      const axes = axesOf(x.dims.length);
      if (!axes) return null;
      return axes.length === 0 ? x.dims.filter((d) => d !== 1) : x.dims.filter((_, i) => !axes.includes(i));
    }
    case 'Reshape': {
      if (!inputs[1]) return null;
      const allowZero = n.attrs.allowzero === 1;
      const target = ints(inputs[1]).map((d, i) => (d === 0 && !allowZero ? x.dims[i] : d));
      const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      const out = target.map((d) => (d === -1 ? size(x.dims) / known : d));
      return size(out) === size(x.dims) ? out : null;
    }
    case 'Flatten': {
      const axis = ((n.attrs.axis as number | undefined) ?? 1) < 0 ? ((n.attrs.axis as number) + x.dims.length) : ((n.attrs.axis as number | undefined) ?? 1);
      return [size(x.dims.slice(0, axis)), size(x.dims.slice(axis))];
    }
    default:
      return null;
  }
}

function cast(x: OnnxTensor, to: number): OnnxTensor['data'] | null {
  const values = Array.from(x.data as ArrayLike<number | bigint>, (v) => Number(v));
  if (to === ONNX_FLOAT || to === ONNX_DOUBLE) return Float32Array.from(values);
  if (to === ONNX_INT32) return Int32Array.from(values, Math.trunc);
  if (to === ONNX_INT64) return BigInt64Array.from(values, (v) => BigInt(Math.trunc(v)));
  return null;
}

export interface FoldReport {
  /** nodes replaced by initializers, by op type */
  folded: Record<string, number>;
  /** initializers no node reads any more (their folded copies are used instead) */
  dropped: string[];
}

/**
 * A copy of the model with constant shape-only nodes evaluated. A folded tensor keeps the name of the
 * initializer it came from in `source`, so the mapper still checks insightface names.
 */
export function foldConstants(model: OnnxModel): { model: OnnxModel; report: FoldReport } {
  const g = model.graph;
  const opset = model.opset.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 13;
  const inits = new Map(g.initializers);
  const outputs = new Set(g.outputs.map((o) => o.name));
  const folded: Record<string, number> = {};
  const nodes: OnnxNode[] = [];
  const foldedInputs = new Set<string>();
  for (const n of g.nodes) {
    const x = inits.get(n.inputs[0] ?? '');
    const foldable = (FOLDABLE_OPS as readonly string[]).includes(n.opType) && x && n.outputs.length === 1 && !outputs.has(n.outputs[0])
      && n.inputs.slice(1).every((i) => !i || inits.has(i));
    const dims = foldable ? foldedDims(n, x, n.inputs.map((i) => inits.get(i)), opset) : null;
    const data = foldable && dims ? (n.opType === 'Cast' ? cast(x, Number(n.attrs.to)) : x.data) : null;
    if (!foldable || !dims || !data) {
      nodes.push(n);
      continue;
    }
    const dataType = n.opType === 'Cast' ? (Number(n.attrs.to) === ONNX_DOUBLE ? ONNX_FLOAT : Number(n.attrs.to)) : x.dataType;
    inits.set(n.outputs[0], { name: n.outputs[0], dims, dataType, data, source: x.source ?? x.name });
    for (const i of n.inputs) if (i) foldedInputs.add(i);
    folded[n.opType] = (folded[n.opType] ?? 0) + 1;
  }
  // Drop what only folded nodes read (copies live on under the node outputs); an initializer that no
  // node ever read stays, so the mapper still reports it as an unknown tensor.
  const read = new Set(nodes.flatMap((n) => n.inputs));
  const dropped: string[] = [];
  for (const name of foldedInputs) {
    if (!read.has(name) && !outputs.has(name) && inits.delete(name) && g.initializers.has(name)) dropped.push(name);
  }
  return { model: { ...model, graph: { ...g, nodes, initializers: inits } }, report: { folded, dropped } };
}
