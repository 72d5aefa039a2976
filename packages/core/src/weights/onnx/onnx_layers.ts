// ONNX emission pieces shared by the backbone families: our NHWC/HWIO tensors to ONNX's NCHW/OIHW, convs
// with explicit pads, per-channel affines, and the canonical -> native input conversion.
import type { OnnxGraphBuilder } from './onnx_graph_builder.ts';
import type { PlainTensor } from './insightface_layout.ts';
import type { InputContract } from '../../models/backbone.ts';
import { canonicalToNative } from '../../models/tapped_forward.ts';

/** [kh,kw,I,O] (ours) -> [O,I,kh,kw] (ONNX Conv). */
export function hwioToOihw(t: PlainTensor): PlainTensor {
  const [kh, kw, ci, co] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) {
    const s = ((y * kw + x) * ci + i) * co;
    for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = t.data[s + o];
  }
  return { shape: [co, ci, kh, kw], data: out };
}

/** Depthwise [kh,kw,C,1] (ours, multiplier 1) -> [C,1,kh,kw] (ONNX Conv with group = C). */
export function depthwiseToOnnx(t: PlainTensor): PlainTensor {
  const [kh, kw, c, m] = t.shape;
  if (m !== 1) throw new Error(`depthwise ONNX export: channel multiplier ${m} is not supported; expected filter [kh,kw,C,1], received [${t.shape}]`);
  const out = new Float32Array(t.data.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let ch = 0; ch < c; ch++) out[(ch * kh + y) * kw + x] = t.data[(y * kw + x) * c + ch];
  return { shape: [c, 1, kh, kw], data: out };
}

export interface OnnxConvSpec {
  name: string; // initializer names: <name>.weight / <name>.bias
  w: PlainTensor; // ours: HWIO, or [kh,kw,C,1] when depthwise
  bias?: PlainTensor; // [O]
  strides: number;
  /** [top, left, bottom, right] (ONNX order is [top, left, bottom, right] for 2-D) */
  pads: [number, number, number, number];
  depthwise?: boolean;
}

export function emitConv(b: OnnxGraphBuilder, x: string, s: OnnxConvSpec): string {
  const w = s.depthwise ? depthwiseToOnnx(s.w) : hwioToOihw(s.w);
  const inputs = [x, b.weight(`${s.name}.weight`, w.shape, w.data)];
  if (s.bias) inputs.push(b.weight(`${s.name}.bias`, s.bias.shape, s.bias.data));
  return b.op1('Conv', inputs, {
    kernel_shape: [w.shape[2], w.shape[3]], strides: [s.strides, s.strides], pads: s.pads, dilations: [1, 1],
    group: s.depthwise ? w.shape[0] : 1,
  });
}

/** x * scale + shift per channel of an NCHW value. */
export function emitChannelAffine(b: OnnxGraphBuilder, x: string, name: string, scale: Float32Array | null, shift: Float32Array | null): string {
  let h = x;
  if (scale) h = b.op1('Mul', [h, b.weight(`${name}.scale`, [scale.length, 1, 1], scale)]);
  if (shift) h = b.op1('Add', [h, b.weight(`${name}.shift`, [shift.length, 1, 1], shift)]);
  return h;
}

/** Our canonical NCHW input -> the network's native input (affine, then BGR channel reversal). */
export function emitNativeInput(b: OnnxGraphBuilder, x: string, input: InputContract, name = 'input_normalisation'): string {
  const { scale, shift, reverse } = canonicalToNative(input);
  const h = emitChannelAffine(b, x, name, Float32Array.from(scale), Float32Array.from(shift)); // [B,3,S,S] RGB
  return reverse ? b.op1('Gather', [h, b.int64('bgr', [2, 1, 0])], { axis: 1 }) : h;
}

/** Zero padding of an NCHW value: `c` channels appended, `h`/`w` rows/cols appended at the end. */
export function emitZeroPadEnd(b: OnnxGraphBuilder, x: string, { c = 0, h = 0, w = 0 }: { c?: number; h?: number; w?: number }): string {
  if (!c && !h && !w) return x;
  return b.op1('Pad', [x, b.int64('pads', [0, 0, 0, 0, 0, c, h, w])], { mode: 'constant' });
}
