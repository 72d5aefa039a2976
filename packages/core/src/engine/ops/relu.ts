// Relu: dx = dy where x > 0, else 0 (tfjs: dy * step(x), step(0) = 0).
import { maskOf } from '../grad_util.ts';
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Relu',
  infer: (ctx) => [input(ctx, 0)],
  grad: ({ b, dy, node }) => [b.op1('Mul', [dy[0]!, maskOf(b, b.op1('Greater', [node.inputs[0], b.scalar('zero', 0)]))])],
});
