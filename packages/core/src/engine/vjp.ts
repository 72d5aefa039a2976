// Reverse-mode differentiation of an ONNX graph into more ONNX nodes (a vector-Jacobian product graph).
// deriveVjp appends, to the builder that holds the forward graph, the nodes computing
//   d<seeds . outputs>/d(wrt)
// for the requested values: static shapes of every forward value are inferred first (the op table's
// `infer`), then the nodes that lie between a `wrt` value and a seed are visited in reverse order and
// each asks the op table (op_registry.ts) for its vector-Jacobian product. Contributions to a value used
// twice are summed. Nothing here knows about backbones, SSMB blocks or losses: a new model trains on the
// engine when its ops are in the table, and an op that is not names itself.
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { ONNX_FLOAT, ONNX_INT32, ONNX_INT64, type OnnxNode, type OnnxTensor } from '../weights/onnx/onnx_proto.ts';
import { addAll, zerosOf } from './grad_util.ts';
import { DEFAULT_VJP_OPTIONS, getOp, listOps, type DType, type ValueType, type VjpOptions } from './op_registry.ts';
import './ops/index.ts';

const ELEM_DTYPES: Record<number, DType> = { [ONNX_FLOAT]: 'float32', [ONNX_INT64]: 'int64', [ONNX_INT32]: 'int32', 9: 'bool' };

function dtypeOf(elemType: number, what: string): DType {
  const d = ELEM_DTYPES[elemType];
  if (!d) throw new Error(`${what} has ONNX element type ${elemType}; the engine handles float32, int64, int32 and bool`);
  return d;
}

/** Static type of every value of the builder's graph (inputs, initializers, node outputs). */
export function inferTypes(b: OnnxGraphBuilder, opts: { symbolicDim?: number } = {}): Map<string, ValueType> {
  const types = new Map<string, ValueType>();
  for (const i of b.inputs) {
    // a symbolic dimension (an inference graph's 'batch') stands for opts.symbolicDim when the caller only
    // needs ranks and the other dimensions; the training engine itself needs concrete shapes
    const shape = (i.shape ?? []).map((d) => (typeof d === 'string' && opts.symbolicDim !== undefined ? opts.symbolicDim : d));
    if (shape.some((d) => typeof d !== 'number')) {
      throw new Error(`graph input '${i.name}' has shape [${shape}]; the training engine builds its graphs for concrete shapes (a fixed batch size)`);
    }
    types.set(i.name, { shape: shape as number[], dtype: dtypeOf(i.elemType, `graph input '${i.name}'`) });
  }
  for (const [name, t] of b.initializers) types.set(name, { shape: [...t.dims], dtype: dtypeOf(t.dataType, `initializer '${name}'`) });
  const constant = (node: OnnxNode) => (i: number): OnnxTensor | undefined => b.initializers.get(node.inputs[i]);
  for (const node of b.nodes) {
    const op = getOp(node.opType);
    if (!op) {
      throw new Error(`the engine cannot express op '${node.opType}' (node ${node.name}): it is not in the engine's op table; ` +
        `ops it knows: ${listOps().join(', ')}`);
    }
    const inputs = node.inputs.map((v, i) => {
      if (v === '') return null;
      const t = types.get(v);
      if (!t) throw new Error(`${node.opType} node ${node.name}: input ${i} '${v}' is not produced before it (graph not in topological order)`);
      return t;
    });
    const outs = op.infer({ node, inputs, constant: constant(node) });
    node.outputs.forEach((o, i) => { if (o !== '' && outs[i]) types.set(o, outs[i]); });
  }
  return types;
}

export interface VjpSeed {
  /** a forward value (usually a graph output: the loss, or the embedding) */
  value: string;
  /** its cotangent (a value of the same shape); omitted = ones (d value / d value for a scalar loss) */
  grad?: string;
}

export interface VjpRequest {
  /** values to differentiate with respect to (graph inputs such as SSMB parameters, or any forward value) */
  wrt: string[];
  seeds: VjpSeed[];
  options?: Partial<VjpOptions>;
}

