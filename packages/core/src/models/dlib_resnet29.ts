// dlib's ResNet-29 face descriptor (dlib_face_recognition_resnet_model_v1; 150x150 -> 128-d, LFW 99.38%),
// as face-api.js runs it (src/faceRecognitionNet): the weights ship in @vladmandic/face-api's
// model/face_recognition_model.bin.
//
// Network (NHWC; 'same' = TF padding, 'valid' = none; every conv has a bias and dlib's affine "scale" layer):
//   native input: RGB, (v - [122.782, 117.001, 104.298]) / 255
//   conv32_down   conv 7x7/2 valid + scale + ReLU                  150 -> 72   x32
//   max pool 3x3/2 valid                                            72 -> 35           tap 'stem'
//   conv32_1..3   residual                                          35          x32   tap 'layer1'  (dlib alevel4)
//   conv64_down   residual down, conv64_1..3 residual               35 -> 17    x64   tap 'layer2'  (alevel3)
//   conv128_down  residual down, conv128_1..2                       17 -> 8     x128  tap 'layer3'  (alevel2)
//   conv256_down  residual down, conv256_1..2                        8 -> 4     x256  tap 'layer4'  (alevel1)
//   conv256_down_out residual down                                   4 -> 2     x256  (alevel0: part of the
//                 head here, a 2x2 map has no usable instance statistics for an SSMB)
//   mean over H,W -> fc [256,128] (no bias)                                            embedding
//   residual(x)      = ReLU(conv2(ReLU(conv1(x))) + x)                   conv 3x3/1 same, both
//   residual down(x) = ReLU(conv2(ReLU(conv1(x))) + pad(avgpool2x2/2(x)))  conv1 3x3/2 valid; the pooled
//                      shortcut is zero-padded to the new channel count, and conv2's output zero-padded at
//                      the bottom/right where it is smaller than the pooled map (dlib's add_prev semantics).
// Parameter names are face-api's weight-manifest names (`conv32_down/conv/filters` [7,7,3,32] HWIO,
// `.../conv/bias`, `.../scale/weights`, `.../scale/biases`; `conv64_down/conv1/...`; `fc` [256,128]).
// Frozen: conv bias and scale folded into one biased conv (exact), each conv one fused op with an
// input-only gradient (frozen_ops.ts).
import { tf } from '../tf.ts';
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { emitChannelAffine, emitConv, emitNativeInput, emitZeroPadEnd } from '../weights/onnx/onnx_layers.ts';
import {
  checkBackboneInput, registerBackbone, registerBackboneFamily,
  type BackboneForwardOptions, type CreateBackboneOptions, type EmitOnnxOptions,
  type InputContract, type PackageReference, type PretrainedConverter, type TapInfo, type WeightsSourceInfo,
} from './backbone.ts';
import type { PlainTensor } from '../weights/onnx/insightface_layout.ts';
import { FoldCache } from './fold_cache.ts';
import { convOut, frozenConv, plainConv, type Activation, type ConvPad } from './frozen_ops.ts';
import { BackboneBase } from './backbone_base.ts';
import { faceApi } from './face_api_package.ts';
import { readTfjsWeights } from '../weights/tfjs_weights.ts';
import { ParamStore } from './param_store.ts';
import { tappedForward, toNativeInput } from './tapped_forward.ts';

export const DLIB_FAMILY = 'dlib-resnet29';
export type DlibConfig = { family: typeof DLIB_FAMILY; name: string };

/** dlib's mean face shape (dlib/image_transforms/interpolation.h, landmarks 17..67 in [0,1]), used by
 *  get_face_chip_details with padding 0.25 for the 150x150 chips the network was trained on. */
const MEAN_FACE_X = [
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127, 0.490127,
  0.490127, 0.490127, 0.36688, 0.426036, 0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918,
  0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149, 0.340985, 0.428858, 0.490127, 0.551395,
  0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
  0.553364, 0.490127, 0.42689,
];
const MEAN_FACE_Y = [
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454, 0.203352, 0.307009,
  0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733, 0.245099,
  0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099, 0.780233, 0.745405, 0.727388, 0.742578, 0.727388,
  0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746, 0.784792,
  0.824182, 0.831803, 0.824182,
];

