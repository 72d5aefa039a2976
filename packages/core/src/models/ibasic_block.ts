// insightface IBasicBlock: BN -> conv3x3 -> BN -> PReLU -> conv3x3(stride) -> BN, + (1x1 conv + BN) shortcut
// where the shape changes. Parameter keys are the insightface ones under `prefix` (e.g. `layer1.0`).
import { tf } from '../tf.ts';
import { batchNormInference, batchNormTraining, bnScaleShift, createBatchNorm, type BatchNorm } from './batch_norm.ts';
import { conv, foldConvBn } from './conv_bn.ts';
import { prelu } from './prelu.ts';
import { frozenBlock } from './frozen_taped.ts';
import type { ParamStore } from './param_store.ts';

/** 'train': batch-stat BN; 'eval': running-stat BN from the variables; 'frozen': folded, cached weights. */
export type RunMode = 'train' | 'eval' | 'frozen';

export interface FoldedBlock {
  s1: tf.Tensor1D; t1: tf.Tensor1D; // bn1 as scale/shift (cannot fold into conv1: its zero padding is not BN'd)
  w1: tf.Tensor4D; b1: tf.Tensor1D; // conv1 with bn2 folded in
  w2: tf.Tensor4D; b2: tf.Tensor1D; // conv2 with bn3 folded in
  dw?: tf.Tensor4D; db?: tf.Tensor1D; // downsample conv with its BN folded in
  alphaPositive: boolean; // every PReLU alpha > 0 (lets the taped op save the fused output as its mask)
}

export class IBasicBlock {
  readonly bn1: BatchNorm; readonly conv1: tf.Variable; readonly bn2: BatchNorm;
  readonly prelu: tf.Variable; readonly conv2: tf.Variable; readonly bn3: BatchNorm;
  readonly downsample?: { conv: tf.Variable; bn: BatchNorm };

  constructor(store: ParamStore, prefix: string, readonly inC: number, readonly outC: number, readonly stride: number) {
    this.bn1 = createBatchNorm(store, `${prefix}.bn1`, inC);
    this.conv1 = store.heNormal(`${prefix}.conv1.weight`, [3, 3, inC, outC], 9 * inC); // HWIO
    this.bn2 = createBatchNorm(store, `${prefix}.bn2`, outC);
    this.prelu = store.fill(`${prefix}.prelu.weight`, [outC], 0.25);
    this.conv2 = store.heNormal(`${prefix}.conv2.weight`, [3, 3, outC, outC], 9 * outC);
    this.bn3 = createBatchNorm(store, `${prefix}.bn3`, outC);
    if (stride !== 1 || inC !== outC) {
      this.downsample = {
        conv: store.heNormal(`${prefix}.downsample.0.weight`, [1, 1, inC, outC], inC),
        bn: createBatchNorm(store, `${prefix}.downsample.1`, outC),
      };
    }
  }

  /** Folded inference weights; the caller owns (and disposes) the returned tensors. */
  fold(): FoldedBlock {
    const f = tf.tidy((): tf.TensorContainer => {
      const { scale: s1, shift: t1 } = bnScaleShift(this.bn1);
      const c1 = foldConvBn(this.conv1 as tf.Tensor4D, this.bn2);
      const c2 = foldConvBn(this.conv2 as tf.Tensor4D, this.bn3);
      const ds = this.downsample ? foldConvBn(this.downsample.conv as tf.Tensor4D, this.downsample.bn) : undefined;
      return { s1, t1, w1: c1.w, b1: c1.b, w2: c2.w, b2: c2.b, dw: ds?.w, db: ds?.b } as tf.TensorContainer;
    }) as unknown as FoldedBlock;
    f.alphaPositive = tf.tidy(() => tf.min(this.prelu).dataSync()[0] > 0);
    return f;
  }

  forward(x: tf.Tensor4D, mode: RunMode, folded?: FoldedBlock): tf.Tensor4D {
    return tf.tidy(() => {
      // One op with a hand-written input gradient (see frozen_taped.ts); off the tape it is plain inference.
      if (mode === 'frozen') return frozenBlock(x, folded!, this.prelu as tf.Tensor1D, folded!.alphaPositive, this.stride);
      const bn = mode === 'train' ? batchNormTraining : batchNormInference;
      let out = bn(x, this.bn1);
      out = bn(conv(out, this.conv1 as tf.Tensor4D, 1), this.bn2);
      out = prelu(out, this.prelu as tf.Tensor1D);
      out = bn(conv(out, this.conv2 as tf.Tensor4D, this.stride), this.bn3);
      const id = this.downsample ? bn(conv(x, this.downsample.conv as tf.Tensor4D, this.stride), this.downsample.bn) : x;
      return tf.add(out, id) as tf.Tensor4D;
    });
  }
}
