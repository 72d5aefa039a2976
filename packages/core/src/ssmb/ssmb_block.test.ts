// The block's property test runs over every registered expert kind (listExpertKinds()), in both routing
// modes: identity at initialisation, the design formula (docs/design.md#the-ssmb-block) (plain-JS reference), only the chosen expert's
// parameters touch a sample and get gradient, soft = top1 exactly with one expert, router options.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { defaultHidden, SSMBBlock, type ExpertKind } from './ssmb_block.ts';
import { listExpertKinds } from './experts/index.ts';
import { activate, blockReference, KIND_REFERENCES, maxAbsDiff, styledInput } from './experts/reference.test-helpers.ts';
import { mulberry32Step } from '../rng.ts';

/** The trainer's Rng in miniature: mulberry32 with an inspectable state. */
class Rng {
  constructor(public state: number) {}
  next(): number {
    const r = mulberry32Step(this.state);
    this.state = r.state;
    return r.value;
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const B = 6, H = 4, W = 3, C = 4;
const KINDS = listExpertKinds();
const disposeOut = (o: { y: tf.Tensor; routing: { probs: tf.Tensor; expert: tf.Tensor; gate: tf.Tensor } }) => tf.dispose([o.y, o.routing.probs, o.routing.expert, o.routing.gate]);

describe('expert kinds registry', () => {
  // the registration order of the built-ins is expert_kind.test.ts's; here: whatever is registered has a reference
  it('every registered kind has a plain-JS reference for these tests', () => {
    expect(KINDS.length).toBeGreaterThanOrEqual(4);
    for (const k of KINDS) expect(KIND_REFERENCES[k], `reference for ${k}`).toBeDefined();
  });
});

describe.each(KINDS)('SSMBBlock (%s)', (kind) => {
  it.each(['top1', 'soft'] as const)('is exactly the identity at initialisation, and leaks nothing (%s)', (routing) => {
    for (const N of [1, 3]) {
      const block = new SSMBBlock({ channels: C, numExperts: N, kind, routing, seed: 1 });
      const x = styledInput(B, H, W, C);
      const before = tf.memory().numTensors;
      const out = block.apply(x);
      expect(tf.memory().numTensors).toBe(before + 4);
      expect(Array.from(out.y.dataSync())).toEqual(Array.from(x.dataSync()));
      tf.dispose([x]);
      disposeOut(out);
      block.dispose();
    }
  });

  it.each(['top1', 'soft'] as const)('matches the design formula (docs/design.md#the-ssmb-block) and returns the routing (%s)', (routing) => {
    const block = new SSMBBlock({ channels: C, numExperts: 3, kind, routing, seed: 2 });
    activate(block);
    const x = styledInput(B, H, W, C, 4);
    const out = block.apply(x);
    const ref = blockReference(block, x);
    expect(maxAbsDiff(out.y.dataSync(), ref.y)).toBeLessThan(1e-4);
    expect(out.routing.expert.dtype).toBe('int32');
    expect(Array.from(out.routing.expert.dataSync())).toEqual(ref.expert);
    expect(new Set(ref.expert).size).toBeGreaterThan(1); // the test input really exercises routing
    const gv = out.routing.gate.dataSync();
    ref.gate.forEach((g, b) => expect(gv[b]).toBeCloseTo(g, 5));
    (out.routing.probs.arraySync() as number[][]).forEach((row, b) => {
      expect(row.reduce((a, q) => a + q, 0)).toBeCloseTo(1, 5);
      row.forEach((q, n) => expect(q).toBeCloseTo(ref.probs[b][n], 5));
    });
    tf.dispose(x);
    disposeOut(out);
    block.dispose();
  });

  it("top1: only the chosen expert's parameters affect a sample, and only chosen experts get gradient", () => {
    const N = 4;
    const block = new SSMBBlock({ channels: C, numExperts: N, kind, seed: 5 });
    activate(block, 3);
    const x = styledInput(B, H, W, C, 7);
    const out = block.apply(x);
    const chosen = Array.from(out.routing.expert.dataSync());
    const k0 = chosen[0];
    expect(new Set(chosen).size).toBeGreaterThan(1);
    // Overwrite every other expert's parameters with noise: sample 0 must not change by a single bit.
    const saved = new Map([...block.params].map(([n, v]) => [n, v.clone()]));
    for (const spec of block.paramSpecs) {
      const v = block.params.get(spec.key)!;
      if (spec.expert === 'router') continue;
      if (typeof spec.expert === 'number') {
        if (spec.expert !== k0) v.assign(tf.randomNormal(v.shape, 0, 3, 'float32', 99));
      } else {
        v.assign(tf.tidy(() => tf.stack(tf.unstack(v).map((r, n) => (n === k0 ? r : tf.randomNormal(r.shape, 0, 3, 'float32', 100 + n))))));
      }
    }
    const out2 = block.apply(x);
    const per = H * W * C;
    expect(Array.from(out2.y.dataSync().slice(0, per))).toEqual(Array.from(out.y.dataSync().slice(0, per)));
    expect(Array.from(out2.y.dataSync())).not.toEqual(Array.from(out.y.dataSync()));
    for (const [n, v] of saved) block.params.get(n)!.assign(v);
    // Gradients: experts with samples get non-zero gradient, the others exactly zero (stacked rows) or none
    // at all (per-expert tensors of unused experts are not in the graph); the gate feeds the router.
    const wt = tf.randomNormal([B, H, W, C], 0, 1, 'float32', 3);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(block.apply(x).y, wt)) as tf.Scalar, block.trainableVariables);
    const g = (n: string) => grads[block.params.get(n)!.name];
    const absSum = (t: tf.Tensor | undefined) => (t ? tf.tidy(() => tf.sum(tf.abs(t)).dataSync()[0]) : 0);
    for (const spec of block.paramSpecs) {
      if (spec.expert === 'router') {
        expect(absSum(g(spec.key)), spec.key).toBeGreaterThan(0);
        continue;
      }
      for (let k = 0; k < N; k++) {
        const used = chosen.includes(k);
        if (spec.expert === 'stacked') {
          expect(absSum(tf.tidy(() => tf.gather(g(spec.key), [k]))) > 0, `${spec.key}[${k}] used=${used}`).toBe(used);
        } else if (spec.expert === k) {
          expect(absSum(g(spec.key)) > 0, `${spec.key} used=${used}`).toBe(used);
        }
      }
    }
    const inGraph = block.paramSpecs.filter((s) => typeof s.expert !== 'number' || chosen.includes(s.expert));
    expect(Object.keys(grads).length).toBe(inGraph.length);
    tf.dispose([x, wt, ...saved.values(), ...Object.values(grads).filter(Boolean)]);
    disposeOut(out);
    disposeOut(out2);
    block.dispose();
  });

  it('soft: every expert gets gradient', () => {
    const block = new SSMBBlock({ channels: C, numExperts: 3, kind, routing: 'soft', seed: 6 });
    activate(block, 4);
    const x = styledInput(B, H, W, C, 8);
    const wt = tf.randomNormal([B, H, W, C], 0, 1, 'float32', 3);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(block.apply(x).y, wt)) as tf.Scalar, block.trainableVariables);
    for (const spec of block.paramSpecs) {
      const gk = grads[block.params.get(spec.key)!.name];
      const rows = spec.expert === 'stacked' ? [0, 1, 2] : [null];
      for (const k of rows) expect(tf.tidy(() => tf.sum(tf.abs(k === null ? gk : tf.gather(gk, [k]))).dataSync()[0]), `${spec.key}[${k}]`).toBeGreaterThan(0);
    }
    tf.dispose([x, wt, ...Object.values(grads)]);
    block.dispose();
  });

  it('soft with one expert equals top1 with one expert exactly', () => {
    const top1 = new SSMBBlock({ channels: C, numExperts: 1, kind, routing: 'top1', seed: 7 });
    const soft = new SSMBBlock({ channels: C, numExperts: 1, kind, routing: 'soft', seed: 7 });
    activate(top1, 5);
    for (const [k, v] of top1.params) soft.params.get(k)!.assign(v);
    const x = styledInput(B, H, W, C, 9);
    const a = top1.apply(x), b = soft.apply(x);
    expect(Array.from(b.y.dataSync())).toEqual(Array.from(a.y.dataSync()));
    expect(Array.from(a.y.dataSync())).not.toEqual(Array.from(x.dataSync())); // the expert really acts
    expect(Array.from(b.routing.gate.dataSync())).toEqual(new Array(B).fill(1));
    const wt = tf.randomNormal([B, H, W, C], 0, 1, 'float32', 3);
    const ga = tf.variableGrads(() => tf.sum(tf.mul(top1.apply(x).y, wt)) as tf.Scalar, top1.trainableVariables).grads;
    const gb = tf.variableGrads(() => tf.sum(tf.mul(soft.apply(x).y, wt)) as tf.Scalar, soft.trainableVariables).grads;
    for (const key of top1.params.keys()) {
      expect(Array.from(gb[soft.params.get(key)!.name].dataSync()), key).toEqual(Array.from(ga[top1.params.get(key)!.name].dataSync()));
    }
    tf.dispose([x, wt, ...Object.values(ga), ...Object.values(gb)]);
    disposeOut(a);
    disposeOut(b);
    top1.dispose();
    soft.dispose();
  });
});

