// ReduceSum: dx = dy (with the reduced axes kept as 1) expanded back to x's shape.
import { reshape } from '../grad_util.ts';
import { input, registerOp } from '../op_registry.ts';
import { reduceSpec } from '../reduce_util.ts';

registerOp({
  opType: 'ReduceSum',
  infer: (ctx) => [reduceSpec(ctx).out],
  grad: (ctx) => {
    const { b, dy } = ctx;
    const s = reduceSpec(ctx);
    const x = input(ctx, 0).shape;
    const g = s.keepdims ? dy[0]! : reshape(b, dy[0]!, s.kept); // [kept]
    return [b.op1('Expand', [g, b.int64('shape', x)]), ...ctx.node.inputs.slice(1).map(() => null)];
  },
});
