// Max of two inputs (broadcasting), e.g. the clamp max(n, 1e-24) in the cosine of the losses.
// tfjs maximum's gradient: dA = dy where A >= B, dB = dy where A < B (ties go to A).
import { elementwiseType, maskOf, reduceTo } from '../grad_util.ts';
import { input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Max',
  infer: (ctx) => [elementwiseType(ctx)],
  grad: (ctx) => {
    const { b, dy, needs, node } = ctx;
    if (node.inputs.length !== 2) throw new Error(`Max node ${node.name}: the engine differentiates Max of exactly two inputs, got ${node.inputs.length}`);
    const [a, c] = node.inputs;
    const y = ctx.outputs[0].shape;
    return [
      needs[0] ? reduceTo(b, b.op1('Mul', [dy[0]!, maskOf(b, b.op1('GreaterOrEqual', [a, c]))]), y, input(ctx, 0).shape) : null,
      needs[1] ? reduceTo(b, b.op1('Mul', [dy[0]!, maskOf(b, b.op1('Less', [a, c]))]), y, input(ctx, 1).shape) : null,
    ];
  },
});
