// Softmax (opset 13: one axis, default -1): dx = y * (dy - sum(dy * y, axis)).
import { attrInt, axisOf, input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Softmax',
  infer: (ctx) => {
    axisOf(ctx, attrInt(ctx.node, 'axis', -1), input(ctx, 0).shape.length);
    return [input(ctx, 0)];
  },
  grad: (ctx) => {
    const { b, dy, node } = ctx;
    const y = node.outputs[0];
    const axis = axisOf(ctx, attrInt(node, 'axis', -1), input(ctx, 0).shape.length);
    const dot = b.op1('ReduceSum', [b.op1('Mul', [dy[0]!, y]), b.int64('axes', [axis])], { keepdims: 1 });
    return [b.op1('Mul', [y, b.op1('Sub', [dy[0]!, dot])])];
  },
});
