import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { encodeOnnxModel } from '../weights/onnx/onnx_proto.ts';
import { gradCheck, normalData } from './grad_check.ts';
import { lowerConstantPrelu } from './lower_prelu.ts';

// slopes on both sides of 0 and 1 (a trained PReLU's can be anywhere), x kept off the kink
const SLOPES = Float32Array.of(0.25, -0.1, 0.9, 1.3);
const SHAPE = [2, 4, 5, 5];
const X = normalData(2 * 4 * 5 * 5, 7).map((v) => (v >= 0 ? v + 0.05 : v - 0.05));

function preluGraph(lower: boolean, batch: number | string = SHAPE[0]) {
  const b = new OnnxGraphBuilder();
  const x = b.input('x', [batch, ...SHAPE.slice(1)]);
  b.output(b.op1('PRelu', [x, b.weight('slope', [4, 1, 1], SLOPES)]), 'y', [batch, ...SHAPE.slice(1)]);
  const lowered = lower ? lowerConstantPrelu(b) : 0;
  return { b, lowered };
}

async function run(b: OnnxGraphBuilder): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(encodeOnnxModel(b.toModel({ graphName: 't' })), { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const out = await s.run({ x: new ort.Tensor('float32', X, SHAPE) });
  await s.release();
  return out.y.data as Float32Array;
}

describe('lowerConstantPrelu', () => {
  it('rewrites a constant per-channel PRelu into BN -> Relu -> BN -> Add with the same values (dynamic batch too)', async () => {
    for (const batch of [SHAPE[0], 'batch'] as const) {
      const ref = await run(preluGraph(false, batch).b);
      const { b, lowered } = preluGraph(true, batch);
      expect(lowered).toBe(1);
      expect(b.nodes.map((n) => n.opType)).toEqual(['BatchNormalization', 'Relu', 'BatchNormalization', 'Add', 'Identity']);
      expect(b.initializers.has('slope')).toBe(false); // no unused initializer left behind
      const y = await run(b);
      for (let i = 0; i < y.length; i++) {
        const want = X[i] > 0 ? X[i] : SLOPES[Math.floor(i / 25) % 4] * X[i];
        expect(Math.abs(y[i] - ref[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want)));
        expect(Math.abs(y[i] - want)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want)));
      }
    }
  });

  it('differentiates like PRelu (finite differences through the rewritten nodes)', async () => {
    const r = await gradCheck({
      inputs: [{ name: 'x', shape: SHAPE, data: X }, { name: 'slope', shape: [4, 1, 1], data: SLOPES, constant: true }],
      build: (b, v) => {
        const y = b.op1('PRelu', [v.x, v.slope]);
        expect(lowerConstantPrelu(b)).toBe(1);
        return y;
      },
    });
    expect(r.errors.x).toBeLessThan(2e-3);
  });

  it('leaves a trainable slope (a graph input) and a non-per-channel slope alone', () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', SHAPE);
    const trained = b.op1('PRelu', [x, b.input('slope', [4, 1, 1])]);
    b.op1('PRelu', [trained, b.weight('shared', [1], Float32Array.of(0.2))]);
    expect(lowerConstantPrelu(b)).toBe(0);
    expect(b.nodes.map((n) => n.opType)).toEqual(['PRelu', 'PRelu']);
  });
});
