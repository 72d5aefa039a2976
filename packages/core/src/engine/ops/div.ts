// Div (broadcasting): y = A / B; dA = dy / B, dB = -dy * A / B^2 = -(dy / B) * y.
import { elementwiseType, reduceTo } from '../grad_util.ts';
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Div',
  infer: (ctx) => [elementwiseType(ctx)],
  grad: (ctx) => {
    const { b, dy, needs, node } = ctx;
    const y = ctx.outputs[0].shape;
    const dyOverB = b.op1('Div', [dy[0]!, node.inputs[1]]); // [y]
    return [
      needs[0] ? reduceTo(b, dyOverB, y, input(ctx, 0).shape) : null,
      needs[1] ? reduceTo(b, b.op1('Neg', [b.op1('Mul', [dyOverB, node.outputs[0]])]), y, input(ctx, 1).shape) : null,
    ];
  },
});
