// Slice (opset 10+: starts, ends, axes, steps as constant inputs): dx = dy padded with zeros back to
// x's shape. Only unit steps (a strided slice would need a scatter).
import { axisOf, constInts, input, registerOp, type ShapeContext } from '../op_registry.ts';

/** Resolved [begin, end) per axis of x, clamped as ONNX specifies. */
function ranges(ctx: ShapeContext): [number, number][] {
  const x = input(ctx, 0).shape;
  const starts = constInts(ctx, 1, 'starts');
  const ends = constInts(ctx, 2, 'ends');
  const axes = ctx.node.inputs[3] ? constInts(ctx, 3, 'axes').map((a) => axisOf(ctx, a, x.length)) : starts.map((_, i) => i);
  const steps = ctx.node.inputs[4] ? constInts(ctx, 4, 'steps') : starts.map(() => 1);
  if (steps.some((s) => s !== 1)) throw new Error(`Slice node ${ctx.node.name}: steps [${steps}]; the engine differentiates unit-step slices only`);
  const out: [number, number][] = x.map((d) => [0, d]);
  axes.forEach((a, i) => {
    const d = x[a];
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    out[a] = [clamp(starts[i]), Math.max(clamp(starts[i]), clamp(ends[i]))];
  });
  return out;
}

registerOp({
  opType: 'Slice',
  infer: (ctx) => [{ shape: ranges(ctx).map(([s, e]) => e - s), dtype: input(ctx, 0).dtype }],
  grad: (ctx) => {
    const x = input(ctx, 0).shape;
    const r = ranges(ctx);
    const pads = [...r.map(([s]) => s), ...r.map(([, e], i) => x[i] - e)];
    return [ctx.b.op1('Pad', [ctx.dy[0]!, ctx.b.int64('pads', pads)], { mode: 'constant' }), ...ctx.node.inputs.slice(1).map(() => null)];
  },
});
