import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { IResNet } from './iresnet.ts';
import { createIResNet, iresnetConfig } from './registry.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const bnKeys = (p: string) => ['weight', 'bias', 'running_mean', 'running_var'].map((k) => `${p}.${k}`);

/** insightface iresnet18 state-dict keys (minus num_batches_tracked), written out independently of the model. */
function insightfaceKeys(depths: number[]): string[] {
  const keys = ['conv1.weight', ...bnKeys('bn1'), 'prelu.weight'];
  depths.forEach((d, s) => {
    for (let i = 0; i < d; i++) {
      const p = `layer${s + 1}.${i}`;
      keys.push(...bnKeys(`${p}.bn1`), `${p}.conv1.weight`, ...bnKeys(`${p}.bn2`), `${p}.prelu.weight`, `${p}.conv2.weight`, ...bnKeys(`${p}.bn3`));
      if (i === 0) keys.push(`${p}.downsample.0.weight`, ...bnKeys(`${p}.downsample.1`));
    }
  });
  return [...keys, ...bnKeys('bn2'), 'fc.weight', 'fc.bias', ...bnKeys('features')];
}

/** Gives every BN non-trivial statistics so that folding is actually exercised. */
function randomiseBn(m: IResNet, seed: number): void {
  let i = 0;
  for (const [name, v] of m.params) {
    if (name.endsWith('running_var')) v.assign(tf.randomUniform(v.shape, 0.5, 2, 'float32', seed + i++));
    else if (name.endsWith('running_mean') || (name.endsWith('.bias') && !name.startsWith('fc'))) v.assign(tf.randomUniform(v.shape, -0.3, 0.3, 'float32', seed + i++));
    else if (name.endsWith('.weight') && v.rank === 1 && !name.includes('prelu') && name !== 'features.weight') v.assign(tf.randomUniform(v.shape, 0.5, 1.5, 'float32', seed + i++));
  }
}

describe('IResNet', () => {
  const tiny = createIResNet('iresnet-tiny', { seed: 1 });
  randomiseBn(tiny, 10);
  const x = tf.randomUniform([3, 32, 32, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
  afterAll(() => {
    tiny.dispose();
    x.dispose();
  });

  it('iresnet18 has insightface keys with the documented shapes', () => {
    const m = createIResNet('iresnet18');
    expect([...m.params.keys()].sort()).toEqual(insightfaceKeys([2, 2, 2, 2]).sort());
    const shape = (k: string) => m.params.get(k)!.shape;
    expect(shape('conv1.weight')).toEqual([3, 3, 3, 64]);
    expect(shape('layer2.0.conv1.weight')).toEqual([3, 3, 64, 128]);
    expect(shape('layer2.0.conv2.weight')).toEqual([3, 3, 128, 128]);
    expect(shape('layer2.0.downsample.0.weight')).toEqual([1, 1, 64, 128]);
    expect(shape('layer4.1.prelu.weight')).toEqual([512]);
    expect(shape('fc.weight')).toEqual([512 * 7 * 7, 512]);
    expect(shape('features.running_var')).toEqual([512]);
    expect(m.finalSpatial).toBe(7);
    expect(m.params.get('features.weight')!.trainable).toBe(false);
    m.dispose();
  });

  it('frozen (folded) forward equals the unfolded running-stat forward', () => {
    const ref = tiny.forward(x); // trainable model: BN from the variables, no folding
    tiny.setFrozen(true);
    expect(tiny.trainableVariables).toHaveLength(0);
    const before = tf.memory().numTensors;
    const folded = tiny.forward(x);
    const again = tiny.forward(x); // cached fold: no new kept tensors
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(2 + 200); // 2 results + fold cache
    const after2 = tf.memory().numTensors;
    const third = tiny.forward(x);
    expect(tf.memory().numTensors).toBe(after2 + 1);
    const d = tf.max(tf.abs(tf.sub(ref, folded))).dataSync()[0];
    const scale = tf.max(tf.abs(ref)).dataSync()[0];
    expect(d / scale).toBeLessThan(1e-5);
    expect(Array.from(again.dataSync())).toEqual(Array.from(folded.dataSync()));
    expect(() => tiny.forward(x, { training: true })).toThrow(/frozen/);
    // Reassigning a variable invalidates the fold cache.
    const w = tiny.params.get('fc.bias')!;
    w.assign(tf.add(w, 1));
    const shifted = tiny.forward(x);
    expect(Math.abs(shifted.dataSync()[0] - folded.dataSync()[0])).toBeGreaterThan(1e-3);
    w.assign(tf.sub(w, 1));
    tiny.setFrozen(false);
    tf.dispose([ref, folded, again, third, shifted]);
  });

  it('calls the tap hook at stem, layer1..layer4 with the right shapes; replacements and kept tensors work', () => {
    const seen: string[] = [];
    const kept: tf.Tensor[] = [];
    tiny.setFrozen(true);
    const base = tiny.forward(x);
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => {
      const e = tiny.forward(x, {
        tapHook: (tap, h, keep) => {
          seen.push(`${tap}:${h.shape.join('x')}`);
          kept.push(keep(tf.mean(h)));
          if (tap === 'layer2') return tf.mul(h, 2) as tf.Tensor4D;
        },
      });
      return [e, ...kept];
    });
    expect(seen).toEqual(['stem:3x32x32x8', 'layer1:3x16x16x8', 'layer2:3x8x8x8', 'layer3:3x4x4x16', 'layer4:3x2x2x16']);
    expect(tf.memory().numTensors).toBe(before + 6);
    expect(tf.max(tf.abs(tf.sub(out[0], base))).dataSync()[0]).toBeGreaterThan(1e-4);
    tiny.setFrozen(false);
    tf.dispose([base, ...out]);
  });

  it('training mode updates running stats, uses batch statistics and leaks nothing', () => {
    const m = createIResNet('iresnet-tiny', { seed: 2 });
    const rm = m.params.get('bn1.running_mean')!;
    const before = tf.memory().numTensors;
    const y = m.forward(x, { training: true });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(tf.max(tf.abs(rm)).dataSync()[0]).toBeGreaterThan(0);
    // features BN in training mode: batch mean of every embedding dimension is its bias (0).
    expect(tf.max(tf.abs(tf.mean(y, 0))).dataSync()[0]).toBeLessThan(1e-4);
    y.dispose();
    m.dispose();
  });

  it('rejects inputs of the wrong shape and unknown config keys', () => {
    expect(() => tiny.forward(tf.zeros([2, 32, 32, 1]) as tf.Tensor4D)).toThrow(/\[2,32,32,1\].*expected \[B,32,32,3\]/);
    expect(() => tiny.forward(tf.zeros([32, 32, 3]) as unknown as tf.Tensor4D)).toThrow(/shape \[32,32,3\]/);
    expect(() => new IResNet({ ...iresnetConfig('iresnet-tiny'), width: 3 } as never)).toThrow(/unknown key "width"/);
    expect(() => createIResNet('iresnet-tiny', { overrides: { depths: [1, 1, 1] } })).toThrow(/depths: expected 4 positive integers, received \[1,1,1\]/);
  });
});
