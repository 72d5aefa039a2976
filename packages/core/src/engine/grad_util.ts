// Helpers shared by the op files: NumPy broadcasting of static shapes, and the two moves almost every
// gradient needs (sum a broadcast cotangent back to an input's shape; reshape to a known shape).
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import type { ShapeContext, ValueType } from './op_registry.ts';

/** Multidirectional (NumPy) broadcast of static shapes; throws naming the node on a mismatch. */
export function broadcastShapes(ctx: ShapeContext, shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] !== 1) throw new Error(`${ctx.node.opType} node ${ctx.node.name}: shapes ${shapes.map((x) => `[${x}]`).join(', ')} do not broadcast`);
      out[o] = d;
    }
  }
  return out;
}

/** Elementwise op type: broadcast shape, dtype of the first input. */
export function elementwiseType(ctx: ShapeContext): ValueType {
  const ins = ctx.inputs.filter((t): t is ValueType => t !== null);
  return { shape: broadcastShapes(ctx, ins.map((t) => t.shape)), dtype: ins[0].dtype };
}

/** Sums `g` (shape `from`) over the axes that broadcasting expanded, giving a value of shape `to`. */
export function reduceTo(b: OnnxGraphBuilder, g: string, from: number[], to: number[]): string {
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) {
    if (i < lead) axes.push(i);
    else if (to[i - lead] === 1 && from[i] !== 1) axes.push(i);
  }
  let out = g;
  if (axes.length) out = b.op1('ReduceSum', [out, b.int64('axes', axes)], { keepdims: 1 }); // rank of `from`, reduced axes 1
  if (lead > 0) out = reshape(b, out, to); // drop the leading broadcast axes
  return out;
}

export function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function reshape(b: OnnxGraphBuilder, v: string, shape: number[]): string {
  return b.op1('Reshape', [v, b.int64('shape', shape)]);
}

/** Transpose of the last two axes of a rank-r value. */
export function transposeLast2(b: OnnxGraphBuilder, v: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return b.op1('Transpose', [v], { perm });
}

/** Float zeros of `shape` without a large initializer. */
export function zerosOf(b: OnnxGraphBuilder, shape: number[]): string {
  return b.op1('ConstantOfShape', [b.int64('shape', shape)], { value: { name: '', dims: [1], dataType: 1, data: Float32Array.of(0) } });
}

/** `ys` summed (one node; Sum broadcasts), or the single value itself. */
export function addAll(b: OnnxGraphBuilder, ys: string[]): string {
  return ys.length === 1 ? ys[0] : b.op1('Sum', ys);
}

/** 1 where `cond` holds, else 0, as float (multiplying is cheaper than Where with a zeros tensor). */
export function maskOf(b: OnnxGraphBuilder, cond: string): string {
  return b.op1('Cast', [cond], { to: 1 });
}
