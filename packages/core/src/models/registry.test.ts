// One property test over every registered model (timm style).
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { createModel, getModelConfig, listModels, registerModel } from './registry.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const FULL_SIZE = 112;
// The cpu backend's Conv2DBackpropFilter is ~50x slower than its conv: test every arch at a 16x16 input
// (final spatial 1x1), which the architecture allows.
const TEST_SIZE = 16;

describe('model registry', () => {
  it('lists the insightface depths and the small variants', () => {
    expect(listModels()).toEqual(expect.arrayContaining(['iresnet18', 'iresnet34', 'iresnet50', 'iresnet100', 'iresnet-tiny', 'iresnet-synth']));
    expect(getModelConfig('iresnet100').depths).toEqual([3, 13, 30, 3]);
    expect(getModelConfig('iresnet50').depths).toEqual([3, 4, 14, 3]);
  });

  it('unknown names fail listing the known ones; duplicates fail', () => {
    expect(() => createModel('iresnet999')).toThrow(/unknown model "iresnet999"; known models: iresnet18, iresnet34, iresnet50, iresnet100, iresnet-tiny/);
    expect(() => registerModel('iresnet18', getModelConfig('iresnet18'))).toThrow(/already registered/);
  });

  it.each(listModels())('%s: builds; forward shape, finite, every trainable parameter gets a gradient', (name) => {
    const cfg = getModelConfig(name);
    let forwardCfg = { ...cfg, inputSize: TEST_SIZE };
    if (cfg.inputSize === FULL_SIZE) {
      // Full-size models: build the deep ones for real (iresnet18 is built in iresnet.test.ts), then test
      // the same depth at reduced width.
      if (cfg.depths.reduce((a, b) => a + b) > 20) { // iresnet50, iresnet100
        const full = createModel(name);
        const convs = [...full.params.keys()].filter((k) => k.endsWith('conv1.weight') || k.endsWith('conv2.weight'));
        expect(convs.length).toBe(1 + 2 * cfg.depths.reduce((a, b) => a + b));
        expect(full.params.get('fc.weight')!.shape).toEqual([512 * 49, 512]);
        full.dispose();
      }
      forwardCfg = { ...cfg, widths: [4, 4, 8, 8], stemWidth: 4, inputSize: TEST_SIZE, embeddingSize: 8 };
    }
    const before = tf.memory().numTensors;
    const m = createModel(forwardCfg, { seed: 3 });
    const B = 4;
    const s = forwardCfg.inputSize;
    const x = tf.randomUniform([B, s, s, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
    const r = tf.randomNormal([B, forwardCfg.embeddingSize], 0, 1, 'float32', 8);
    const vars = m.trainableVariables;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.forward(x, { training: true }), r)) as tf.Scalar, vars);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    const zeroGrad = Object.entries(grads).filter(([, g]) =>
      tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0] === 0 || !Number.isFinite(tf.sum(g).dataSync()[0])));
    expect(zeroGrad.map(([k]) => k)).toEqual([]);
    expect(Object.keys(grads).length).toBe(vars.length);
    m.setFrozen(true);
    const y = m.forward(x);
    expect(y.shape).toEqual([B, forwardCfg.embeddingSize]);
    expect(y.dataSync().every(Number.isFinite)).toBe(true);
    tf.dispose([x, r, value, y, ...Object.values(grads)]);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