describe('SSMBBlock router options', () => {
  it("routerInput 'mean' routes on mu alone: router.weight is [C,N], sigma does not move the routing", () => {
    const block = new SSMBBlock({ channels: C, numExperts: 3, routerInput: 'mean', seed: 3 });
    expect(block.params.get('router.weight')!.shape).toEqual([C, 3]);
    activate(block, 2, 2);
    const x = styledInput(B, H, W, C, 4);
    // same per-channel mean, spread scaled by 3: the style changes, its mean part does not
    const x3 = tf.tidy(() => { const m = tf.mean(x, [1, 2], true); return tf.add(tf.mul(tf.sub(x, m), 3), m); }) as tf.Tensor4D;
    const a = block.apply(x), b = block.apply(x3);
    expect(maxAbsDiff(a.routing.probs.dataSync(), b.routing.probs.dataSync())).toBeLessThan(1e-5);
    expect(maxAbsDiff(a.y.dataSync(), blockReference(block, x).y)).toBeLessThan(1e-4);
    const styleRouted = new SSMBBlock({ channels: C, numExperts: 3, seed: 3 });
    activate(styleRouted, 2, 2);
    const c = styleRouted.apply(x), d = styleRouted.apply(x3);
    expect(maxAbsDiff(c.routing.probs.dataSync(), d.routing.probs.dataSync())).toBeGreaterThan(1e-3); // 'style' does see sigma
    tf.dispose([x, x3]);
    [a, b, c, d].forEach(disposeOut);
    block.dispose();
    styleRouted.dispose();
  });

  it('router jitter: training only, reproducible from the seeded generator, nothing drawn when off', () => {
    const block = new SSMBBlock({ channels: C, numExperts: 3, routerJitter: 0.5, seed: 3 });
    activate(block, 2, 1);
    const x = styledInput(B, H, W, C, 4);
    const clean = block.apply(x);
    const evalOut = block.apply(x, { training: false, rng: new Rng(1) });
    expect(Array.from(evalOut.routing.probs.dataSync())).toEqual(Array.from(clean.routing.probs.dataSync())); // evaluation never jitters
    const r1 = new Rng(11), r2 = new Rng(11);
    const j1 = block.apply(x, { training: true, rng: r1 }), j2 = block.apply(x, { training: true, rng: r2 });
    expect(Array.from(j1.routing.probs.dataSync())).toEqual(Array.from(j2.routing.probs.dataSync())); // same seed, same noise
    expect(r1.state).not.toBe(11);
    expect(maxAbsDiff(j1.routing.probs.dataSync(), clean.routing.probs.dataSync())).toBeGreaterThan(1e-4);
    const j3 = block.apply(x, { training: true, rng: new Rng(12) });
    expect(Array.from(j3.routing.probs.dataSync())).not.toEqual(Array.from(j1.routing.probs.dataSync()));
    expect(() => block.apply(x, { training: true })).toThrow(/routerJitter is 0.5 in training; pass opts.rng/);
    const off = new SSMBBlock({ channels: C, numExperts: 3, seed: 3 });
    const r0 = new Rng(5);
    disposeOut(off.apply(x, { training: true, rng: r0 }));
    expect(r0.state).toBe(5); // jitter 0 draws nothing: runs without jitter sample the same pairs as before
    tf.dispose(x);
    [clean, evalOut, j1, j2, j3].forEach(disposeOut);
    block.dispose();
    off.dispose();
  });
});

