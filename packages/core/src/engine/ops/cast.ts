// Cast: float -> float passes the gradient through; a cast to an integer type yields a value without
// gradient (vjp.ts only propagates dependence through float outputs).
import { input, registerOp, type DType } from '../op_registry.ts';

const TO: Record<number, DType> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool' };

registerOp({
  opType: 'Cast',
  infer: (ctx) => {
    const to = TO[Number(ctx.node.attrs.to)];
    if (!to) throw new Error(`Cast node ${ctx.node.name}: target type ${String(ctx.node.attrs.to)} is not one the engine handles (float32, int32, int64, bool)`);
    return [{ shape: input(ctx, 0).shape, dtype: to }];
  },
  grad: ({ b, dy }) => [b.op1('Identity', [dy[0]!])],
});
