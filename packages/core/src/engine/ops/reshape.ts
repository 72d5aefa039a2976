// Reshape (shape from a constant input; 0 copies the input dimension, -1 is inferred): dx = dy reshaped back.
import { reshape } from '../grad_util.ts';
import { attrInt, constInts, input, registerOp, sizeOf } from '../op_registry.ts';

registerOp({
  opType: 'Reshape',
  infer: (ctx) => {
    const x = input(ctx, 0);
    const target = constInts(ctx, 1, 'shape');
    const allowzero = attrInt(ctx.node, 'allowzero', 0) === 1;
    const shape = target.map((d, i) => (d === 0 && !allowzero ? x.shape[i] : d));
    const free = shape.indexOf(-1);
    if (free >= 0) {
      const known = sizeOf(shape.filter((_, i) => i !== free));
      shape[free] = sizeOf(x.shape) / known;
    }
    if (!Number.isInteger(shape[free] ?? 0) || sizeOf(shape) !== sizeOf(x.shape)) {
      throw new Error(`Reshape node ${ctx.node.name}: cannot reshape [${x.shape}] to [${target}]`);
    }
    return [{ shape, dtype: x.dtype }];
  },
  grad: (ctx) => [reshape(ctx.b, ctx.dy[0]!, input(ctx, 0).shape), null],
});
