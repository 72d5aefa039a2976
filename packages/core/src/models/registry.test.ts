// One property test over every registered backbone (timm style): whatever the family, a registered name
// builds a model that keeps the promises of the Backbone interface and of its registry meta.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { initBackend } from '../backend.ts';
import {
  backboneFromConfig, backboneInfo, createBackbone, createIResNet, iresnetConfig, listBackboneFamilies, listBackbones,
  listIResNets, registerBackbone, registerIResNet,
} from './registry.ts';
import type { Backbone } from './backbone.ts';
import { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { encodeOnnxModel } from '../weights/onnx/onnx_proto.ts';
import { createOnnxEmbedder } from '../weights/onnx/onnx_embedder.ts';
import { cosine } from '../weights/onnx/nchw.ts';
import { randomImagesNHWC } from '../weights/onnx/onnx_fixtures.ts';

// wasm (with core's kernels: conv / depthwise gradients) runs the full-size pre-trained families' gradient
// checks in seconds; the cpu backend's filter gradients take minutes there.
let startTensors = 0;
beforeAll(async () => {
  expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
  startTensors = tf.memory().numTensors;
});

/** Perturbs every per-channel vector around its initial value (BN statistics, scales, biases, PReLU slopes)
 *  so that folding is exercised, keeping each family's activations in range; filters keep their seeded
 *  He-normal init. */
function randomise(m: Backbone, seed: number): void {
  let i = 0;
  for (const [name, v] of m.params) {
    if (v.rank !== 1) continue;
    const s = seed * 1000 + i++;
    tf.tidy(() => v.assign(name.endsWith('running_var')
      ? tf.mul(v, tf.randomUniform(v.shape, 0.5, 2, 'float32', s))
      : tf.add(tf.mul(v, tf.randomUniform(v.shape, 0.8, 1.2, 'float32', s)), tf.randomUniform(v.shape, -0.1, 0.1, 'float32', s + 1))));
  }
}

describe('backbone registry', () => {
  it('lists every family and the IResNet depths; IResNet configs keep their insightface depths', () => {
    expect(listBackboneFamilies()).toEqual(expect.arrayContaining(['iresnet']));
    expect(listBackbones()).toEqual(expect.arrayContaining(['iresnet18', 'iresnet34', 'iresnet50', 'iresnet100', 'iresnet-tiny', 'iresnet-synth']));
    expect(listIResNets().every((n) => listBackbones().includes(n))).toBe(true);
    expect(iresnetConfig('iresnet100').depths).toEqual([3, 13, 30, 3]);
    expect(iresnetConfig('iresnet50').depths).toEqual([3, 4, 14, 3]);
  });

  it('unknown names and families fail listing the registered ones; duplicates fail', () => {
    expect(() => createBackbone('iresnet999')).toThrow(/unknown backbone "iresnet999"; registered backbones: iresnet18, iresnet34, iresnet50, iresnet100, iresnet-tiny/);
    expect(() => backboneInfo('nope')).toThrow(/unknown backbone "nope"; registered backbones: .*iresnet-synth/);
    expect(() => registerIResNet('iresnet18', iresnetConfig('iresnet18'))).toThrow(/already registered/);
    expect(() => registerBackbone('iresnet18', () => createIResNet('iresnet18'), backboneInfo('iresnet18'))).toThrow(/already registered/);
    expect(() => registerBackbone('x', () => createIResNet('iresnet18'), { ...backboneInfo('iresnet18'), family: 'nofamily' })).toThrow(/family "nofamily", which is not registered \(families: iresnet/);
    expect(() => backboneFromConfig({ family: 'vgg', name: 'vgg16' })).toThrow(/unknown family "vgg"; registered families: iresnet/);
    expect(() => backboneFromConfig({ name: 'x' })).toThrow(/expected an object with a string "family"/);
  });

  it('overrides of a registered IResNet fail on unknown keys', () => {
    expect(() => createBackbone('iresnet-tiny', { overrides: { widthz: [1, 2, 3, 4] } })).toThrow(/unknown key "widthz"/);
  });

  afterAll(() => expect(tf.memory().numTensors).toBe(startTensors)); // every model disposed leaves nothing

  describe.each(listBackbones())('%s', (name) => {
    const info = backboneInfo(name);
    const checked = info.testOverrides ? `at reduced size ${JSON.stringify(info.testOverrides)}` : 'at full size';

    it('builds at full size as its meta says: family, input contract, embedding size, taps, config round trip', () => {
      const before = tf.memory().numTensors;
      const m = createBackbone(name, { seed: 1 });
      expect(m.name).toBe(name);
      expect(m.family).toBe(info.family);
      expect(m.config).toMatchObject({ family: info.family, name });
      expect(JSON.parse(JSON.stringify(m.config))).toEqual(m.config); // JSON-serialisable
      expect(m.input).toEqual(info.input);
      expect(m.input.template.points).toHaveLength(5);
      expect(m.input.template.size).toBe(m.input.size);
      expect(m.embeddingSize).toBe(info.embeddingSize);
      expect(m.taps).toEqual(info.taps);
      expect(new Set(m.taps.map((t) => t.name)).size).toBe(m.taps.length);
      expect(m.numParams()).toBe([...m.params.values()].reduce((n, v) => n + v.size, 0));
      const again = backboneFromConfig(JSON.parse(JSON.stringify(m.config)));
      expect([...again.params].map(([k, v]) => [k, v.shape])).toEqual([...m.params].map(([k, v]) => [k, v.shape]));
      again.dispose();
      m.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`${checked}: taps fire in order with their shapes; tapHook replaces; frozen has no trainable variables`, () => {
      const m = createBackbone(name, { seed: 2, overrides: info.testOverrides });
      randomise(m, 5);
      const s = m.input.size;
      const B = 2;
      const x = tf.tidy(() => tf.randomUniform([B, s, s, 3], -1, 1, 'float32', 7) as tf.Tensor4D);
      m.setFrozen(true);
      expect(m.frozen).toBe(true);
      expect(m.trainableVariables).toHaveLength(0);
      const seen: [string, number[]][] = [];
      const y = m.forward(x, { tapHook: (tap, h) => void seen.push([tap, h.shape]) });
      expect(seen).toEqual(m.taps.map((t) => [t.name, [B, t.spatial, t.spatial, t.channels]]));
      expect(y.shape).toEqual([B, m.embeddingSize]);
      expect(y.dataSync().every(Number.isFinite)).toBe(true);
      const rows = y.arraySync() as number[][];
      expect(rows[0], 'two different images give different embeddings').not.toEqual(rows[1]);
      // replacing the first tap's map with zeros changes the embedding; an identity hook does not
      const same = m.forward(x, { tapHook: (_t, h) => tf.add(h, 0) as tf.Tensor4D });
      expect(Array.from(same.dataSync())).toEqual(Array.from(y.dataSync()));
      const first = m.taps[0].name;
      const zeroed = m.forward(x, { tapHook: (t, h) => (t === first ? tf.zerosLike(h) : undefined) });
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(zeroed, y))).dataSync()[0])).toBeGreaterThan(0);
      const wrong = tf.zeros([1, s + 1, s + 1, 3]) as tf.Tensor4D;
      expect(() => m.forward(wrong)).toThrow(new RegExp(`expected \\[B,${s},${s},3\\]`));
      tf.dispose([x, y, same, zeroed, wrong]);
      m.dispose();
    });

    it(`${checked}: input gradient through the frozen network; every trainable parameter gets a gradient; no leak`, () => {
      const m = createBackbone(name, { seed: 3, overrides: info.testOverrides });
      randomise(m, 6);
      const s = m.input.size;
      const B = 2;
      const x = tf.tidy(() => tf.randomUniform([B, s, s, 3], -1, 1, 'float32', 8) as tf.Tensor4D);
      const r = tf.tidy(() => tf.randomNormal([B, m.embeddingSize], 0, 1, 'float32', 9));
      m.setFrozen(true);
      tf.dispose(m.forward(x)); // builds the frozen model's fold cache (kept until dispose)
      const before = tf.memory().numTensors;
      const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(m.forward(xi as tf.Tensor4D), r)))(x);
      expect(tf.tidy(() => tf.max(tf.abs(dx)).dataSync()[0])).toBeGreaterThan(0);
      expect(dx.dataSync().every(Number.isFinite)).toBe(true);
      dx.dispose();
      expect(tf.memory().numTensors).toBe(before);
      m.setFrozen(false);
      const vars = m.trainableVariables;
      expect(vars.length).toBeGreaterThan(0);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.forward(x, { training: true }), r)) as tf.Scalar, vars);
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      const names = new Map([...m.params].map(([k, v]) => [v.name, k]));
      const dead = Object.entries(grads).filter(([, g]) => tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0] === 0 || !Number.isFinite(tf.sum(g).dataSync()[0])));
      expect(dead.map(([k]) => names.get(k))).toEqual([]);
      expect(Object.keys(grads).length).toBe(vars.length);
      tf.dispose([x, r, value, ...Object.values(grads)]);
      m.dispose();
    });

    it(`${checked}: emitOnnx runs in onnxruntime like forward (cosine >= 0.9999), afterTap sees every tap`, async () => {
      const m = createBackbone(name, { seed: 4, overrides: info.testOverrides, frozen: true });
      randomise(m, 7);
      const s = m.input.size;
      const B = 2;
      const images = randomImagesNHWC(B, s, 11);
      const ours = tf.tidy(() => m.forward(tf.tensor4d(images, [B, s, s, 3])).dataSync() as Float32Array);
      for (const foldBn of [false, true]) {
        const b = new OnnxGraphBuilder();
        const x = b.input('input.1', ['batch', 3, s, s]);
        const taps: [string, number][] = [];
        const emb = m.emitOnnx(b, x, { foldBn, afterTap: (tap, v, c) => (taps.push([tap, c]), v) });
        b.output(emb, 'embedding', ['batch', m.embeddingSize]);
        expect(taps).toEqual(m.taps.map((t) => [t.name, t.channels]));
        const e = await createOnnxEmbedder(encodeOnnxModel(b.toModel({ graphName: name, metadata: { 'ssmb.kind': 'backbone' } })), { threads: 1 });
        const ref = await e.embed(images);
        await e.dispose();
        const E = m.embeddingSize;
        for (let i = 0; i < B; i++) expect(cosine(ours.subarray(i * E, (i + 1) * E), ref.subarray(i * E, (i + 1) * E)), `image ${i}, foldBn ${foldBn}`).toBeGreaterThanOrEqual(0.9999);
      }
      m.dispose();
    });
  });
});
