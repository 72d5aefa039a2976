// Pad (opset 11+: pads as a constant int64 input [b_0..b_r-1, e_0..e_r-1], mode 'constant'): dx = the
// slice of dy that x occupies. Only non-negative pads of mode 'constant' (dlib ResNet-29's zero padding
// of its down-sampling shortcuts): a negative pad crops, and 'reflect'/'edge' fold values back into x,
// which would need a scatter-add.
import { attrString, constInts, input, registerOp, type ShapeContext } from '../op_registry.ts';

function padsOf(ctx: ShapeContext): number[] {
  const x = input(ctx, 0).shape;
  const mode = attrString(ctx.node, 'mode', 'constant');
  if (mode !== 'constant') throw new Error(`Pad node ${ctx.node.name}: mode '${mode}'; the engine handles mode 'constant' only`);
  const pads = constInts(ctx, 1, 'pads');
  if (pads.length !== 2 * x.length) throw new Error(`Pad node ${ctx.node.name}: pads has ${pads.length} values for an input of rank ${x.length}; expected ${2 * x.length}`);
  if (pads.some((p) => p < 0)) throw new Error(`Pad node ${ctx.node.name}: pads [${pads}]; the engine handles non-negative pads only`);
  return pads;
}

registerOp({
  opType: 'Pad',
  infer: (ctx) => {
    const x = input(ctx, 0);
    const pads = padsOf(ctx);
    return [{ shape: x.shape.map((d, i) => d + pads[i] + pads[i + x.shape.length]), dtype: x.dtype }];
  },
  grad: (ctx) => {
    const { b, dy, node, needs } = ctx;
    if (node.inputs[2] && needs[2]) throw new Error(`Pad node ${node.name}: the engine differentiates Pad with respect to x only; its constant value must not depend on trained values`);
    const x = input(ctx, 0).shape;
    const pads = padsOf(ctx);
    const starts = x.map((_, i) => pads[i]);
    const ends = x.map((d, i) => pads[i] + d);
    const dx = b.op1('Slice', [dy[0]!, b.int64('starts', starts), b.int64('ends', ends), b.int64('axes', x.map((_, i) => i))]); // x's shape
    return [dx, ...node.inputs.slice(1).map(() => null)];
  },
});
