// LogSoftmax (opset 13: one axis, default -1): y = x - log sum exp x, so dx = dy - softmax(x) sum(dy, axis).
// The ArcFace pre-training loss is -mean(sum(onehot * LogSoftmax(logits))), as tfjs's logSoftmax computes it
// (a separate Log of a Softmax would lose precision for the large logits of s = 64).
import { attrInt, axisOf, input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'LogSoftmax',
  infer: (ctx) => {
    axisOf(ctx, attrInt(ctx.node, 'axis', -1), input(ctx, 0).shape.length);
    return [input(ctx, 0)];
  },
  grad: (ctx) => {
    const { b, dy, node } = ctx;
    const axis = axisOf(ctx, attrInt(node, 'axis', -1), input(ctx, 0).shape.length);
    const p = b.op1('Softmax', [node.inputs[0]], { axis }); // like x
    const total = b.op1('ReduceSum', [dy[0]!, b.int64('axes', [axis])], { keepdims: 1 }); // x with axis = 1
    return [b.op1('Sub', [dy[0]!, b.op1('Mul', [p, total])])];
  },
});
