// The engine's op table (the tfjs gradient-registry pattern, for ONNX graphs): one file per op under
// ops/ registers how its output shapes follow from its inputs and, for differentiable ops, its
// vector-Jacobian product written as more ONNX nodes. deriveVjp (vjp.ts) walks a forward graph
// backwards and asks this table for every node on the way; it never contains per-model backward code.
// Selectors (ArgMax, OneHot, comparisons) are registered as non-differentiable: no gradient flows
// through them, by definition rather than by omission.
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import type { OnnxAttrValue, OnnxNode, OnnxTensor } from '../weights/onnx/onnx_proto.ts';

export type DType = 'float32' | 'int64' | 'int32' | 'bool';

/** The static type of a value: the engine builds its gradient graphs for concrete shapes. */
export interface ValueType {
  shape: number[];
  dtype: DType;
}

export interface ShapeContext {
  node: OnnxNode;
  /** input types in node order; null for an omitted optional input ('') */
  inputs: (ValueType | null)[];
  /** the data of input i when it is a constant (initializer), else undefined */
  constant(i: number): OnnxTensor | undefined;
}

/** Gradient strategies a caller may choose; every op reads only the fields it needs. */
export interface VjpOptions {
  /** input gradient of a strided convolution: ConvTranspose, or stride-1 sub-pixel convolutions + DepthToSpace */
  stridedConv: 'convtranspose' | 'subpixel';
}

// ConvTranspose: measured in the whole IResNet-18 training step (batch 16, 2 threads) ~6% less CPU than the
// sub-pixel form, whose DepthToSpace interleave of the full-size gradient costs more than it saves
export const DEFAULT_VJP_OPTIONS: VjpOptions = { stridedConv: 'convtranspose' };

export interface GradContext extends ShapeContext {
  b: OnnxGraphBuilder;
  outputs: ValueType[];
  /** cotangent of each output (same shape as the output), null when no gradient reaches it */
  dy: (string | null)[];
  /** which inputs need a gradient (they depend on a value we differentiate with respect to) */
  needs: boolean[];
  options: VjpOptions;
}

export interface OpDef {
  opType: string;
  infer(ctx: ShapeContext): ValueType[];
  /** Returns one gradient value per input (null where not needed), each of exactly that input's shape. */
  grad?(ctx: GradContext): (string | null)[];
  /** Selector/comparison: outputs carry no gradient (ArgMax, OneHot, Shape, Greater...). */
  nonDifferentiable?: boolean;
  /** Differentiable in principle but without a VJP in the engine, and why (shapes only, e.g. a pool that
   *  precedes every tap); deriveVjp names the op and this reason if a gradient must cross it. */
  noGradient?: string;
}

const table = new Map<string, OpDef>();

export function registerOp(def: OpDef): void {
  if (table.has(def.opType)) throw new Error(`registerOp: op '${def.opType}' is already registered`);
  const kinds = [Boolean(def.grad), Boolean(def.nonDifferentiable), Boolean(def.noGradient)].filter(Boolean).length;
  if (kinds !== 1) throw new Error(`registerOp: op '${def.opType}' must have exactly one of grad, nonDifferentiable, noGradient (a reason)`);
  table.set(def.opType, def);
}

export function getOp(opType: string): OpDef | undefined {
  return table.get(opType);
}

/** Registered op types, sorted; `differentiable` filters to those with a gradient. */
export function listOps(filter: { differentiable?: boolean } = {}): string[] {
  return [...table.values()].filter((d) => filter.differentiable === undefined || Boolean(d.grad) === filter.differentiable).map((d) => d.opType).sort();
}

// ---- attribute helpers (ONNX defaults applied where the spec gives one) ---------------------------

export function attrInt(node: OnnxNode, name: string, dflt?: number): number {
  const v: OnnxAttrValue | undefined = node.attrs[name];
  if (v === undefined) {
    if (dflt === undefined) throw new Error(`${node.opType} node ${node.name}: attribute '${name}' is required`);
    return dflt;
  }
  if (typeof v !== 'number') throw new Error(`${node.opType} node ${node.name}: attribute '${name}' is ${JSON.stringify(v)}; expected a number`);
  return v;
}

export function attrInts(node: OnnxNode, name: string, dflt?: number[]): number[] {
  const v = node.attrs[name];
  if (v === undefined) {
    if (dflt === undefined) throw new Error(`${node.opType} node ${node.name}: attribute '${name}' is required`);
    return dflt;
  }
  if (!Array.isArray(v)) throw new Error(`${node.opType} node ${node.name}: attribute '${name}' is ${JSON.stringify(v)}; expected a list of numbers`);
  return v;
}

export function attrString(node: OnnxNode, name: string, dflt: string): string {
  const v = node.attrs[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw new Error(`${node.opType} node ${node.name}: attribute '${name}' is ${JSON.stringify(v)}; expected a string`);
  return v;
}

/** Integer values of constant input i (axes, shapes, split sizes, slice bounds); throws naming the node. */
export function constInts(ctx: ShapeContext, i: number, what: string): number[] {
  const t = ctx.constant(i);
  if (!t) throw new Error(`${ctx.node.opType} node ${ctx.node.name}: input ${i} (${what}) must be a constant initializer for the engine's static shapes; got value '${ctx.node.inputs[i]}'`);
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

export function input(ctx: ShapeContext, i: number): ValueType {
  const t = ctx.inputs[i];
  if (!t) throw new Error(`${ctx.node.opType} node ${ctx.node.name}: input ${i} is missing`);
  return t;
}

/** Normalises a possibly negative axis for rank r, naming the node when out of range. */
export function axisOf(ctx: ShapeContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${ctx.node.opType} node ${ctx.node.name}: axis ${axis} is outside rank ${rank}`);
  return a;
}

export const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
