// Split (opset 13: sizes as an optional constant input, else equal parts): dx = Concat of the outputs'
// cotangents, zeros for outputs no gradient reached.
import { zerosOf } from '../grad_util.ts';
import { attrInt, axisOf, constInts, input, registerOp } from '../op_registry.ts';

function sizes(ctx: Parameters<typeof constInts>[0]): { axis: number; sizes: number[] } {
  const x = input(ctx, 0);
  const axis = axisOf(ctx, attrInt(ctx.node, 'axis', 0), x.shape.length);
  const n = ctx.node.outputs.length;
  const s = ctx.node.inputs[1] ? constInts(ctx, 1, 'split') : Array.from({ length: n }, () => x.shape[axis] / n);
  if (s.length !== n || s.some((v) => !Number.isInteger(v) || v < 0) || s.reduce((a, v) => a + v, 0) !== x.shape[axis]) {
    throw new Error(`Split node ${ctx.node.name}: sizes [${s}] do not split axis ${axis} of [${x.shape}] into ${n} outputs`);
  }
  return { axis, sizes: s };
}

registerOp({
  opType: 'Split',
  infer: (ctx) => {
    const x = input(ctx, 0);
    const { axis, sizes: s } = sizes(ctx);
    return s.map((d) => ({ shape: x.shape.map((v, i) => (i === axis ? d : v)), dtype: x.dtype }));
  },
  grad: (ctx) => {
    const { b, dy, outputs } = ctx;
    const { axis } = sizes(ctx);
    const parts = dy.map((g, i) => g ?? zerosOf(b, outputs[i].shape));
    return [b.op1('Concat', parts, { axis }), ...ctx.node.inputs.slice(1).map(() => null)];
  },
});