/** The 5-point template (eye centres = mean of landmarks 36-41 / 42-47, nose tip 30, mouth corners 48, 54)
 *  of dlib's chip: p_chip = (0.25 + p) / 1.5 * size. */
export function dlibTemplate(size = 150, padding = 0.25): [number, number][] {
  const at = (i: number): [number, number] => [MEAN_FACE_X[i - 17], MEAN_FACE_Y[i - 17]];
  const mean = (ids: number[]): [number, number] => {
    const ps = ids.map(at);
    return [ps.reduce((s, p) => s + p[0], 0) / ps.length, ps.reduce((s, p) => s + p[1], 0) / ps.length];
  };
  const pts = [mean([36, 37, 38, 39, 40, 41]), mean([42, 43, 44, 45, 46, 47]), at(30), at(48), at(54)];
  return pts.map(([x, y]) => [((padding + x) / (1 + 2 * padding)) * size, ((padding + y) / (1 + 2 * padding)) * size]);
}

export const DLIB_INPUT: InputContract = {
  size: 150,
  channelOrder: 'RGB',
  // face-api's FaceRecognitionNet: normalize(x, meanRgb).div(255)
  normalisation: { mean: [122.782, 117.001, 104.298], std: [255, 255, 255] },
  template: { size: 150, points: dlibTemplate(150) },
};

interface Block { name: string; channels: number; down: boolean; tap?: string }
const BLOCKS: Block[] = [
  { name: 'conv32_1', channels: 32, down: false }, { name: 'conv32_2', channels: 32, down: false }, { name: 'conv32_3', channels: 32, down: false, tap: 'layer1' },
  { name: 'conv64_down', channels: 64, down: true }, { name: 'conv64_1', channels: 64, down: false }, { name: 'conv64_2', channels: 64, down: false },
  { name: 'conv64_3', channels: 64, down: false, tap: 'layer2' },
  { name: 'conv128_down', channels: 128, down: true }, { name: 'conv128_1', channels: 128, down: false }, { name: 'conv128_2', channels: 128, down: false, tap: 'layer3' },
  { name: 'conv256_down', channels: 256, down: true }, { name: 'conv256_1', channels: 256, down: false }, { name: 'conv256_2', channels: 256, down: false, tap: 'layer4' },
  { name: 'conv256_down_out', channels: 256, down: true },
];
export const DLIB_EMBEDDING = 128;

/** Spatial sides through the network (stem conv, pool, then each block), from the layer geometry. */
function geometry(): { taps: TapInfo[]; sides: number[] } {
  let s = convOut(convOut(DLIB_INPUT.size, 7, 2, 'valid'), 3, 2, 'valid'); // 72 -> 35
  const taps: TapInfo[] = [{ name: 'stem', channels: 32, spatial: s }];
  const sides: number[] = [];
  for (const bl of BLOCKS) {
    if (bl.down) s = Math.max(convOut(s, 3, 2, 'valid'), convOut(s, 2, 2, 'valid')); // conv path padded up to the pooled side
    sides.push(s);
    if (bl.tap) taps.push({ name: bl.tap, channels: bl.channels, spatial: s });
  }
  return { taps, sides };
}
export const DLIB_TAPS: readonly TapInfo[] = geometry().taps;

export const DLIB_WEIGHTS_SOURCE: WeightsSourceInfo = {
  package: '@vladmandic/face-api',
  version: '1.7.15',
  license: 'dlib model weights: public domain (dlib_face_recognition_resnet_model_v1, Davis King)',
  files: ['model/face_recognition_model-weights_manifest.json', 'model/face_recognition_model.bin'],
  note: 'uint8-quantised weights (min + scale * q per tensor), dequantised to float32 on import',
};

/** face-api's manifest names are our parameter names: every tensor is a parameter (shapes checked on load). */
export const convertDlibWeights: PretrainedConverter = (tensors) => ({ tensors: new Map<string, PlainTensor>(tensors), unused: [] });

