// Axes of the Reduce* ops across opsets: an `axes` attribute (ReduceMean/ReduceSumSquare before opset 18)
// or a second input (ReduceSum from opset 13); empty axes reduce everything unless noop_with_empty_axes.
import { attrInt, attrInts, axisOf, constInts, input, type ShapeContext, type ValueType } from './op_registry.ts';

export interface ReduceSpec {
  axes: number[]; // normalised, sorted
  keepdims: boolean;
  /** the output shape with every reduced axis kept as 1 */
  kept: number[];
  out: ValueType;
}

export function reduceSpec(ctx: ShapeContext): ReduceSpec {
  const x = input(ctx, 0);
  const r = x.shape.length;
  let axes: number[] | undefined;
  if (ctx.node.attrs.axes !== undefined) axes = attrInts(ctx.node, 'axes');
  else if (ctx.node.inputs[1]) axes = constInts(ctx, 1, 'axes');
  if (!axes || axes.length === 0) {
    axes = attrInt(ctx.node, 'noop_with_empty_axes', 0) ? [] : x.shape.map((_, i) => i);
  }
  const norm = [...new Set(axes.map((a) => axisOf(ctx, a, r)))].sort((a, b) => a - b);
  const keepdims = attrInt(ctx.node, 'keepdims', 1) === 1;
  const kept = x.shape.map((d, i) => (norm.includes(i) ? 1 : d));
  const shape = keepdims ? kept : x.shape.filter((_, i) => !norm.includes(i));
  return { axes: norm, keepdims, kept, out: { shape, dtype: x.dtype } };
}
