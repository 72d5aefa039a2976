// IResNet (insightface ArcFace backbone), NHWC.
//
// Parameter keys are insightface's PyTorch state-dict keys; shapes map one-to-one, in our layout:
//   conv weights      ours HWIO [kh,kw,I,O]   <- torch OIHW [O,I,kh,kw]: transpose(2,3,1,0)
//   fc.weight         ours [in,out]           <- torch [out,in] with `in` in NCHW flatten order (c*S*S + h*S + w);
//                     ours[(h*S + w)*C + c][o] = torch[o][c*S*S + h*S + w]   (S = final spatial side, C = widths[3])
//   BN, PReLU, fc.bias, features.*: same [C] vectors. torch's `num_batches_tracked` is not stored.
//   `dropout` has no parameters. `features.weight` is fixed at 1 and never trainable (as in insightface).
// Padding is PyTorch's (explicit 1 for 3x3, 0 for 1x1), not TF 'same'.
import { tf } from '../tf.ts';
import { batchNormInference, batchNormTraining, bnScaleShift, createBatchNorm, type BatchNorm } from './batch_norm.ts';
import { conv, foldConvBn, taping } from './conv_bn.ts';
import { prelu } from './prelu.ts';
import { IBasicBlock, type FoldedBlock, type RunMode } from './ibasic_block.ts';
import { frozenLinear, matMulT } from './linear.ts';
import { frozenConvPrelu } from './frozen_taped.ts';
import {
  halve, iresnetInput, iresnetTaps, IRESNET_FAMILY, TAP_NAMES, tapChannels, tapSpatial, validateIResNetConfig,
  type IResNetBackboneConfig, type IResNetConfig, type TapName,
} from './iresnet_config.ts';
import { BackboneBase } from './backbone_base.ts';
import { ParamStore } from './param_store.ts';
import { checkBackboneInput, type BackboneForwardOptions, type EmitOnnxOptions, type InputContract, type TapInfo } from './backbone.ts';
import type { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { emitIResNet } from '../weights/onnx/iresnet_onnx_graph.ts';
import { oursToInsightface } from '../weights/onnx/insightface_convert.ts';
import type { PlainTensor, StateDict } from '../weights/onnx/insightface_layout.ts';

export type { TapHook } from './backbone.ts';
export type ForwardOptions = BackboneForwardOptions;

export interface IResNetOptions {
  seed?: number;
  frozen?: boolean;
}

interface Folded {
  ids: unknown[]; // dataIds of all params when folded: a reassigned variable invalidates the cache
  stemW: tf.Tensor4D; stemB: tf.Tensor1D; stemAlphaPositive: boolean;
  blocks: FoldedBlock[][];
  headW: tf.Tensor2D; headWT: tf.Tensor2D; headB: tf.Tensor1D;
}

export class IResNet extends BackboneBase {
  readonly family = IRESNET_FAMILY;
  readonly config: IResNetBackboneConfig;
  readonly params: Map<string, tf.Variable>;
  readonly finalSpatial: number;
  readonly input: InputContract;
  readonly taps: readonly TapInfo[];
  private readonly conv1: tf.Variable; private readonly bn1: BatchNorm; private readonly prelu: tf.Variable;
  private readonly layers: IBasicBlock[][] = [];
  private readonly bn2: BatchNorm; private readonly fcW: tf.Variable; private readonly fcB: tf.Variable;
  private readonly features: BatchNorm;
  private folded?: Folded;

  constructor(config: IResNetConfig, opts: IResNetOptions = {}) {
    super();
    this.config = validateIResNetConfig(config);
    const c = this.config;
    const store = new ParamStore(opts.seed ?? 0);
    this.conv1 = store.heNormal('conv1.weight', [3, 3, 3, c.stemWidth], 27);
    this.bn1 = createBatchNorm(store, 'bn1', c.stemWidth);
    this.prelu = store.fill('prelu.weight', [c.stemWidth], 0.25);
    let inC = c.stemWidth;
    for (let s = 0; s < 4; s++) {
      const blocks: IBasicBlock[] = [];
      for (let i = 0; i < c.depths[s]; i++) {
        blocks.push(new IBasicBlock(store, `layer${s + 1}.${i}`, inC, c.widths[s], i === 0 ? 2 : 1));
        inC = c.widths[s];
      }
      this.layers.push(blocks);
    }
    this.finalSpatial = [0, 1, 2, 3].reduce((n) => halve(n), c.inputSize);
    const fcIn = this.finalSpatial * this.finalSpatial * inC;
    this.bn2 = createBatchNorm(store, 'bn2', inC);
    this.fcW = store.uniformFanIn('fc.weight', [fcIn, c.embeddingSize], fcIn);
    this.fcB = store.uniformFanIn('fc.bias', [c.embeddingSize], fcIn);
    this.features = createBatchNorm(store, 'features', c.embeddingSize, true);
    this.params = store.params;
    this.input = iresnetInput(c);
    this.taps = iresnetTaps(c);
    this.setFrozen(opts.frozen ?? false);
  }

  override get name(): string {
    return this.config.arch;
  }

  get embeddingSize(): number {
    return this.config.embeddingSize;
  }

  /** BN running statistics are never trained; insightface fixes the embedding BN's scale at 1. Frozen, BN
   *  runs on the running statistics, folded into the convs. */
  protected override trainableParam(name: string): boolean {
    return !name.includes('running_') && name !== 'features.weight';
  }

  tapChannels(tap: TapName): number {
    return tapChannels(this.config, checkTap(tap));
  }

  tapSpatial(tap: TapName): number {
    return tapSpatial(this.config, checkTap(tap));
  }

  /** x [B,S,S,3] scaled (v - 127.5) / 127.5 (canonical = IResNet's native input) -> embedding [B,E]. */
  forward(x: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor2D {
    checkBackboneInput(this, x);
    const training = opts.training ?? false;
    if (training && this.frozen) throw new Error('IResNet.forward: training=true on a frozen model; call setFrozen(false) first');
    const mode: RunMode = training ? 'train' : this.frozen ? 'frozen' : 'eval';
    const f = mode === 'frozen' ? this.foldedWeights() : undefined;
    const kept: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor>(t: T): T => (kept.push(t), t);
    const grad = taping();
    const out = tf.tidy(() => {
      let h: tf.Tensor4D;
      // Eagerly free the previous activation when no tape needs it (memory for big models).
      const advance = (next: tf.Tensor4D) => {
        if (!grad && h !== x && h !== next && !kept.includes(h)) h.dispose();
        h = next;
      };
      const tap = (name: TapName) => {
        const r = opts.tapHook?.(name, h, keep);
        if (r) advance(r);
      };
      h = tf.tidy(() => this.stem(x, mode, f)); // [B,S,S,stem]
      tap('stem');
      for (let st = 0; st < 4; st++) {
        for (let i = 0; i < this.layers[st].length; i++) advance(this.layers[st][i].forward(h, mode, f?.blocks[st][i]));
        tap(TAP_NAMES[st + 1]);
      }
      return [this.head(h, mode, f), ...kept];
    });
    return out[0] as tf.Tensor2D;
  }

  /** Our parameters as insightface PyTorch-layout tensors (reads the variables once). */
  stateDict(): StateDict {
    const ours = new Map<string, PlainTensor>();
    for (const [name, v] of this.params) ours.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
    return oursToInsightface(ours, this.config);
  }

  /** insightface's export layout (Conv/BatchNormalization/PRelu/Gemm), BN folded on request. */
  emitOnnx(b: OnnxGraphBuilder, x: string, opts: EmitOnnxOptions = {}): string {
    return emitIResNet(b, this.stateDict(), this.config, x, { foldBn: opts.foldBn, afterStage: opts.afterTap });
  }

  override dispose(): void {
    this.disposeFolded();
    super.dispose();
  }

  private stem(x: tf.Tensor4D, mode: RunMode, f?: Folded): tf.Tensor4D {
    if (f) return frozenConvPrelu(x, f.stemW, f.stemB, this.prelu as tf.Tensor1D, f.stemAlphaPositive, 1);
    const bn = mode === 'train' ? batchNormTraining : batchNormInference;
    return prelu(bn(conv(x, this.conv1 as tf.Tensor4D, 1), this.bn1), this.prelu as tf.Tensor1D);
  }

  private head(h: tf.Tensor4D, mode: RunMode, f?: Folded): tf.Tensor2D {
    return tf.tidy(() => {
      const flat = (t: tf.Tensor) => tf.reshape(t, [t.shape[0], -1]) as tf.Tensor2D; // NHWC flatten [B,S*S*C]
      if (f) return frozenLinear(flat(h), f.headW, f.headWT, f.headB);
      const train = mode === 'train';
      const bn = train ? batchNormTraining : batchNormInference;
      let z = flat(bn(h, this.bn2));
      if (train && this.config.dropout > 0) z = tf.dropout(z, this.config.dropout) as tf.Tensor2D;
      z = tf.add(matMulT(z, this.fcW as tf.Tensor2D), this.fcB) as tf.Tensor2D; // [B,E]
      return bn(z, this.features);
    }) as tf.Tensor2D;
  }

  /** Inference weights with every exactly-foldable BN folded; rebuilt when any variable was reassigned. */
  private foldedWeights(): Folded {
    const ids = [...this.params.values()].map((v) => v.dataId);
    if (this.folded && this.folded.ids.every((id, i) => id === ids[i])) return this.folded;
    this.disposeFolded();
    const stem = foldConvBn(this.conv1 as tf.Tensor4D, this.bn1);
    const blocks = this.layers.map((st) => st.map((b) => b.fold()));
    const head = tf.tidy(() => {
      // bn2 -> flatten -> fc -> features: all affine without padding, so one matmul is exact.
      const rep = this.finalSpatial * this.finalSpatial;
      const b2 = bnScaleShift(this.bn2);
      const sIn = tf.tile(b2.scale, [rep]); // [S*S*C] in NHWC flatten order
      const tIn = tf.tile(b2.shift, [rep]);
      const fe = bnScaleShift(this.features); // [E]
      const w = tf.mul(tf.mul(this.fcW, tf.reshape(sIn, [-1, 1])), fe.scale) as tf.Tensor2D; // [S*S*C,E]
      const b0 = tf.add(tf.reshape(tf.matMul(tf.reshape(tIn, [1, -1]), this.fcW as tf.Tensor2D), [-1]), this.fcB);
      const b = tf.add(tf.mul(b0, fe.scale), fe.shift) as tf.Tensor1D; // [E]
      return { w, wT: tf.transpose(w), b };
    });
    const stemAlphaPositive = tf.tidy(() => tf.min(this.prelu).dataSync()[0] > 0);
    this.folded = { ids, stemW: stem.w, stemB: stem.b, stemAlphaPositive, blocks, headW: head.w, headWT: head.wT, headB: head.b };
    // Kept: the cache outlives whatever tidy scope the first frozen forward ran in.
    for (const t of this.foldedTensors()) tf.keep(t);
    return this.folded;
  }

  private disposeFolded(): void {
    if (!this.folded) return;
    tf.dispose(this.foldedTensors());
    this.folded = undefined;
  }

  private foldedTensors(): tf.Tensor[] {
    if (!this.folded) return [];
    const { stemW, stemB, blocks, headW, headWT, headB } = this.folded;
    const ts: tf.Tensor[] = [stemW, stemB, headW, headWT, headB];
    for (const st of blocks) for (const b of st) ts.push(...(Object.values(b).filter((t) => t instanceof tf.Tensor) as tf.Tensor[]));
    return ts;
  }
}

/** The IResNet tap named `tap`, or an error listing the taps. */
export function checkTap(tap: string): TapName {
  if (!(TAP_NAMES as readonly string[]).includes(tap)) {
    throw new Error(`unknown tap "${tap}"; valid taps: ${TAP_NAMES.join(', ')}`);
  }
  return tap as TapName;
}
