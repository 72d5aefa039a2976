// The int8 rewrite on small graphs: a conv -> PRelu -> conv -> Gemm network against its float self,
// what it refuses (with the layer and op named), the per-backbone weight cache, calibration's refusals.
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder } from '../../weights/onnx/onnx_graph_builder.ts';
import { encodeOnnxModel } from '../../weights/onnx/onnx_proto.ts';
import { normalData } from '../grad_check.ts';
import { cosine } from '../../weights/onnx/nchw.ts';
import { addCalibrationOutputs, calibrateGraph, checkCalibrationSets, describeCalibration, type Calibration } from './calibrate.ts';
import { Int8UnsupportedError, quantizeFrozenLayers, type WeightCache } from './quantize_graph.ts';
import { openWithPrecision } from './precision.ts';

const S = 8, C = 16, E = 10;

/** NHWC images [B,S,S,3] -> conv3x3(3->C)+bias -> PRelu -> conv3x3 s2 (C->C) -> Flatten -> Gemm (E). */
function network(): OnnxGraphBuilder {
  const b = new OnnxGraphBuilder();
  const x = b.op1('Transpose', [b.input('images', ['batch', S, S, 3])], { perm: [0, 3, 1, 2] }); // [B,3,S,S]
  const conv = (v: string, name: string, ci: number, stride: number, seed: number) => b.op1('Conv', [v,
    b.weight(`${name}.weight`, [C, ci, 3, 3], normalData(C * ci * 9, seed).map((w) => w * 0.3)), b.weight(`${name}.bias`, [C], normalData(C, seed + 1))],
  { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [stride, stride], dilations: [1, 1], group: 1 });
  let h = conv(x, 'conv1', 3, 1, 1); // [B,C,S,S]
  h = b.op1('PRelu', [h, b.weight('prelu.weight', [C, 1, 1], new Float32Array(C).fill(0.25))]);
  h = conv(h, 'conv2', C, 2, 3); // [B,C,S/2,S/2]
  h = b.op1('Flatten', [h], { axis: 1 }); // [B,C*S*S/4]
  const K = (C * S * S) / 4;
  h = b.op1('Gemm', [h, b.weight('fc.weight', [E, K], normalData(E * K, 5).map((w) => w * 0.05)), b.weight('fc.bias', [E], normalData(E, 6))], { transB: 1 });
  b.output(h, 'embedding', ['batch', E]);
  return b;
}

const images = (n: number, seed: number) => normalData(n * S * S * 3, seed);

async function run(b: OnnxGraphBuilder, x: Float32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(encodeOnnxModel(b.toModel({ graphName: 't', opset: 13 })), { logSeverityLevel: 3 });
  const out = await s.run({ images: new ort.Tensor('float32', x, [x.length / (S * S * 3), S, S, 3]) });
  await s.release();
  return out.embedding.data as Float32Array;
}

async function calibrate(sets = [{ modality: 'VIS', images: images(12, 7) }, { modality: 'NIR', images: images(4, 8).map((v) => 0.5 * v - 0.3) }]): Promise<Calibration> {
  const b = network();
  const layers = addCalibrationOutputs(b);
  return calibrateGraph(encodeOnnxModel(b.toModel({ graphName: 'calib', opset: 13 })), layers, S, sets, { batch: 8, threads: 1 });
}