describe('SSMBBlock configuration', () => {
  it('N = 1 is the single un-routed modulator', () => {
    for (const kind of KINDS) {
      const block = new SSMBBlock({ channels: C, numExperts: 1, kind });
      activate(block);
      expect([...block.params.keys()].some((k) => k.startsWith('router'))).toBe(false);
      const x = styledInput(B, H, W, C);
      const out = block.apply(x);
      expect(Array.from(out.routing.gate.dataSync())).toEqual(new Array(B).fill(1));
      expect(Array.from(out.routing.expert.dataSync())).toEqual(new Array(B).fill(0));
      expect(maxAbsDiff(out.y.dataSync(), blockReference(block, x).y)).toBeLessThan(1e-4);
      tf.dispose(x);
      disposeOut(out);
      block.dispose();
    }
  });

  it('parameter keys and shapes per kind (style keys unchanged, so existing checkpoints load)', () => {
    const keys = (kind: ExpertKind) => {
      const b = new SSMBBlock({ channels: 8, numExperts: 2, kind });
      const m = Object.fromEntries([...b.params].map(([k, v]) => [k, v.shape]));
      b.dispose();
      return m;
    };
    expect(keys('style')).toEqual({
      'router.weight': [16, 2], 'router.bias': [2], 'experts.fc1.weight': [2, 16, 16], 'experts.fc1.bias': [2, 16],
      'experts.fc2.weight': [2, 16, 16], 'experts.fc2.bias': [2, 16],
    });
    expect(keys('style+spatial')).toEqual({
      ...keys('style'), 'experts.0.dw.weight': [3, 3, 8], 'experts.0.pw.weight': [8, 8], 'experts.1.dw.weight': [3, 3, 8], 'experts.1.pw.weight': [8, 8],
    });
    expect(keys('affine')).toEqual({ 'router.weight': [16, 2], 'router.bias': [2], 'experts.dgamma': [2, 8], 'experts.dbeta': [2, 8] });
    expect(keys('affine+spatial')).toEqual({
      ...keys('affine'), 'experts.0.dw.weight': [3, 3, 8], 'experts.0.pw.weight': [8, 8], 'experts.1.dw.weight': [3, 3, 8], 'experts.1.pw.weight': [8, 8],
    });
  });

  it('hidden width defaults to max(16, C/2)', () => {
    expect(defaultHidden(8)).toBe(16);
    expect(defaultHidden(64)).toBe(32);
    const block = new SSMBBlock({ channels: 64, numExperts: 2 });
    expect(block.params.get('experts.fc1.weight')!.shape).toEqual([2, 128, 32]);
    block.dispose();
  });

  it('rejects bad input naming what was received and expected', () => {
    expect(() => new SSMBBlock({ channels: C, numExperts: 0 })).toThrow(/numExperts must be an integer >= 1, received 0/);
    expect(() => new SSMBBlock({ channels: C, numExperts: 1.5 })).toThrow(/received 1.5/);
    expect(() => new SSMBBlock({ channels: C, numExperts: 2, kind: 'conv' })).toThrow(/unknown expert kind "conv"; registered kinds: style, style\+spatial, affine, affine\+spatial/);
    expect(() => new SSMBBlock({ channels: C, numExperts: 2, kind: 'affine', hidden: 8 })).toThrow(/hidden is 8, but expert kind "affine" has no hidden layer/);
    expect(() => new SSMBBlock({ channels: C, numExperts: 2, routing: 'top2' as never })).toThrow(/routing must be one of top1, soft, received "top2"/);
    expect(() => new SSMBBlock({ channels: C, numExperts: 2, routerInput: 'sigma' as never })).toThrow(/routerInput must be one of style, mean, received "sigma"/);
    expect(() => new SSMBBlock({ channels: C, numExperts: 2, routerJitter: 1 })).toThrow(/routerJitter must be a number in \[0, 1\)/);
    const block = new SSMBBlock({ channels: C, numExperts: 2 });
    expect(() => block.apply(tf.zeros([2, 3, 3, 5]) as tf.Tensor4D)).toThrow(/5 channels \(shape \[2,3,3,5\]\); expected 4/);
    expect(() => block.apply(tf.zeros([3, 3, 4]) as unknown as tf.Tensor4D)).toThrow(/rank 4 \[B,H,W,C\], received shape \[3,3,4\]/);
    block.dispose();
  });
});