interface ConvLayer { w: tf.Tensor4D; b: tf.Tensor1D } // folded: conv(x, w) + b
interface Folded { stem: ConvLayer; blocks: { c1: ConvLayer; c2: ConvLayer }[] }

export function validateDlibConfig(cfg: unknown): DlibConfig {
  const c = (cfg ?? {}) as Record<string, unknown>;
  const extra = Object.keys(c).filter((k) => k !== 'family' && k !== 'name');
  if (extra.length) throw new Error(`dlib-resnet29 config: unknown key(s) ${extra.join(', ')}; the architecture is fixed (known keys: family, name)`);
  if ('family' in c && c.family !== DLIB_FAMILY) throw new Error(`dlib-resnet29 config: family must be "${DLIB_FAMILY}", received ${JSON.stringify(c.family)}`);
  if ('name' in c && typeof c.name !== 'string') throw new Error(`dlib-resnet29 config: name must be a string, received ${JSON.stringify(c.name)}`);
  return { family: DLIB_FAMILY, name: (c.name as string | undefined) ?? DLIB_FAMILY };
}

export class DlibResNet29 extends BackboneBase {
  readonly family = DLIB_FAMILY;
  readonly config: DlibConfig;
  readonly input = DLIB_INPUT;
  readonly embeddingSize = DLIB_EMBEDDING;
  readonly taps = DLIB_TAPS;
  readonly params: Map<string, tf.Variable>;
  private readonly fold = new FoldCache<Folded>();

  constructor(config: Partial<DlibConfig> = {}, opts: Omit<CreateBackboneOptions, 'overrides'> = {}) {
    super();
    this.config = validateDlibConfig(config);
    const store = new ParamStore(opts.seed ?? 0);
    const convLayer = (prefix: string, k: number, ci: number, co: number) => {
      store.heNormal(`${prefix}/conv/filters`, [k, k, ci, co], k * k * ci);
      store.fill(`${prefix}/conv/bias`, [co], 0);
      store.fill(`${prefix}/scale/weights`, [co], 1);
      store.fill(`${prefix}/scale/biases`, [co], 0);
    };
    convLayer('conv32_down', 7, 3, 32);
    let ci = 32;
    for (const bl of BLOCKS) {
      convLayer(`${bl.name}/conv1`, 3, ci, bl.channels);
      convLayer(`${bl.name}/conv2`, 3, bl.channels, bl.channels);
      ci = bl.channels;
    }
    store.uniformFanIn('fc', [ci, DLIB_EMBEDDING], ci);
    this.params = store.params;
    this.setFrozen(opts.frozen ?? false);
  }

  /** One conv layer: folded weights when frozen, else conv + bias + scale from the variables. */
  private conv(h: tf.Tensor4D, prefix: string, strides: number, pad: ConvPad, act: Activation, f?: ConvLayer): tf.Tensor4D {
    if (f) return frozenConv(h, f.w, f.b, { strides, pad, act });
    const z = plainConv(h, this.param(`${prefix}/conv/filters`) as tf.Tensor4D, this.param(`${prefix}/conv/bias`) as tf.Tensor1D, { strides, pad, act: 'linear' });
    const s = tf.add(tf.mul(z, this.param(`${prefix}/scale/weights`)), this.param(`${prefix}/scale/biases`)) as tf.Tensor4D;
    return act === 'relu' ? tf.relu(s) : s;
  }

  private block(x: tf.Tensor4D, bl: Block, f?: { c1: ConvLayer; c2: ConvLayer }): tf.Tensor4D {
    let out = this.conv(x, `${bl.name}/conv1`, bl.down ? 2 : 1, bl.down ? 'valid' : 'same', 'relu', f?.c1);
    out = this.conv(out, `${bl.name}/conv2`, 1, 'same', 'linear', f?.c2);
    if (!bl.down) return tf.relu(tf.add(out, x)) as tf.Tensor4D;
    let pooled = tf.avgPool(x, 2, 2, 'valid') as tf.Tensor4D;
    const dc = out.shape[3] - pooled.shape[3];
    if (dc > 0) pooled = tf.pad(pooled, [[0, 0], [0, 0], [0, 0], [0, dc]]);
    const dh = pooled.shape[1] - out.shape[1], dw = pooled.shape[2] - out.shape[2];
    if (dh > 0 || dw > 0) out = tf.pad(out, [[0, 0], [0, dh], [0, dw], [0, 0]]);
    return tf.relu(tf.add(pooled, out)) as tf.Tensor4D;
  }

