// Flatten (axis, default 1): [d0..dn] -> [prod(d0..d(axis-1)), prod(rest)]; dx = dy reshaped back.
import { reshape } from '../grad_util.ts';
import { attrInt, input, registerOp, sizeOf } from '../op_registry.ts';

registerOp({
  opType: 'Flatten',
  infer: (ctx) => {
    const x = input(ctx, 0);
    const r = x.shape.length;
    let axis = attrInt(ctx.node, 'axis', 1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis > r) throw new Error(`Flatten node ${ctx.node.name}: axis ${axis} is outside rank ${r}`);
    return [{ shape: [sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis))], dtype: x.dtype }];
  },
  grad: (ctx) => [reshape(ctx.b, ctx.dy[0]!, input(ctx, 0).shape)],
});
