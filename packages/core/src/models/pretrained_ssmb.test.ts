// SSMB on the pre-trained families (their package weights): the wrapped model starts as the backbone,
// every expert that receives samples gets a gradient through the frozen network, Adam steps leak nothing;
// and the frozen network's hand-written input gradient agrees with autodiff of the same network unfrozen,
// on wasm and cpu.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { initBackend } from '../backend.ts';
import { crossModalContrastiveLoss } from '../losses/cross_modal_contrastive.ts';
import { loadBalancingLoss } from '../losses/load_balancing.ts';
import { teacherStudentLoss } from '../losses/teacher_student.ts';
import { disposeHFROutput, HFRModel } from './hfr_model.ts';
import { importPretrained, listPretrainedBackbones } from '../weights/pretrained.ts';
import { cosine } from '../weights/onnx/nchw.ts';

beforeAll(async () => {
  expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
});

const images = (B: number, S: number, seed: number) => tf.randomUniform([B, S, S, 3], -1, 1, 'float32', seed) as tf.Tensor4D;

describe.each(listPretrainedBackbones())('%s', (name) => {
  it('frozen input gradient agrees with autodiff of the unfrozen network, on wasm and cpu', async () => {
    const { model } = importPretrained(name);
    const S = model.input.size;
    try {
      for (const [backend, B] of [['wasm', 2], ['cpu', 1]] as const) {
        await tf.setBackend(backend);
        const x = images(B, S, 3);
        const r = tf.randomNormal([B, model.embeddingSize], 0, 1, 'float32', 4);
        const dx = (frozen: boolean) => {
          model.setFrozen(frozen);
          return tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(model.forward(xi as tf.Tensor4D), r)))(x);
        };
        const a = dx(true), b = dx(false);
        const [av, bv] = [a.dataSync() as Float32Array, b.dataSync() as Float32Array];
        // folded and unfolded arithmetic round differently, so a few ReLU / max-pool decisions near their
        // thresholds flip: the gradients agree as vectors, not element by element (frozen_ops.test.ts checks
        // the backward rules themselves to 1e-5 on identical forwards)
        expect(cosine(av, bv), backend).toBeGreaterThanOrEqual(0.9999);
        expect(tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0])).toBeGreaterThan(0);
        tf.dispose([x, r, a, b]);
      }
    } finally {
      await tf.setBackend('wasm');
      model.dispose();
    }
  });

  it('SSMB: identity at initialisation, every routed expert gets a gradient, backbone untouched, no tensor leak', () => {
    const { model: backbone } = importPretrained(name);
    const taps = backbone.taps.slice(0, 3).map((t) => t.name);
    const model = new HFRModel(backbone, { numExperts: 3, taps, seed: 5 });
    const S = backbone.input.size;
    const B = 4;
    const v = images(B, S, 1), t = images(B, S, 2);
    const y = [1, 0, 1, 0];
    // starts exactly as the pre-trained network
    const out = model.forward(v);
    const tv = model.teacherForward(v);
    expect(out.routings.map((r) => r.tap)).toEqual(taps);
    expect(Array.from(out.embedding.dataSync())).toEqual(Array.from(tv.dataSync()));
    const routed = out.routings.map((r) => Array.from(r.expert.dataSync()));
    disposeHFROutput(out);
    const routedT = tf.tidy(() => model.forward(t).routings.map((r) => Array.from(r.expert.dataSync())));
    const lossFn = () => {
      const sv = model.forward(v), st = model.forward(t);
      return tf.addN([
        crossModalContrastiveLoss(sv.embedding, st.embedding, y),
        teacherStudentLoss(sv.embedding, st.embedding, tv, y),
        tf.mul(0.01, loadBalancingLoss([...sv.routings, ...st.routings])),
      ]) as tf.Scalar;
    };
    const vars = model.trainableVariables;
    const { value, grads } = tf.variableGrads(lossFn, vars);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    [...model.blocks.values()].forEach((block, i) => {
      const used = new Set([...routed[i], ...routedT[i]]);
      for (let k = 0; k < 3; k++) {
        const g = grads[block.params.get('experts.fc2.weight')!.name];
        const norm = tf.tidy(() => tf.sum(tf.abs(tf.gather(g, [k]))).dataSync()[0]);
        expect(norm > 0, `${taps[i]} expert ${k} (routed: ${used.has(k)})`).toBe(used.has(k));
      }
    });
    tf.dispose([value, ...Object.values(grads)]);
    const firstKey = [...backbone.params.keys()][0];
    const before = Array.from(backbone.params.get(firstKey)!.dataSync());
    const opt = tf.train.adam(1e-2);
    const step = () => tf.dispose(opt.minimize(lossFn, true, vars) ?? []);
    step();
    const n1 = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(n1);
    expect(Array.from(backbone.params.get(firstKey)!.dataSync())).toEqual(before);
    const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(model.forward(v).embedding, tv))).dataSync()[0]);
    expect(moved).toBeGreaterThan(0);
    opt.dispose();
    tf.dispose([v, t, tv]);
    model.dispose();
  });
});
