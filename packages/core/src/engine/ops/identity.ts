// Identity: dx = dy.
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Identity',
  infer: (ctx) => [input(ctx, 0)],
  grad: ({ b, dy }) => [b.op1('Identity', [dy[0]!])],
});
