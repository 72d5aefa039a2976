// insightface's IResNet parameter names and PyTorch-layout shapes (OIHW convs, fc [out, in] over the
// NCHW flatten order), as in arcface_torch/backbones/iresnet.py. Both importers produce a StateDict in
// this layout; the exporter writes ONNX from it.

/** A tensor in PyTorch layout. */
export interface PlainTensor {
  shape: number[];
  data: Float32Array;
}
export type StateDict = Map<string, PlainTensor>;

/** The shape facts of an IResNet that the tensors determine. */
export interface IResNetShape {
  depths: number[];
  widths: number[];
  stemWidth: number;
  inputSize: number;
  embeddingSize: number;
}

export const BN_PARTS = ['weight', 'bias', 'running_mean', 'running_var'] as const;

/** Every conv of the network with the BatchNorm that follows it (folded exports merge the two). */
export interface ConvSlot {
  conv: string;
  bn: string;
  shape: number[]; // OIHW
}

export function blockPrefixes(shape: IResNetShape): { prefix: string; inC: number; outC: number; downsample: boolean }[] {
  const out = [];
  let inC = shape.stemWidth;
  for (let s = 0; s < 4; s++) {
    for (let b = 0; b < shape.depths[s]; b++) {
      const outC = shape.widths[s];
      // insightface: every stage's first block has stride 2, so it always has a 1x1 downsample
      out.push({ prefix: `layer${s + 1}.${b}`, inC, outC, downsample: b === 0 });
      inC = outC;
    }
  }
  return out;
}

export function convSlots(shape: IResNetShape): ConvSlot[] {
  const slots: ConvSlot[] = [{ conv: 'conv1', bn: 'bn1', shape: [shape.stemWidth, 3, 3, 3] }];
  for (const { prefix, inC, outC, downsample } of blockPrefixes(shape)) {
    slots.push({ conv: `${prefix}.conv1`, bn: `${prefix}.bn2`, shape: [outC, inC, 3, 3] });
    slots.push({ conv: `${prefix}.conv2`, bn: `${prefix}.bn3`, shape: [outC, outC, 3, 3] });
    if (downsample) slots.push({ conv: `${prefix}.downsample.0`, bn: `${prefix}.downsample.1`, shape: [outC, inC, 1, 1] });
  }
  return slots;
}

/** Expected parameter names and shapes (unfolded, without num_batches_tracked). */
export function insightfaceParamShapes(shape: IResNetShape): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const bn = (name: string, c: number) => { for (const p of BN_PARTS) m.set(`${name}.${p}`, [c]); };
  m.set('conv1.weight', [shape.stemWidth, 3, 3, 3]);
  bn('bn1', shape.stemWidth);
  m.set('prelu.weight', [shape.stemWidth]);
  for (const { prefix, inC, outC, downsample } of blockPrefixes(shape)) {
    bn(`${prefix}.bn1`, inC);
    m.set(`${prefix}.conv1.weight`, [outC, inC, 3, 3]);
    bn(`${prefix}.bn2`, outC);
    m.set(`${prefix}.prelu.weight`, [outC]);
    m.set(`${prefix}.conv2.weight`, [outC, outC, 3, 3]);
    bn(`${prefix}.bn3`, outC);
    if (downsample) {
      m.set(`${prefix}.downsample.0.weight`, [outC, inC, 1, 1]);
      bn(`${prefix}.downsample.1`, outC);
    }
  }
  const c4 = shape.widths[3];
  const s = shape.inputSize / 16;
  bn('bn2', c4);
  m.set('fc.weight', [shape.embeddingSize, c4 * s * s]);
  m.set('fc.bias', [shape.embeddingSize]);
  bn('features', shape.embeddingSize);
  return m;
}

/** 'iresnet18' etc. when depths and widths are a standard arch, else a descriptive name. */
export function archName(shape: IResNetShape): string {
  const known: Record<string, string> = { '2,2,2,2': 'iresnet18', '3,4,6,3': 'iresnet34', '3,4,14,3': 'iresnet50', '3,13,30,3': 'iresnet100', '3,8,27,3': 'iresnet200' };
  const standard = shape.widths.join(',') === '64,128,256,512' && shape.stemWidth === 64;
  const name = known[shape.depths.join(',')];
  return name && standard ? name : `iresnet-d${shape.depths.join('-')}-w${shape.widths.join('-')}`;
}

export const shapeStr = (s: number[]) => `[${s.join(',')}]`;
