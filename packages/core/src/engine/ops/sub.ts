// Sub (broadcasting): dA = dy, dB = -dy, each summed back to its input's shape.
import { elementwiseType, reduceTo } from '../grad_util.ts';
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Sub',
  infer: (ctx) => [elementwiseType(ctx)],
  grad: (ctx) => {
    const { b, dy, needs } = ctx;
    const y = ctx.outputs[0].shape;
    return [
      needs[0] ? reduceTo(b, dy[0]!, y, input(ctx, 0).shape) : null,
      needs[1] ? reduceTo(b, b.op1('Neg', [dy[0]!]), y, input(ctx, 1).shape) : null,
    ];
  },
});
