// ReduceSumSquare: y = sum x^2; dx = 2 x dy (dy broadcast over the reduced axes, no expanded copy).
import { reshape } from '../grad_util.ts';
import { registerOp } from '../op_registry.ts';
import { reduceSpec } from '../reduce_util.ts';

registerOp({
  opType: 'ReduceSumSquare',
  infer: (ctx) => [reduceSpec(ctx).out],
  grad: (ctx) => {
    const { b, dy, node } = ctx;
    const s = reduceSpec(ctx);
    const g = s.keepdims ? dy[0]! : reshape(b, dy[0]!, s.kept); // [kept]
    return [b.op1('Mul', [node.inputs[0], b.op1('Mul', [g, b.scalar('two', 2)])]), ...node.inputs.slice(1).map(() => null)];
  },
});
