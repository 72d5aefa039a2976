// Add (broadcasting): dA = dy, dB = dy, each summed back over the axes broadcasting expanded.
import { elementwiseType, reduceTo } from '../grad_util.ts';
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Add',
  infer: (ctx) => [elementwiseType(ctx)],
  grad: (ctx) => {
    const y = ctx.outputs[0].shape;
    return [0, 1].map((i) => (ctx.needs[i] ? reduceTo(ctx.b, ctx.dy[0]!, y, input(ctx, i).shape) : null));
  },
});
