// Sqrt: y = sqrt(x); dx = dy / (2 y) (uses the forward output, as tfjs does).
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Sqrt',
  infer: (ctx) => [input(ctx, 0)],
  grad: ({ b, dy, node }) => [b.op1('Div', [dy[0]!, b.op1('Mul', [node.outputs[0], b.scalar('two', 2)])])],
});