  /** x [B,150,150,3] canonical -> embedding [B,128]. */
  forward(x: tf.Tensor4D, opts: BackboneForwardOptions = {}): tf.Tensor2D {
    checkBackboneInput(this, x);
    if (opts.training && this.frozen) throw new Error('dlib-resnet29.forward: training=true on a frozen model; call setFrozen(false) first');
    const f = this.frozen ? this.folded() : undefined;
    return tappedForward(x, opts.tapHook, (run) => {
      run.step((h) => {
        const z = this.conv(toNativeInput(h, this.input), 'conv32_down', 2, 'valid', 'relu', f?.stem); // [B,72,72,32]
        return tf.maxPool(z, 3, 2, 'valid') as tf.Tensor4D; // [B,35,35,32]
      });
      run.tap('stem');
      const last = BLOCKS.length - 1;
      BLOCKS.slice(0, last).forEach((bl, i) => {
        run.step((h) => this.block(h, bl, f?.blocks[i]));
        if (bl.tap) run.tap(bl.tap);
      });
      return (h) => {
        const z = this.block(h, BLOCKS[last], f?.blocks[last]); // [B,2,2,256]
        const g = tf.mean(z, [1, 2]) as tf.Tensor2D; // [B,256]
        return tf.matMul(g, this.param('fc') as tf.Tensor2D); // [B,128]
      };
    });
  }

  private folded(): Folded {
    const foldLayer = (prefix: string): ConvLayer => {
      const s = this.param(`${prefix}/scale/weights`);
      return {
        w: tf.mul(this.param(`${prefix}/conv/filters`), s) as tf.Tensor4D, // [k,k,I,O] * [O]
        b: tf.add(tf.mul(this.param(`${prefix}/conv/bias`), s), this.param(`${prefix}/scale/biases`)) as tf.Tensor1D,
      };
    };
    return this.fold.get(this.params, () => ({
      stem: foldLayer('conv32_down'),
      blocks: BLOCKS.map((bl) => ({ c1: foldLayer(`${bl.name}/conv1`), c2: foldLayer(`${bl.name}/conv2`) })),
    }), (v) => [v.stem.w, v.stem.b, ...v.blocks.flatMap((b) => [b.c1.w, b.c1.b, b.c2.w, b.c2.b])]);
  }

