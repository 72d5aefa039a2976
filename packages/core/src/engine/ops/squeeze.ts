// Squeeze (opset 13: axes as an optional constant input; none = every size-1 axis): dx = dy reshaped back.
import { reshape } from '../grad_util.ts';
import { axisOf, constInts, input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Squeeze',
  infer: (ctx) => {
    const x = input(ctx, 0);
    const r = x.shape.length;
    const axes = ctx.node.inputs[1] ? constInts(ctx, 1, 'axes').map((a) => axisOf(ctx, a, r)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    for (const a of axes) if (x.shape[a] !== 1) throw new Error(`Squeeze node ${ctx.node.name}: axis ${a} of [${x.shape}] is not 1`);
    return [{ shape: x.shape.filter((_, i) => !axes.includes(i)), dtype: x.dtype }];
  },
  grad: (ctx) => [reshape(ctx.b, ctx.dy[0]!, input(ctx, 0).shape), ...ctx.node.inputs.slice(1).map(() => null)],
});