export interface Vjp {
  /** wrt value -> its gradient value (zeros when no seed depends on it) */
  grads: Map<string, string>;
  /** static types of the forward values */
  types: Map<string, ValueType>;
  /** forward nodes the gradient passed through, and nodes appended */
  visited: number;
  appended: number;
}

export function deriveVjp(b: OnnxGraphBuilder, req: VjpRequest): Vjp {
  const options: VjpOptions = { ...DEFAULT_VJP_OPTIONS, ...req.options };
  const types = inferTypes(b);
  const forward = b.nodes.slice();
  const isFloat = (v: string) => types.get(v)?.dtype === 'float32';
  for (const w of req.wrt) {
    if (!types.has(w)) throw new Error(`deriveVjp: wrt value '${w}' is not in the graph`);
    if (!isFloat(w)) throw new Error(`deriveVjp: wrt value '${w}' is ${types.get(w)!.dtype}; only float32 values have gradients`);
  }
  if (req.seeds.length === 0) throw new Error('deriveVjp: no seeds; expected at least one output to differentiate');
  for (const s of req.seeds) {
    if (!types.has(s.value)) throw new Error(`deriveVjp: seed value '${s.value}' is not in the graph`);
    if (!isFloat(s.value)) throw new Error(`deriveVjp: seed value '${s.value}' is ${types.get(s.value)!.dtype}; expected a float32 value`);
  }

  // values that depend on a wrt value through differentiable ops
  const dep = new Set(req.wrt);
  for (const node of forward) {
    const op = getOp(node.opType)!;
    if (op.nonDifferentiable || !node.inputs.some((v) => dep.has(v))) continue;
    for (const o of node.outputs) if (o !== '' && isFloat(o)) dep.add(o);
  }
  // values some seed depends on
  const reach = new Set(req.seeds.map((s) => s.value));
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    if (node.outputs.some((o) => reach.has(o))) for (const v of node.inputs) if (v !== '') reach.add(v);
  }

  const contributions = new Map<string, string[]>();
  const contribute = (v: string, g: string) => {
    const list = contributions.get(v);
    if (list) list.push(g);
    else contributions.set(v, [g]);
  };
  for (const s of req.seeds) {
    const t = types.get(s.value)!;
    contribute(s.value, s.grad ?? b.constant('ones', t.shape, new Float32Array(t.shape.reduce((a, c) => a * c, 1)).fill(1)));
  }

  let visited = 0;
  const before = b.nodes.length;
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    const op = getOp(node.opType)!;
    if (op.nonDifferentiable) continue;
    const needs = node.inputs.map((v) => v !== '' && dep.has(v));
    if (!needs.some(Boolean) || !node.outputs.some((o) => reach.has(o) && dep.has(o))) continue;
    const dy = node.outputs.map((o) => {
      const list = contributions.get(o);
      return list && list.length ? addAll(b, list) : null;
    });
    if (dy.every((g) => g === null)) continue;
    if (!op.grad) {
      throw new Error(`the engine cannot differentiate op '${node.opType}' (node ${node.name}): it has no gradient in the engine's ` +
        `gradient table${op.noGradient ? ` (${op.noGradient})` : ''}, and it lies between the trained parameters and the loss; ` +
        `ops with gradients: ${listOps({ differentiable: true }).join(', ')}`);
    }
    const inputs = node.inputs.map((v) => (v === '' ? null : types.get(v)!));
    const outputs = node.outputs.map((o) => types.get(o)!);
    const grads = op.grad({ b, node, inputs, outputs, dy, needs, options, constant: (k) => b.initializers.get(node.inputs[k]) });
    if (grads.length !== node.inputs.length) {
      throw new Error(`gradient of ${node.opType} returned ${grads.length} values for ${node.inputs.length} inputs (node ${node.name})`);
    }
    grads.forEach((g, k) => { if (needs[k] && g) contribute(node.inputs[k], g); });
    visited++;
  }

  const grads = new Map<string, string>();
  for (const w of req.wrt) {
    const list = contributions.get(w);
    grads.set(w, list && list.length ? addAll(b, list) : zerosOf(b, types.get(w)!.shape));
  }
  return { grads, types, visited, appended: b.nodes.length - before };
}
