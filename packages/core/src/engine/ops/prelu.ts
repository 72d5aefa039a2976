// PRelu: y = x (x > 0) else slope * x, slope broadcast (e.g. [C,1,1] over NCHW).
// A select on the saved pre-activation: dx = Where(x > 0, dy, dy * slope); dslope = sum of dy * x where x <= 0.
import { reduceTo } from '../grad_util.ts';
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'PRelu',
  infer: (ctx) => [input(ctx, 0)],
  grad: (ctx) => {
    const { b, dy, needs, node } = ctx;
    const [x, slope] = node.inputs;
    const pos = b.op1('Greater', [x, b.scalar('zero', 0)]); // bool [x]
    return [
      needs[0] ? b.op1('Where', [pos, dy[0]!, b.op1('Mul', [dy[0]!, slope])]) : null,
      needs[1] ? reduceTo(b, b.op1('Where', [pos, b.scalar('zero', 0), b.op1('Mul', [dy[0]!, x])]), ctx.outputs[0].shape, input(ctx, 1).shape) : null,
    ];
  },
});
