// AveragePool (2-D, NCHW, no padding; dlib ResNet-29's 2x2 stride-2 shortcut): each output is the mean
// of its k_h x k_w window. dx = ConvTranspose of dy with a depthwise filter of 1 / (k_h k_w) and the
// pool's strides: every input position receives dy / (k_h k_w) from each window that covers it (windows
// may overlap), output_padding restoring the rows and columns no window reached.
// Padded pools (whose divisor depends on count_include_pad at the borders) and ceil_mode are named.
import { attrInt, attrInts, input, registerOp, type ShapeContext } from '../op_registry.ts';

function geometry(ctx: ShapeContext) {
  const { node } = ctx;
  const x = input(ctx, 0).shape;
  if (x.length !== 4) throw new Error(`AveragePool node ${node.name}: input has shape [${x}]; the engine handles 2-D pools on NCHW values`);
  const k = attrInts(node, 'kernel_shape');
  const s = attrInts(node, 'strides', [1, 1]);
  const pads = attrInts(node, 'pads', [0, 0, 0, 0]);
  if (pads.some((p) => p !== 0) || attrInt(node, 'ceil_mode', 0) !== 0 || node.attrs.auto_pad !== undefined && node.attrs.auto_pad !== 'NOTSET' && node.attrs.auto_pad !== 'VALID') {
    throw new Error(`AveragePool node ${node.name}: pads [${pads}], ceil_mode ${attrInt(node, 'ceil_mode', 0)}, auto_pad ${String(node.attrs.auto_pad ?? 'NOTSET')}; the engine handles unpadded pools (floor mode) only`);
  }
  const [N, C, H, W] = x;
  const Ho = Math.floor((H - k[0]) / s[0]) + 1, Wo = Math.floor((W - k[1]) / s[1]) + 1;
  if (Ho < 1 || Wo < 1) throw new Error(`AveragePool node ${node.name}: kernel [${k}] is larger than the input [${x}]`);
  return { N, C, H, W, k, s, Ho, Wo };
}

registerOp({
  opType: 'AveragePool',
  infer: (ctx) => {
    const g = geometry(ctx);
    return [{ shape: [g.N, g.C, g.Ho, g.Wo], dtype: input(ctx, 0).dtype }];
  },
  grad: (ctx) => {
    const { b, dy } = ctx;
    const g = geometry(ctx);
    const taps = g.k[0] * g.k[1];
    const w = b.constant('avgpool_dx_w', [g.C, 1, g.k[0], g.k[1]], new Float32Array(g.C * taps).fill(1 / taps));
    // ConvTranspose output side = (Ho - 1) s + k + output_padding
    const outPad = [g.H - ((g.Ho - 1) * g.s[0] + g.k[0]), g.W - ((g.Wo - 1) * g.s[1] + g.k[1])];
    return [b.op1('ConvTranspose', [dy[0]!, w], { kernel_shape: g.k, strides: g.s, group: g.C, output_padding: outPad })]; // [N,C,H,W]
  },
});
