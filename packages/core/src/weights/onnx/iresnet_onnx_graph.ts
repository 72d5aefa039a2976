// Writes an IResNet as an ONNX graph in insightface's export layout (NCHW, OIHW; Conv, BatchNormalization,
// PRelu, Add, Flatten, Gemm), optionally with every conv->BN pair folded into a biased conv the way
// torch.onnx.export does in eval mode. Used by the backbone/HFR exporter and by the import tests.
import { OnnxGraphBuilder, type GraphBuilderOptions } from './onnx_graph_builder.ts';
import { encodeOnnxModel } from './onnx_proto.ts';
import { blockPrefixes, BN_PARTS, convSlots, type IResNetShape, type PlainTensor, type StateDict } from './insightface_layout.ts';

export const BN_EPS = 1e-5;
export type StageTap = 'stem' | 'layer1' | 'layer2' | 'layer3' | 'layer4';

export interface EmitIResNetOptions {
  /** Fold conv->BN pairs into biased convs (insightface's released ONNX files look like this). */
  foldBn?: boolean;
  /** Called with each stage output (NCHW value name); returns the value the network continues with. */
  afterStage?: (tap: StageTap, x: string, channels: number) => string;
}

function param(sd: StateDict, name: string) {
  const t = sd.get(name);
  if (!t) throw new Error(`IResNet ONNX graph: parameter '${name}' is missing from the state dict`);
  return t;
}

/** Per-channel scale and shift of an inference-mode BatchNorm from its parts (gamma, beta, mean, var). */
export function scaleShiftOf(g: Float32Array, b: Float32Array, m: Float32Array, v: Float32Array, eps: number): { scale: Float32Array; shift: Float32Array } {
  const scale = new Float32Array(g.length);
  const shift = new Float32Array(g.length);
  for (let c = 0; c < g.length; c++) {
    scale[c] = g[c] / Math.sqrt(v[c] + eps);
    shift[c] = b[c] - m[c] * scale[c];
  }
  return { scale, shift };
}

/** Per-channel scale and shift of an inference-mode BatchNorm. */
export function bnScaleShift(sd: StateDict, bn: string): { scale: Float32Array; shift: Float32Array } {
  const [g, b, m, v] = BN_PARTS.map((p) => param(sd, `${bn}.${p}`).data);
  return scaleShiftOf(g, b, m, v, BN_EPS);
}

function batchNorm(b: OnnxGraphBuilder, sd: StateDict, x: string, bn: string): string {
  const ins = BN_PARTS.map((p) => { const t = param(sd, `${bn}.${p}`); return b.weight(`${bn}.${p}`, t.shape, t.data); });
  return b.op1('BatchNormalization', [x, ...ins], { epsilon: BN_EPS, momentum: 0.9 });
}

/** conv -> BN as one biased conv: W * scale (per output channel), bias = shift. */
export function foldConvBn(sd: StateDict, conv: string, bn: string): { weight: PlainTensor; bias: PlainTensor } {
  const w = param(sd, `${conv}.weight`);
  const { scale, shift } = bnScaleShift(sd, bn);
  const per = w.data.length / w.shape[0];
  return { weight: { shape: w.shape, data: w.data.map((v, i) => v * scale[Math.floor(i / per)]) }, bias: { shape: [w.shape[0]], data: shift } };
}

/** The state dict with every conv->BN pair folded (biased convs, no BN tensors), as folded exports hold it. */
export function foldStateDict(sd: StateDict, shape: IResNetShape): StateDict {
  const out: StateDict = new Map(sd);
  for (const slot of convSlots(shape)) {
    const { weight, bias } = foldConvBn(sd, slot.conv, slot.bn);
    out.set(`${slot.conv}.weight`, weight);
    out.set(`${slot.conv}.bias`, bias);
    for (const p of BN_PARTS) out.delete(`${slot.bn}.${p}`);
  }
  return out;
}

