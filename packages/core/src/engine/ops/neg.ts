// Neg: dx = -dy.
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Neg',
  infer: (ctx) => [input(ctx, 0)],
  grad: ({ b, dy }) => [b.op1('Neg', [dy[0]!])],
});
