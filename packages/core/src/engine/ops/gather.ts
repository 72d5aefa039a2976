// Gather with constant indices (how a backbone's graph reorders channels, e.g. RGB -> BGR as
// Gather(x, [2,1,0], axis 1)): y = x[..., indices, ...] along `axis`. Gradient for indices that are a
// permutation of the axis (each input position read once): dx = Gather(dy, inverse permutation).
// Repeated or missing indices would need a scatter-add; they are named, not approximated.
import { attrInt, axisOf, constInts, input, registerOp, type ShapeContext } from '../op_registry.ts';

function geometry(ctx: ShapeContext) {
  const x = input(ctx, 0);
  const idx = input(ctx, 1);
  const axis = axisOf(ctx, attrInt(ctx.node, 'axis', 0), x.shape.length);
  return { x, idx, axis };
}

registerOp({
  opType: 'Gather',
  infer: (ctx) => {
    const { x, idx, axis } = geometry(ctx);
    if (idx.dtype !== 'int64' && idx.dtype !== 'int32') throw new Error(`Gather node ${ctx.node.name}: indices are ${idx.dtype}; expected int64 or int32`);
    return [{ shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], dtype: x.dtype }];
  },
  grad: (ctx) => {
    const { b, dy, node } = ctx;
    const { x, idx, axis } = geometry(ctx);
    const d = x.shape[axis];
    const indices = constInts(ctx, 1, 'indices').map((i) => (i < 0 ? i + d : i));
    const isPermutation = idx.shape.length === 1 && indices.length === d && new Set(indices).size === d && indices.every((i) => i >= 0 && i < d);
    if (!isPermutation) {
      throw new Error(`Gather node ${node.name}: indices [${indices}] along axis ${axis} (size ${d}); the engine differentiates Gather only for a permutation of the axis`);
    }
    const inverse = new Array<number>(d);
    indices.forEach((src, k) => (inverse[src] = k));
    return [b.op1('Gather', [dy[0]!, b.int64('inverse', inverse)], { axis }), null];
  },
});
