// Sum (variadic, broadcasting): every input receives dy, summed back to its own shape.
import { elementwiseType, reduceTo } from '../grad_util.ts';
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Sum',
  infer: (ctx) => [elementwiseType(ctx)],
  grad: (ctx) => ctx.node.inputs.map((_, i) => (ctx.needs[i] ? reduceTo(ctx.b, ctx.dy[0]!, ctx.outputs[0].shape, input(ctx, i).shape) : null)),
});