function convBn(b: OnnxGraphBuilder, sd: StateDict, x: string, conv: string, bn: string, stride: number, fold: boolean): string {
  const w = param(sd, `${conv}.weight`);
  const k = w.shape[2];
  const attrs = { kernel_shape: [k, k], pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0], strides: [stride, stride], dilations: [1, 1], group: 1 };
  const conv2 = (weight: PlainTensor, bias: PlainTensor) =>
    b.op1('Conv', [x, b.weight(`${conv}.weight`, weight.shape, weight.data), b.weight(`${conv}.bias`, bias.shape, bias.data)], attrs);
  const sourceBias = sd.get(`${conv}.bias`);
  if (sourceBias && !sd.has(`${bn}.weight`)) return conv2(w, sourceBias); // the source was folded already
  if (fold) { const f = foldConvBn(sd, conv, bn); return conv2(f.weight, f.bias); }
  return batchNorm(b, sd, b.op1('Conv', [x, b.weight(`${conv}.weight`, w.shape, w.data)], attrs), bn);
}

function prelu(b: OnnxGraphBuilder, sd: StateDict, x: string, name: string): string {
  const w = param(sd, `${name}.weight`);
  // PyTorch exports the slope as [C,1,1] so it broadcasts over NCHW
  return b.op1('PRelu', [x, b.weight(`${name}.weight`, [w.shape[0], 1, 1], w.data)]);
}

/** Emits the network from NCHW input value `x`; returns the embedding value name [B,E]. */
export function emitIResNet(b: OnnxGraphBuilder, sd: StateDict, shape: IResNetShape, x: string, opts: EmitIResNetOptions = {}): string {
  const fold = opts.foldBn ?? false;
  const tap = opts.afterStage ?? ((_t: StageTap, v: string) => v);
  let h = prelu(b, sd, convBn(b, sd, x, 'conv1', 'bn1', 1, fold), 'prelu'); // [B,C0,S,S]
  h = tap('stem', h, shape.stemWidth);
  const blocks = blockPrefixes(shape);
  for (let s = 0; s < 4; s++) {
    for (const { prefix, downsample } of blocks.filter((bl) => bl.prefix.startsWith(`layer${s + 1}.`))) {
      let out = batchNorm(b, sd, h, `${prefix}.bn1`);
      out = prelu(b, sd, convBn(b, sd, out, `${prefix}.conv1`, `${prefix}.bn2`, 1, fold), `${prefix}.prelu`);
      out = convBn(b, sd, out, `${prefix}.conv2`, `${prefix}.bn3`, downsample ? 2 : 1, fold);
      const identity = downsample ? convBn(b, sd, h, `${prefix}.downsample.0`, `${prefix}.downsample.1`, 2, fold) : h;
      h = b.op1('Add', [out, identity]); // [B,C,H,W]
    }
    h = tap(`layer${s + 1}` as StageTap, h, shape.widths[s]);
  }
  h = batchNorm(b, sd, h, 'bn2'); // [B,C4,S/16,S/16]
  h = b.op1('Flatten', [h], { axis: 1 }); // [B,C4*s*s] in NCHW order
  const fw = param(sd, 'fc.weight');
  const fb = param(sd, 'fc.bias');
  h = b.op1('Gemm', [h, b.weight('fc.weight', fw.shape, fw.data), b.weight('fc.bias', fb.shape, fb.data)], { alpha: 1, beta: 1, transB: 1 });
  return batchNorm(b, sd, h, 'features'); // [B,E]
}

export const ONNX_INPUT = 'input.1';

/** A whole insightface-layout IResNet ONNX file (input 'input.1' [B,3,S,S], output 'embedding' [B,E]). */
export function iresnetOnnxBytes(sd: StateDict, shape: IResNetShape, opts: EmitIResNetOptions & GraphBuilderOptions = {}): Uint8Array {
  const b = new OnnxGraphBuilder({ anonymous: opts.anonymous });
  const x = b.input(ONNX_INPUT, ['batch', 3, shape.inputSize, shape.inputSize]);
  const emb = emitIResNet(b, sd, shape, x, opts);
  b.output(emb, 'embedding', ['batch', shape.embeddingSize]);
  return encodeOnnxModel(b.toModel({ graphName: 'iresnet' }));
}
