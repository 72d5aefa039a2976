// The forward-only loss session (buildTrainingGraph with gradients: false, OrtSsmbTrainer.evaluate): what the
// trainer's fixed-pair loss estimate runs on onnxruntime. It must compute the training graph's objective
// exactly (same loss parts and routing as a full step, and as tfjs), with no gradient node in the graph.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.ts';
import { parityModel, ssmbParamValues, tfjsStep } from './parity_fixtures.ts';
import { OrtSsmbTrainer } from './ssmb_trainer.ts';
import { buildTrainingGraph, engineModelOf, gradOutputName } from './student_graph.ts';
import { decodeOnnxModel } from '../weights/onnx/onnx_proto.ts';

const LOSS = { margin: 0.1, lambdaTs: 1, alpha: 0.05 };

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('forward-only SSMB loss graph (gradients: false)', () => {
  it('has the training graph forward and no gradient nodes or outputs', () => {
    const p = parityModel('iresnet-tiny', { taps: ['stem', 'layer1'], numExperts: 2 }, 3, 5);
    try {
      const m = engineModelOf(p.model);
      const train = buildTrainingGraph(m, { pairs: 3, loss: LOSS });
      const fwd = buildTrainingGraph(m, { pairs: 3, loss: LOSS, gradients: false });
      expect(train.gradients).toBe(true);
      expect(fwd.gradients).toBe(false);
      expect(fwd.stats.forwardNodes).toBe(train.stats.forwardNodes);
      expect(fwd.stats.gradientNodes).toBe(0);
      expect(train.stats.gradientNodes).toBeGreaterThan(0);
      expect(fwd.params).toEqual(train.params); // same parameter inputs: the estimate feeds the current weights
      const outputs = decodeOnnxModel(fwd.bytes).graph.outputs.map((o) => o.name);
      expect(outputs).toContain('loss');
      for (const q of fwd.params) expect(outputs).not.toContain(gradOutputName(q.name));
      expect(fwd.bytes.length).toBeLessThan(train.bytes.length);
    } finally {
      p.model.dispose();
    }
  });

  it('evaluate() = the training step\'s loss, parts and routing = tfjs; step() on it is refused', async () => {
    const pairs = 4;
    const p = parityModel('iresnet-synth', { taps: ['stem', 'layer1'], numExperts: 2 }, pairs, 4);
    const model = engineModelOf(p.model);
    const ref = tfjsStep(p, LOSS);
    const input = { images: p.images, labels: p.labels, teacher: ref.teacher, params: ssmbParamValues(p.model) };
    const lossOnly = await OrtSsmbTrainer.create(model, { pairs, loss: LOSS, threads: 1, gradients: false });
    const full = await OrtSsmbTrainer.create(model, { pairs, loss: LOSS, threads: 1 });
    try {
      expect(lossOnly.gradients).toBe(false);
      expect(lossOnly.description.nodes.gradient).toBe(0);
      const est = await lossOnly.evaluate(input);
      const step = await full.step(input);
      expect(Math.abs(est.loss - ref.loss) / Math.abs(ref.loss)).toBeLessThan(1e-4);
      for (const k of ['loss', 'lossCc', 'lossTs', 'lossLb'] as const) expect(est[k]).toBeCloseTo(step[k], 6);
      for (const r of est.routing) expect(Array.from(r.expert.subarray(0, 2 * pairs))).toEqual(Array.from(step.routing.find((s) => s.tap === r.tap)!.expert));
      for (const r of est.routing) expect(Array.from(r.expert)).toEqual(Array.from(ref.experts.get(r.tap)!));
      expect(est).not.toHaveProperty('grads');
      await expect(lossOnly.step(input)).rejects.toThrow(/built with gradients: false/);
      // a training session evaluates too (same objective, gradients not read)
      expect((await full.evaluate(input)).loss).toBeCloseTo(step.loss, 6);
      // inputs are checked as for a step
      await expect(lossOnly.evaluate({ ...input, labels: new Float32Array(pairs + 1) })).rejects.toThrow(/labels has 5 values; expected \[4\]/);
    } finally {
      await lossOnly.release();
      await full.release();
      p.model.dispose();
    }
  });
});