describe('int8 rewrite of the frozen layers', () => {
  it('calibration: min/max of every layer input (and conv output) over every modality, counted per modality', async () => {
    const c = await calibrate();
    expect(c.images).toBe(16);
    expect(c.perModality).toEqual({ VIS: 12, NIR: 4 });
    expect([...c.ranges.keys()]).toEqual(['conv1.weight', 'conv2.weight', 'fc.weight']);
    // conv1 reads the images themselves: its input range is theirs
    const all = [...images(12, 7), ...images(4, 8).map((v) => 0.5 * v - 0.3)];
    expect(c.ranges.get('conv1.weight')!.inMin).toBeCloseTo(Math.min(...all), 5);
    expect(c.ranges.get('conv1.weight')!.inMax).toBeCloseTo(Math.max(...all), 5);
    expect(Number.isNaN(c.ranges.get('fc.weight')!.outMin)).toBe(true); // the head's output stays float
    expect(describeCalibration(c)).toBe('minmax over 16 training images (VIS 12, NIR 4), batch 8, 3 layers');
  });

  it('calibration refuses fewer images than the batch (with the count), an empty modality, a wrong size', () => {
    expect(() => checkCalibrationSets([{ modality: 'VIS', images: images(3, 1) }, { modality: 'NIR', images: images(2, 1) }], S, 8))
      .toThrow('int8 calibration: 5 images (VIS 3, NIR 2); expected at least the batch, 8');
    expect(() => checkCalibrationSets([{ modality: 'VIS', images: images(9, 1) }, { modality: 'TH', images: new Float32Array(0) }], S, 8))
      .toThrow('no TH images; every modality of the run calibrates');
    expect(() => checkCalibrationSets([{ modality: 'VIS', images: new Float32Array(10) }], S, 8)).toThrow('the VIS images have 10 values; expected N*8*8*3');
    expect(() => checkCalibrationSets([], S, 8)).toThrow('no image sets');
  });

  for (const form of ['qlinear', 'qdq'] as const) {
    it(`${form}: the int8 network gives the float network's outputs (cosine >= 0.99 per image); every frozen layer rewritten`, async () => {
      const calibration = await calibrate();
      const b = network();
      const report = quantizeFrozenLayers(b, { calibration, form });
      expect(report.layers).toEqual([{ layer: 'conv1.weight', op: 'Conv' }, { layer: 'conv2.weight', op: 'Conv' }, { layer: 'fc.weight', op: 'Gemm' }]);
      expect(b.nodes.filter((n) => n.opType === (form === 'qlinear' ? 'QLinearConv' : 'Conv'))).toHaveLength(2);
      expect(b.initializers.has('conv1.weight')).toBe(false); // only the int8 weights are left
      const x = images(6, 21);
      const [f, q] = [await run(network(), x), await run(b, x)];
      for (let i = 0; i < 6; i++) expect(cosine(f.subarray(i * E, (i + 1) * E), q.subarray(i * E, (i + 1) * E)), `image ${i}`).toBeGreaterThanOrEqual(0.99);
      // and it is int8: not the float numbers exactly
      expect(Math.max(...f.map((v, i) => Math.abs(v - q[i])))).toBeGreaterThan(1e-4);
    });
  }

  it('a layer left float by `select` is listed in the report; the weight cache quantizes a backbone once', async () => {
    const calibration = await calibrate();
    const cache: WeightCache = new Map();
    const b1 = network();
    const r = quantizeFrozenLayers(b1, { calibration, form: 'qlinear', weights: cache, select: (l) => l !== 'fc.weight' });
    expect(r.float).toEqual([{ layer: 'fc.weight', op: 'Gemm', why: 'not selected' }]);
    expect(cache.size).toBe(2);
    const first = [...cache.values()][0];
    quantizeFrozenLayers(network(), { calibration, form: 'qlinear', weights: cache, select: (l) => l !== 'fc.weight' });
    expect(cache.size).toBe(2);
    expect([...cache.values()][0]).toBe(first); // the same arrays: not quantized again
  });

  it('refuses a frozen op it cannot rewrite, naming the layer and op; refuses a layer without a range', async () => {
    const calibration = await calibrate();
    const b = network();
    const y = b.op1('ConvTranspose', [b.input('z', [1, C, 2, 2]), b.weight('up.weight', [C, C, 2, 2], normalData(C * C * 4, 9))], { strides: [2, 2] });
    b.output(y, 'up', [1, C, 4, 4]);
    let err: unknown;
    try { quantizeFrozenLayers(b, { calibration, form: 'qlinear' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(Int8UnsupportedError);
    expect((err as Int8UnsupportedError).layer).toBe('up.weight');
    expect((err as Error).message).toBe("int8: layer 'up.weight' (ConvTranspose) cannot be quantized: the int8 rewrite handles Conv, Gemm and MatMul, not ConvTranspose; use precision fp32 (auto falls back to it)");
    const partial: Calibration = { ...calibration, ranges: new Map([...calibration.ranges].filter(([k]) => k !== 'conv2.weight')) };
    expect(() => quantizeFrozenLayers(network(), { calibration: partial, form: 'qlinear' })).toThrow("the calibration (16 images) has no range for layer(s) 'conv2.weight' (Conv)");
  });

  it('precision: int8 opens int8, auto falls back to fp32 with the reason, explicit int8 fails, fp32 is fp32', async () => {
    const calibration = await calibrate();
    const open = async (int8: unknown) => {
      const b = network();
      if (int8) b.op1('ConvTranspose', [b.input('z', [1, C, 2, 2]), b.weight('up.weight', [C, C, 2, 2], new Float32Array(C * C * 4))], {});
      return { int8Layers: int8 ? quantizeFrozenLayers(b, int8 as never).layers.length : 0 };
    };
    const auto = await openWithPrecision({ precision: 'auto', calibration, precisionKey: 'eval.precision' }, open);
    expect(auto.precision).toEqual({ precision: 'fp32', reason: expect.stringContaining("auto: fp32, int8 unavailable: int8: layer 'up.weight' (ConvTranspose) cannot be quantized"), calibration: null, form: null, layers: 0 });
    await expect(openWithPrecision({ precision: 'int8', calibration }, open)).rejects.toThrow("layer 'up.weight' (ConvTranspose)");
    const ok = await openWithPrecision({ precision: 'int8', calibration }, async (int8) => ({ int8Layers: int8 ? quantizeFrozenLayers(network(), int8).layers.length : 0 }));
    expect(ok.precision).toMatchObject({ precision: 'int8', reason: 'configured', layers: 3, form: 'qlinear', calibration: describeCalibration(calibration) });
    const none = await openWithPrecision({ precision: 'auto', precisionKey: 'train.precision' }, open);
    expect(none.precision.reason).toBe("auto: fp32, int8 unavailable: train.precision auto: no calibration; int8 needs activation ranges measured on the run's training images");
    await expect(openWithPrecision({ precision: 'int8' }, open)).rejects.toThrow('precision int8: no calibration');
    await expect(openWithPrecision({ precision: 'bf16' as never, precisionKey: 'eval.precision' }, open)).rejects.toThrow("eval.precision is 'bf16'; expected one of fp32, int8, auto");
    expect((await openWithPrecision({}, open)).precision).toMatchObject({ precision: 'fp32', reason: 'configured' });
  });
});
