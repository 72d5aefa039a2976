// OneHot(indices, depth, [off, on]): a selector built from integer indices; its output is a constant of
// the routing decision (no gradient), and multiplying by it (MatMul, Mul) is how the engine picks an
// expert's weights, so their gradients are matmuls too.
import { attrInt, constInts, input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'OneHot',
  nonDifferentiable: true,
  infer: (ctx) => {
    const idx = input(ctx, 0);
    const depth = constInts(ctx, 1, 'depth')[0];
    const values = input(ctx, 2);
    const r = idx.shape.length + 1;
    let axis = attrInt(ctx.node, 'axis', -1);
    if (axis < 0) axis += r;
    const shape = [...idx.shape];
    shape.splice(axis, 0, depth);
    return [{ shape, dtype: values.dtype }];
  },
});
