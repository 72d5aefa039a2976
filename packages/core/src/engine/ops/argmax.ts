// ArgMax: the routing selector (top-1 expert). Non-differentiable by definition: the gate (the chosen
// probability, picked with OneHot) carries the router's gradient instead.
import { attrInt, axisOf, input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'ArgMax',
  nonDifferentiable: true,
  infer: (ctx) => {
    const x = input(ctx, 0);
    const axis = axisOf(ctx, attrInt(ctx.node, 'axis', 0), x.shape.length);
    const keep = attrInt(ctx.node, 'keepdims', 1) === 1;
    const shape = keep ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
    return [{ shape, dtype: 'int64' }];
  },
});
