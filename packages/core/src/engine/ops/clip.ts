// Clip (opset 11+: min and max as optional inputs; ReLU6 = Clip(x, 0, 6)):
// dx = dy where min <= x <= max, else 0 (tfjs clipByValue's gradient). Bounds get no gradient.
import { maskOf } from '../grad_util.ts';
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Clip',
  infer: (ctx) => [input(ctx, 0)],
  grad: (ctx) => {
    const { b, dy, needs, node } = ctx;
    if ((node.inputs[1] && needs[1]) || (node.inputs[2] && needs[2])) {
      throw new Error(`Clip node ${node.name}: the engine differentiates Clip with respect to x only; its min/max must not depend on trained values`);
    }
    const [x, lo, hi] = node.inputs;
    let keep: string | null = null;
    if (lo) keep = b.op1('GreaterOrEqual', [x, lo]);
    if (hi) {
      const le = b.op1('LessOrEqual', [x, hi]);
      keep = keep ? b.op1('And', [keep, le]) : le;
    }
    return [keep ? b.op1('Mul', [dy[0]!, maskOf(b, keep)]) : b.op1('Identity', [dy[0]!]), null, null].slice(0, node.inputs.length);
  },
});