  /** NCHW canonical input value -> embedding [B,128]: Conv, Mul/Add (scale), Relu, MaxPool, AveragePool, Pad. */
  emitOnnx(b: OnnxGraphBuilder, x: string, opts: EmitOnnxOptions = {}): string {
    const tap = opts.afterTap ?? ((_t: string, v: string) => v);
    const data = (name: string) => {
      const v = this.param(name);
      return { shape: v.shape, data: v.dataSync() as Float32Array };
    };
    const conv = (h: string, prefix: string, strides: number, pad: ConvPad, relu: boolean): string => {
      const w = data(`${prefix}/conv/filters`);
      const k = w.shape[0];
      const p = pad === 'same' ? (k - 1) / 2 : 0; // stride-1 'same' with odd k is symmetric
      const bias = data(`${prefix}/conv/bias`).data, s = data(`${prefix}/scale/weights`).data, sb = data(`${prefix}/scale/biases`).data;
      let out: string;
      if (opts.foldBn) {
        const co = s.length;
        const wf = w.data.map((v, i) => v * s[i % co]);
        out = emitConv(b, h, { name: prefix, w: { shape: w.shape, data: wf }, bias: { shape: [co], data: bias.map((v, i) => v * s[i] + sb[i]) }, strides, pads: [p, p, p, p] });
      } else {
        out = emitConv(b, h, { name: `${prefix}/conv`, w, bias: { shape: [bias.length], data: bias }, strides, pads: [p, p, p, p] });
        out = emitChannelAffine(b, out, `${prefix}/scale`, s, sb);
      }
      return relu ? b.op1('Relu', [out]) : out;
    };
    const { sides } = geometry();
    let side = DLIB_TAPS[0].spatial;
    let ch = 32;
    let h = conv(emitNativeInput(b, x, this.input), 'conv32_down', 2, 'valid', true); // [B,32,72,72]
    h = b.op1('MaxPool', [h], { kernel_shape: [3, 3], strides: [2, 2] }); // [B,32,35,35]
    h = tap('stem', h, 32);
    BLOCKS.forEach((bl, i) => {
      let out = conv(h, `${bl.name}/conv1`, bl.down ? 2 : 1, bl.down ? 'valid' : 'same', true);
      out = conv(out, `${bl.name}/conv2`, 1, 'same', false);
      let shortcut = h;
      if (bl.down) {
        shortcut = b.op1('AveragePool', [h], { kernel_shape: [2, 2], strides: [2, 2] });
        shortcut = emitZeroPadEnd(b, shortcut, { c: bl.channels - ch });
        const convSide = convOut(side, 3, 2, 'valid');
        out = emitZeroPadEnd(b, out, { h: sides[i] - convSide, w: sides[i] - convSide });
      }
      h = b.op1('Relu', [b.op1('Add', [out, shortcut])]); // [B,C,s,s]
      side = sides[i];
      ch = bl.channels;
      if (bl.tap) h = tap(bl.tap, h, bl.channels);
    });
    const g = b.op1('ReduceMean', [h], { axes: [2, 3], keepdims: 0 }); // [B,256]
    const fc = data('fc');
    return b.op1('MatMul', [g, b.weight('fc', fc.shape, fc.data)]); // [B,128]
  }

  override dispose(): void {
    this.fold.dispose();
    super.dispose();
  }
}

/** face-api's FaceRecognitionNet (its node-wasm bundle, on our @tensorflow/tfjs) loaded with the same file. */
async function faceApiReference(json: string): Promise<PackageReference> {
  const api = faceApi();
  const { tensors } = readTfjsWeights(json);
  const net = new api.FaceRecognitionNet();
  net.loadFromWeightMap(Object.fromEntries([...tensors].map(([k, t]) => [k, tf.tensor(t.data, t.shape)])));
  return {
    label: `face-api ${api.version} FaceRecognitionNet`,
    async embed(pixels) {
      const images = tf.unstack(pixels); // face-api takes a list of [S,S,3] images
      try {
        const input = await api.toNetInput(images);
        const y = tf.tidy(() => net.forwardInput(input) as tf.Tensor2D); // [B,128]
        const out = (await y.data()) as Float32Array;
        y.dispose();
        return out;
      } finally {
        tf.dispose(images);
      }
    },
    dispose: () => net.dispose(),
  };
}

registerBackboneFamily({ family: DLIB_FAMILY, fromConfig: (config, opts) => new DlibResNet29(validateDlibConfig(config), opts) });

registerBackbone(DLIB_FAMILY, ({ overrides, ...opts }) => {
  if (overrides && Object.keys(overrides).length) {
    throw new Error(`backbone dlib-resnet29 has a fixed architecture (the pre-trained network); received overrides ${JSON.stringify(overrides)}`);
  }
  return new DlibResNet29({}, opts);
}, {
  family: DLIB_FAMILY,
  description: "dlib ResNet-29 face descriptor (face-api.js's FaceRecognitionNet), 150x150 RGB -> 128-d",
  input: DLIB_INPUT,
  embeddingSize: DLIB_EMBEDDING,
  taps: DLIB_TAPS,
  pretrained: { ...DLIB_WEIGHTS_SOURCE, convert: convertDlibWeights, reference: faceApiReference },
});

