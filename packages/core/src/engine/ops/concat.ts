// Concat (axis): every input's gradient is its slab of dy, all cut by one Split.
import { attrInt, axisOf, input, registerOp } from '../op_registry.ts';

registerOp({
  opType: 'Concat',
  infer: (ctx) => {
    const ins = ctx.node.inputs.map((_, i) => input(ctx, i));
    const r = ins[0].shape.length;
    const axis = axisOf(ctx, attrInt(ctx.node, 'axis'), r);
    const shape = [...ins[0].shape];
    shape[axis] = 0;
    for (const t of ins) {
      if (t.shape.length !== r || t.shape.some((d, i) => i !== axis && d !== ins[0].shape[i])) {
        throw new Error(`Concat node ${ctx.node.name}: input shapes ${ins.map((x) => `[${x.shape}]`).join(', ')} differ off axis ${axis}`);
      }
      shape[axis] += t.shape[axis];
    }
    return [{ shape, dtype: ins[0].dtype }];
  },
  grad: (ctx) => {
    const { b, dy, node, needs } = ctx;
    const ins = node.inputs.map((_, i) => input(ctx, i));
    const axis = axisOf(ctx, attrInt(node, 'axis'), ins[0].shape.length);
    if (ins.length === 1) return [b.op1('Identity', [dy[0]!])];
    const parts = b.op('Split', [dy[0]!, b.int64('split', ins.map((t) => t.shape[axis]))], { axis }, ins.length);
    return parts.map((p, i) => (needs[i] ? p : null));
  },
});
