import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { crossModalContrastiveLoss } from '../losses/cross_modal_contrastive.ts';
import { loadBalancingLoss } from '../losses/load_balancing.ts';
import { teacherStudentLoss } from '../losses/teacher_student.ts';
import { disposeHFROutput, HFRModel, resolveHFRConfig } from './hfr_model.ts';
import { createIResNet } from './registry.ts';
import { listExpertKinds } from '../ssmb/experts/index.ts';
import { loadModel, saveWeights, serializeWeights } from '../weights/weights_io.ts';
import { decodeSafetensors, encodeSafetensors } from '../weights/safetensors.ts';
import { mulberry32Step } from '../rng.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const B = 4;
const input = (seed: number) => tf.randomUniform([B, 32, 32, 3], -1, 1, 'float32', seed) as tf.Tensor4D;

describe('HFRModel', () => {
  it('starts exactly as the backbone; teacher = backbone; only SSMB parameters train', () => {
    const model = new HFRModel(createIResNet('iresnet-tiny', { seed: 1 }), { numExperts: 3 });
    expect(model.backbone.trainableVariables).toHaveLength(0);
    expect(model.trainableVariables.length).toBe(3 * 6); // 3 blocks x (router w,b + fc1 w,b + fc2 w,b)
    expect([...model.blocks.keys()]).toEqual(['stem', 'layer1', 'layer2']);
    expect(model.blocks.get('layer2')!.channels).toBe(8);
    const x = input(1);
    const before = tf.memory().numTensors;
    const out = model.forward(x);
    const t = model.teacherForward(x);
    expect(out.routings.map((r) => r.tap)).toEqual(['stem', 'layer1', 'layer2']);
    expect(out.routings[0].probs.shape).toEqual([B, 3]);
    expect(Array.from(out.embedding.dataSync())).toEqual(Array.from(t.dataSync()));
    disposeHFROutput(out);
    t.dispose();
    // forward + teacher leave nothing behind apart from the backbone's fold cache built on first use
    const mid = tf.memory().numTensors;
    disposeHFROutput(model.forward(x));
    expect(tf.memory().numTensors).toBe(mid);
    expect(mid - before).toBeLessThan(60);
    x.dispose();
    model.dispose();
  });

  it('trains with Adam: used experts get gradient, backbone untouched, no tensor leaks', () => {
    const model = new HFRModel(createIResNet('iresnet-tiny', { seed: 2 }), { numExperts: 2, seed: 3 });
    const v = input(2), t = input(3);
    const y = [1, 0, 1, 0];
    const tv = model.teacherForward(v);
    const opt = tf.train.adam(1e-2);
    const vars = model.trainableVariables;
    const backboneBefore = Array.from(model.backbone.params.get('layer1.0.conv1.weight')!.dataSync());
    const lossFn = () => {
      const sv = model.forward(v), st = model.forward(t);
      return tf.addN([
        crossModalContrastiveLoss(sv.embedding, st.embedding, y),
        teacherStudentLoss(sv.embedding, st.embedding, tv, y),
        tf.mul(0.01, loadBalancingLoss([...sv.routings, ...st.routings])),
      ]) as tf.Scalar;
    };
    // Gradients: every expert that received samples has a non-zero gradient (fc2 starts at zero, so the
    // first gradient reaches fc2; the rest follows once fc2 moves).
    const routed = tf.tidy(() => model.forward(v).routings.map((r) => Array.from(r.expert.dataSync())));
    const routedT = tf.tidy(() => model.forward(t).routings.map((r) => Array.from(r.expert.dataSync())));
    const { value, grads } = tf.variableGrads(lossFn, vars);
    [...model.blocks.values()].forEach((block, i) => {
      const used = new Set([...routed[i], ...routedT[i]]);
      for (let k = 0; k < 2; k++) {
        const g = grads[block.params.get('experts.fc2.weight')!.name];
        const norm = tf.tidy(() => tf.sum(tf.abs(tf.gather(g, [k]))).dataSync()[0]);
        expect(norm > 0).toBe(used.has(k));
      }
    });
    tf.dispose([value, ...Object.values(grads)]);
    // Adam steps: the first creates the optimizer's slots; later steps must not grow the tensor count.
    const step = () => tf.dispose(opt.minimize(lossFn, true, vars) ?? []);
    step();
    const n1 = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(n1);
    expect(Array.from(model.backbone.params.get('layer1.0.conv1.weight')!.dataSync())).toEqual(backboneBefore);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(model.forward(v).embedding, tv))).dataSync()[0]);
    expect(diff).toBeGreaterThan(0); // the SSMBs now modulate the features
    opt.dispose();
    tf.dispose([v, t, tv]);
    model.dispose();
  });

  it('supports style+spatial experts and other taps; rejects unknown taps and keys', () => {
    const model = new HFRModel(createIResNet('iresnet-tiny'), { taps: ['layer3', 'stem'], numExperts: 2, kind: 'style+spatial' });
    expect([...model.blocks.keys()]).toEqual(['stem', 'layer3']);
    const x = input(4);
    const out = model.forward(x);
    const t = model.teacherForward(x);
    expect(Array.from(out.embedding.dataSync())).toEqual(Array.from(t.dataSync()));
    disposeHFROutput(out);
    tf.dispose([x, t]);
    model.dispose();
    const bb = createIResNet('iresnet-tiny');
    expect(() => new HFRModel(bb, { taps: ['layer5' as never] })).toThrow(/backbone iresnet-tiny has no tap "layer5"; its taps: stem, layer1, layer2, layer3, layer4/);
    expect(() => new HFRModel(bb, { taps: [] })).toThrow(/taps must name at least one/);
    expect(() => new HFRModel(bb, { experts: 2 } as never)).toThrow(/unknown key\(s\) experts/);
    expect(() => new HFRModel(bb, { numExperts: 0 })).toThrow(/numExperts must be an integer >= 1, received 0/);
    bb.dispose();
  });

  it.each(listExpertKinds())('every expert kind (%s): starts as the backbone, saves and loads with its router options', (kind) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hfr-kind-'));
    try {
      const model = new HFRModel(createIResNet('iresnet-tiny', { seed: 1 }), { numExperts: 2, kind, routing: 'soft', routerInput: 'mean', routerJitter: 0.1, taps: ['stem', 'layer2'] });
      expect(model.config).toMatchObject({ kind, routing: 'soft', routerInput: 'mean', routerJitter: 0.1 });
      expect([...model.blocks.values()].map((b) => [b.kind, b.router.routing, b.router.routerInput, b.router.routerJitter])).toEqual([[kind, 'soft', 'mean', 0.1], [kind, 'soft', 'mean', 0.1]]);
      const x = input(5);
      const out = model.forward(x);
      const t = model.teacherForward(x);
      expect(Array.from(out.embedding.dataSync())).toEqual(Array.from(t.dataSync())); // identity at initialisation
      disposeHFROutput(out);
      for (const v of model.trainableVariables) v.assign(tf.tidy(() => tf.randomNormal(v.shape, 0, 0.3, 'float32', 7)));
      const file = path.join(dir, 'm.safetensors');
      saveWeights(model, file);
      const back = loadModel(file) as HFRModel;
      expect(back.config).toEqual(model.config);
      const [e1, e2] = tf.tidy(() => [model.forward(x).embedding, back.forward(x).embedding]);
      expect(Array.from(e2.dataSync())).toEqual(Array.from(e1.dataSync()));
      expect(Array.from(e1.dataSync())).not.toEqual(Array.from(t.dataSync()));
      tf.dispose([x, t, e1, e2]);
      back.dispose();
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('files written before the router options existed load with the defaults (what those models computed)', () => {
    const model = new HFRModel(createIResNet('iresnet-tiny', { seed: 1 }), { numExperts: 2, taps: ['layer1'] });
    const { tensors, metadata } = decodeSafetensors(serializeWeights(model));
    const cfg = JSON.parse(metadata.model_config);
    const { routerInput: _a, routerJitter: _b, routing: _c, ...old } = cfg.ssmb;
    const dir = mkdtempSync(path.join(tmpdir(), 'hfr-old-'));
    try {
      const file = path.join(dir, 'old.safetensors');
      writeFileSync(file, encodeSafetensors(tensors, { ...metadata, model_config: JSON.stringify({ ...cfg, ssmb: old }) }));
      const back = loadModel(file) as HFRModel;
      expect(back.config).toEqual(model.config);
      expect(back.config).toMatchObject({ routerInput: 'style', routerJitter: 0, routing: 'top1' });
      back.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      model.dispose();
    }
  });

  it('training forward with router jitter draws from the given generator, block by block', () => {
    const model = new HFRModel(createIResNet('iresnet-tiny', { seed: 1 }), { numExperts: 3, routerJitter: 0.3 });
    for (const b of model.blocks.values()) b.params.get('router.weight')!.assign(tf.tidy(() => tf.randomNormal(b.params.get('router.weight')!.shape, 0, 2, 'float32', 3)));
    const rng = (seed: number) => ({ state: seed, next() { const r = mulberry32Step(this.state); this.state = r.state; return r.value; } });
    const x = input(6);
    const probs = (o: ReturnType<HFRModel['forward']>) => o.routings.flatMap((r) => Array.from(r.probs.dataSync()));
    const [a, b, c] = [model.forward(x), model.forward(x, { training: true, rng: rng(1) }), model.forward(x, { training: true, rng: rng(1) })];
    expect(probs(b)).toEqual(probs(c));
    expect(probs(b)).not.toEqual(probs(a));
    expect(() => model.forward(x, { training: true })).toThrow(/pass opts.rng/);
    [a, b, c].forEach(disposeHFROutput);
    x.dispose();
    model.dispose();
  });

  it('rejects an unknown kind or router option, naming the valid ones', () => {
    const bb = { name: 'iresnet-tiny', taps: [{ name: 'stem', channels: 8, spatial: 32 }] };
    expect(() => resolveHFRConfig({ taps: ['stem'], kind: 'mlp' }, bb)).toThrow('HFR config kind: unknown expert kind "mlp"; registered kinds: style, style+spatial, affine, affine+spatial');
    expect(() => resolveHFRConfig({ taps: ['stem'], routing: 'hard' as never }, bb)).toThrow('HFR config: routing must be one of top1, soft, received "hard"');
    expect(() => resolveHFRConfig({ taps: ['stem'], routerInput: 'x' as never }, bb)).toThrow('HFR config: routerInput must be one of style, mean, received "x"');
    expect(() => resolveHFRConfig({ taps: ['stem'], kind: 'affine', hidden: 4 }, bb)).toThrow(/hidden is 4, but expert kind "affine" has no hidden layer/);
  });
});
