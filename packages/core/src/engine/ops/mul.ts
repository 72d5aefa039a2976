// Mul (broadcasting): dA = dy * B, dB = dy * A, each summed back to its input's shape.
import { elementwiseType, reduceTo } from '../grad_util.ts';
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Mul',
  infer: (ctx) => [elementwiseType(ctx)],
  grad: (ctx) => {
    const { b, dy, needs, node } = ctx;
    const y = ctx.outputs[0].shape;
    const [a, c] = node.inputs;
    return [
      needs[0] ? reduceTo(b, b.op1('Mul', [dy[0]!, c]), y, input(ctx, 0).shape) : null,
      needs[1] ? reduceTo(b, b.op1('Mul', [dy[0]!, a]), y, input(ctx, 1).shape) : null,
    ];
  },
});
