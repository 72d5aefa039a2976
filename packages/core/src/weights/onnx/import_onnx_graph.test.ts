import { beforeAll, describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { tf } from '../../tf.ts';
import { IResNet } from '../../models/iresnet.ts';
import { randomImagesNHWC, randomInsightfaceStateDict } from './onnx_fixtures.ts';
import { iresnetOnnxBytes, ONNX_INPUT } from './iresnet_onnx_graph.ts';
import { cosine, nhwcToNchw } from './nchw.ts';
import { decodeOnnxModel, encodeOnnxModel, type OnnxModel, type OnnxNode } from './onnx_proto.ts';
import { importOnnxGraph } from './import_onnx_graph.ts';
import { insightfaceToOurs } from './insightface_convert.ts';
import { archName, type IResNetShape } from './insightface_layout.ts';

const shape: IResNetShape = { depths: [1, 2, 1, 1], widths: [8, 16, 16, 32], stemWidth: 8, inputSize: 32, embeddingSize: 16 };
const N = 3;
const S = shape.inputSize;
const E = shape.embeddingSize;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * Our export rewritten the way torch.onnx.export(..., do_constant_folding=False) writes an insightface
 * IResNet (checked against real torch 1.13 exports, opset 11 and 13): every PRelu slope stored as [C]
 * and unsqueezed in the graph (axes as an attribute before opset 13, as a Constant input from 13), plus an
 * Identity copy of a conv weight, a Cast of the fc bias and a Reshape of the fc weight.
 */
function unfoldLikeTorch(m: OnnxModel, opset: 11 | 13): OnnxModel {
  const g = m.graph;
  const nodes: OnnxNode[] = [];
  const node = (opType: string, inputs: string[], output: string, attrs: OnnxNode['attrs'] = {}): OnnxNode => ({ name: `/${output}`, opType, domain: '', inputs, outputs: [output], attrs });
  for (const n of g.nodes) {
    if (n.opType === 'PRelu') {
      const slope = g.initializers.get(n.inputs[1])!;
      g.initializers.set(slope.name, { ...slope, dims: [slope.dims[0]] });
      const out = `${slope.name}/Unsqueeze_output_0`;
      if (opset === 11) nodes.push(node('Unsqueeze', [slope.name], out, { axes: [1, 2] }));
      else {
        nodes.push(node('Constant', [], `${slope.name}/Constant_output_0`, { value: { name: '', dims: [2], dataType: 7, data: BigInt64Array.from([1n, 2n]) } }));
        nodes.push(node('Unsqueeze', [slope.name, `${slope.name}/Constant_output_0`], out));
      }
      nodes.push({ ...n, inputs: [n.inputs[0], out] });
    } else if (n.opType === 'Conv' && n.inputs[1] === 'conv1.weight') {
      nodes.push(node('Identity', ['conv1.weight'], 'conv1.weight/copy'));
      nodes.push({ ...n, inputs: [n.inputs[0], 'conv1.weight/copy', ...n.inputs.slice(2)] });
    } else if (n.opType === 'Gemm') {
      const w = g.initializers.get(n.inputs[1])!;
      g.initializers.set(w.name, { ...w, dims: [w.dims[0] * w.dims[1]] });
      g.initializers.set('fc.shape', { name: 'fc.shape', dims: [2], dataType: 7, data: BigInt64Array.from(w.dims.map(BigInt)) });
      nodes.push(node('Reshape', [w.name, 'fc.shape'], 'fc.weight/reshaped'));
      nodes.push(node('Cast', [n.inputs[2]], 'fc.bias/cast', { to: 1 }));
      nodes.push({ ...n, inputs: [n.inputs[0], 'fc.weight/reshaped', 'fc.bias/cast'] });
    } else nodes.push(n);
  }
  return { ...m, opset: [{ domain: '', version: opset }], graph: { ...g, nodes } };
}

async function ortEmbed(bytes: Uint8Array, xNhwc: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const r = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', nhwcToNchw(xNhwc, N, S, S, 3), [N, 3, S, S]) });
  return r.embedding.data as Float32Array;
}

describe('importOnnxGraph (insightface-layout IResNet)', () => {
  const sd = randomInsightfaceStateDict(shape, 3);
  const x = randomImagesNHWC(N, S, 11);
  const x0 = x;

  for (const variant of [{ name: 'named, BN separate', opts: {} }, { name: 'anonymous initializers, BN folded', opts: { foldBn: true, anonymous: true } }]) {
    it(`${variant.name}: detects the architecture and our embeddings match onnxruntime (cosine >= 0.9999)`, async () => {
      const bytes = iresnetOnnxBytes(sd, shape, variant.opts);
      const imp = importOnnxGraph(decodeOnnxModel(bytes));
      expect(imp.shape).toEqual(shape);
      expect(imp.folded).toBe(!!variant.opts.foldBn);
      const ours = insightfaceToOurs(imp.stateDict, imp.shape, 'test');
      const model = new IResNet({ arch: archName(imp.shape), ...imp.shape, dropout: 0 }, { frozen: true });
      for (const [k, t] of ours) model.params.get(k)!.assign(tf.tensor(t.data, t.shape));
      const before = tf.memory().numTensors;
      const y = model.forward(tf.tensor4d(x, [N, S, S, 3]));
      const mine = y.dataSync() as Float32Array;
      tf.dispose(y);
      const ref = await ortEmbed(bytes, x);
      for (let i = 0; i < N; i++) expect(cosine(mine.subarray(i * E, (i + 1) * E), ref.subarray(i * E, (i + 1) * E))).toBeGreaterThanOrEqual(0.9999);
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 64); // folded-weight cache only
      model.dispose();
    });
  }

  it('follows the dynamic Shape/Gather/Unsqueeze/Concat/Reshape flatten of older PyTorch exports', async () => {
    const m = decodeOnnxModel(iresnetOnnxBytes(sd, shape, { foldBn: true, anonymous: true }));
    const at = m.graph.nodes.findIndex((n) => n.opType === 'Flatten');
    const [x, out] = [m.graph.nodes[at].inputs[0], m.graph.nodes[at].outputs[0]];
    const i64 = (name: string, values: number[], dims: number[]) => m.graph.initializers.set(name, { name, dims, dataType: 7, data: BigInt64Array.from(values.map(BigInt)) });
    i64('c0', [0], []);
    i64('axes0', [0], [1]);
    i64('minus1', [-1], [1]);
    const node = (opType: string, inputs: string[], output: string, attrs = {}) => ({ name: output, opType, domain: '', inputs, outputs: [output], attrs });
    m.graph.nodes.splice(at, 1,
      node('Shape', [x], 'shp'), node('Gather', ['shp', 'c0'], 'bsz', { axis: 0 }), node('Unsqueeze', ['bsz', 'axes0'], 'bsz1'),
      node('Concat', ['bsz1', 'minus1'], 'target', { axis: 0 }), node('Reshape', [x, 'target'], out));
    const bytes = encodeOnnxModel(m);
    const imp = importOnnxGraph(decodeOnnxModel(bytes));
    expect(imp.shape).toEqual(shape);
    const model = new IResNet({ arch: 'x', ...imp.shape, dropout: 0 }, { frozen: true });
    for (const [k, t] of insightfaceToOurs(imp.stateDict, imp.shape, 'test')) model.params.get(k)!.assign(tf.tensor(t.data, t.shape));
    const y = model.forward(tf.tensor4d(x0, [N, S, S, 3]));
    const mine = y.dataSync() as Float32Array;
    y.dispose();
    const ref = await ortEmbed(bytes, x0);
    for (let i = 0; i < N; i++) expect(cosine(mine.subarray(i * E, (i + 1) * E), ref.subarray(i * E, (i + 1) * E))).toBeGreaterThanOrEqual(0.9999);
    model.dispose();
  });

  it('carries a BatchNormalization epsilon other than 1e-5 (MXNet-converted files use 2e-5) into the running variance', async () => {
    const m = decodeOnnxModel(iresnetOnnxBytes(sd, shape));
    for (const n of m.graph.nodes) if (n.opType === 'BatchNormalization') n.attrs.epsilon = 2e-3; // large enough to matter
    const bytes = encodeOnnxModel(m);
    const imp = importOnnxGraph(decodeOnnxModel(bytes));
    const model = new IResNet({ arch: 'x', ...imp.shape, dropout: 0 }, { frozen: true });
    for (const [k, t] of insightfaceToOurs(imp.stateDict, imp.shape, 'test')) model.params.get(k)!.assign(tf.tensor(t.data, t.shape));
    const y = model.forward(tf.tensor4d(x0, [N, S, S, 3]));
    const mine = y.dataSync() as Float32Array;
    y.dispose();
    const ref = await ortEmbed(bytes, x0);
    const plain = await ortEmbed(iresnetOnnxBytes(sd, shape), x0);
    for (let i = 0; i < N; i++) {
      const row = (a: Float32Array) => a.subarray(i * E, (i + 1) * E);
      expect(cosine(row(mine), row(ref))).toBeGreaterThanOrEqual(0.9999);
      expect(Math.max(...row(ref).map((v, j) => Math.abs(v - row(plain)[j])))).toBeGreaterThan(1e-3); // epsilon mattered
    }
    model.dispose();
  });

  for (const opset of [11, 13] as const) {
    it(`folds the constant subgraphs of a do_constant_folding=False export (opset ${opset}): Unsqueeze, Constant, Identity, Cast, Reshape`, async () => {
      const bytes = encodeOnnxModel(unfoldLikeTorch(decodeOnnxModel(iresnetOnnxBytes(sd, shape, { foldBn: true })), opset));
      const m = decodeOnnxModel(bytes);
      expect(m.graph.nodes.filter((n) => n.opType === 'Unsqueeze')).toHaveLength(1 + shape.depths.reduce((a, b) => a + b, 0));
      const ops = new Set(m.graph.nodes.map((n) => n.opType));
      for (const op of ['Identity', 'Cast', 'Reshape']) expect(ops.has(op), op).toBe(true);
      const imp = importOnnxGraph(m, 'unfolded.onnx');
      expect(imp.shape).toEqual(shape);
      expect(imp.folded).toBe(true);
      const model = new IResNet({ arch: 'x', ...imp.shape, dropout: 0 }, { frozen: true });
      for (const [k, t] of insightfaceToOurs(imp.stateDict, imp.shape, 'test')) model.params.get(k)!.assign(tf.tensor(t.data, t.shape));
      const y = model.forward(tf.tensor4d(x0, [N, S, S, 3]));
      const mine = y.dataSync() as Float32Array;
      y.dispose();
      const ref = await ortEmbed(bytes, x0); // onnxruntime runs the unfolded file as it is
      for (let i = 0; i < N; i++) expect(cosine(mine.subarray(i * E, (i + 1) * E), ref.subarray(i * E, (i + 1) * E))).toBeGreaterThanOrEqual(0.9999);
      model.dispose();
    });
  }

  it('lists unknown tensors by name and shape', () => {
    const m = decodeOnnxModel(iresnetOnnxBytes(sd, shape, { foldBn: true, anonymous: true }));
    m.graph.initializers.set('extra.weight', { name: 'extra.weight', dims: [2, 3], dataType: 1, data: new Float32Array(6) });
    expect(() => importOnnxGraph(decodeOnnxModel(encodeOnnxModel(m)), 'user.onnx')).toThrow(/user\.onnx: unknown tensors not part of the IResNet structure: extra\.weight \[2,3\]/);
  });

  it('names the node where the structure is not an IResNet', () => {
    const m = decodeOnnxModel(iresnetOnnxBytes(sd, shape));
    const prelu = m.graph.nodes.find((n) => n.opType === 'PRelu')!;
    prelu.opType = 'Relu';
    prelu.inputs = prelu.inputs.slice(0, 1);
    m.graph.initializers.delete('prelu.weight');
    expect(() => importOnnxGraph(m, 'relu.onnx')).toThrow(/relu\.onnx: expected one PRelu node after stem .*found \[Relu/);
  });

  it('rejects initializer names that contradict the structure', () => {
    const m = decodeOnnxModel(iresnetOnnxBytes(sd, shape));
    // the two convs of layer2.1 have the same shape: wire each to the other's initializer
    const c1 = m.graph.nodes.find((n) => n.opType === 'Conv' && n.inputs[1] === 'layer2.1.conv1.weight')!;
    const c2 = m.graph.nodes.find((n) => n.opType === 'Conv' && n.inputs[1] === 'layer2.1.conv2.weight')!;
    [c1.inputs[1], c2.inputs[1]] = [c2.inputs[1], c1.inputs[1]];
    expect(() => importOnnxGraph(m, 'swapped.onnx')).toThrow(/swapped\.onnx: initializer 'layer2\.1\.conv2\.weight' sits where the graph structure expects 'layer2\.1\.conv1\.weight'/);
  });
});
