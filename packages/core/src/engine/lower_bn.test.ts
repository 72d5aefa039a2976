import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { decodeOnnxModel, encodeOnnxModel } from '../weights/onnx/onnx_proto.ts';
import { normalData } from './grad_check.ts';
import { lowerBnReading } from './lower_bn.ts';
import { parityModel } from './parity_fixtures.ts';
import { buildInferenceGraph, engineModelOf, IMAGES_INPUT } from './student_graph.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const C = 16, SHAPE = [2, C, 5, 5];
const X = normalData(2 * C * 25, 3);
const bnParts = (seed: number) => {
  const n = normalData(4 * C, seed);
  return [n.slice(0, C).map((v) => 1 + 0.5 * v), n.slice(C, 2 * C), n.slice(2 * C, 3 * C), n.slice(3 * C).map((v) => 0.2 + v * v)]; // scale, bias, mean, var > 0
};

/** x -> v = Relu(x) (stands for an SSMB block's output); BN(v) constant (eps 1e-3), BN(x) constant,
 *  BN(v) with its scale a graph input. */
function graph(lower: boolean) {
  const b = new OnnxGraphBuilder();
  const x = b.input('x', ['batch', ...SHAPE.slice(1)]);
  const scaleIn = b.input('scale', [C]);
  const v = b.op1('Relu', [x]);
  const consts = (hint: string, seed: number) => bnParts(seed).map((d, k) => b.weight(`${hint}_${k}`, [C], d));
  const [s1, b1, m1, v1] = consts('bn1', 5);
  b.output(b.op1('BatchNormalization', [v, s1, b1, m1, v1], { epsilon: 1e-3 }), 'y1', SHAPE);
  b.output(b.op1('BatchNormalization', [x, ...consts('bn2', 6)], {}), 'y2', SHAPE);
  b.output(b.op1('BatchNormalization', [v, scaleIn, b1, m1, v1], { epsilon: 1e-3 }), 'y3', SHAPE);
  const lowered = lower ? lowerBnReading(b, new Set([v])) : 0;
  return { b, lowered };
}

async function run(b: OnnxGraphBuilder) {
  const s = await ort.InferenceSession.create(encodeOnnxModel(b.toModel({ graphName: 't' })), { logSeverityLevel: 3 });
  const out = await s.run({ x: new ort.Tensor('float32', X, SHAPE), scale: new ort.Tensor('float32', bnParts(5)[0], [C]) });
  await s.release();
  return out;
}

describe('lowerBnReading', () => {
  it('rewrites a constant BatchNormalization reading a listed value into the depthwise 1x1 conv it computes, and leaves the others', async () => {
    const ref = await run(graph(false).b);
    const { b, lowered } = graph(true);
    expect(lowered).toBe(1);
    const producer = (out: string) => b.nodes.find((n) => n.outputs.includes(b.nodes.find((o) => o.outputs[0] === out)!.inputs[0]))!;
    expect(producer('y1')).toMatchObject({ opType: 'Conv', attrs: { group: C, kernel_shape: [1, 1] } });
    expect(producer('y2').opType).toBe('BatchNormalization'); // reads x, not a listed value
    expect(producer('y3').opType).toBe('BatchNormalization'); // its scale is not a constant
    expect(b.initializers.has('bn1_0')).toBe(false); // its scale, read by nothing else now, is dropped
    expect(b.initializers.has('bn1_1')).toBe(true); // its bias, still read by the third BN, is kept
    const got = await run(b);
    for (const k of ['y1', 'y2', 'y3']) {
      const want = ref[k].data as Float32Array, y = got[k].data as Float32Array;
      for (let i = 0; i < y.length; i++) expect(Math.abs(y[i] - want[i])).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(want[i])));
    }
  });

  it('in an inference graph: the BN after each SSMB block becomes a conv, with the same embeddings and routing', async () => {
    const p = parityModel('iresnet-synth', { taps: ['stem', 'layer1'], numExperts: 3, kind: 'style' }, 4, 2);
    const m = engineModelOf(p.model);
    const graphs = [buildInferenceGraph(m, { lowerBn: false }), buildInferenceGraph(m)];
    const bnCount = graphs.map((g) => decodeOnnxModel(g.bytes).graph.nodes.filter((n) => n.opType === 'BatchNormalization').length);
    expect(bnCount[0] - bnCount[1]).toBeGreaterThanOrEqual(1);
    const S = graphs[0].imageSize;
    const outs = await Promise.all(graphs.map(async (g) => {
      const s = await ort.InferenceSession.create(g.bytes, { logSeverityLevel: 3 });
      const o = await s.run({ [IMAGES_INPUT]: new ort.Tensor('float32', p.images, [8, S, S, 3]) });
      await s.release();
      return o;
    }));
    const [a, b] = outs.map((o) => o.embedding.data as Float32Array);
    const scale = Math.max(...Array.from(a, Math.abs));
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-5 * scale);
    for (const tap of graphs[0].taps) expect(Array.from(outs[1][`routing_${tap}`].data as BigInt64Array)).toEqual(Array.from(outs[0][`routing_${tap}`].data as BigInt64Array));
    p.model.dispose();
  });
});
