import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { defaultHidden, SSMB_EPS, SSMBBlock, type ExpertKind } from './ssmb_block.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const B = 6, H = 4, W = 3, C = 4;
const makeX = (seed = 1) =>
  // per-sample scale/shift so samples have different styles and route differently
  tf.tidy(() => tf.add(tf.mul(tf.randomNormal([B, H, W, C], 0, 1, 'float32', seed), tf.randomUniform([B, 1, 1, C], 0.2, 3, 'float32', seed + 1)),
    tf.randomUniform([B, 1, 1, C], -2, 2, 'float32', seed + 2))) as tf.Tensor4D;

/** Gives the zero-initialised last layers (and router) random values so the block does something. */
function activate(block: SSMBBlock, seed = 3): void {
  let i = 0;
  for (const [name, v] of block.params) {
    if (name.includes('fc2') || name.includes('pw') || name.startsWith('router')) v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', seed + i++));
  }
}

/** Straight transcription of the formula in docs/design.md#the-ssmb-block, sample by sample, in plain JS. */
function reference(block: SSMBBlock, x: tf.Tensor4D): { y: Float32Array; expert: number[]; gate: number[]; probs: number[][] } {
  const xv = x.arraySync() as number[][][][];
  const P = (n: string) => block.params.get(n)!.arraySync() as never;
  const N = block.numExperts, D = block.hidden;
  const y = new Float32Array(x.size);
  const experts: number[] = [], gates: number[] = [], allProbs: number[][] = [];
  for (let b = 0; b < B; b++) {
    const mu = new Array(C).fill(0), va = new Array(C).fill(0);
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) mu[c] += xv[b][h][w][c] / (H * W);
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) va[c] += (xv[b][h][w][c] - mu[c]) ** 2 / (H * W);
    const sigma = va.map((v) => Math.sqrt(v + SSMB_EPS));
    const s = [...mu, ...sigma];
    let probs = [1];
    if (N > 1) {
      const wr = P('router.weight') as number[][], br = P('router.bias') as number[];
      const logits = br.map((bb, n) => bb + s.reduce((acc, sv, i) => acc + sv * wr[i][n], 0));
      const mx = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - mx));
      probs = e.map((v) => v / e.reduce((a, q) => a + q, 0));
    }
    const k = probs.indexOf(Math.max(...probs));
    const g = probs[k];
    const w1 = (P('experts.fc1.weight') as number[][][])[k], b1 = (P('experts.fc1.bias') as number[][])[k];
    const w2 = (P('experts.fc2.weight') as number[][][])[k], b2 = (P('experts.fc2.bias') as number[][])[k];
    const hid = Array.from({ length: D }, (_, d) => Math.max(0, b1[d] + s.reduce((a, sv, i) => a + sv * w1[i][d], 0)));
    const mod = Array.from({ length: 2 * C }, (_, o) => b2[o] + hid.reduce((a, hv, d) => a + hv * w2[d][o], 0));
    let spatial: number[][][] | undefined;
    if (block.kind === 'style+spatial') {
      const dw = P(`experts.${k}.dw.weight`) as number[][][], pw = P(`experts.${k}.pw.weight`) as number[][];
      const xn = (h: number, w: number, c: number) => (h < 0 || w < 0 || h >= H || w >= W ? 0 : (xv[b][h][w][c] - mu[c]) / sigma[c]);
      spatial = Array.from({ length: H }, (_, h) => Array.from({ length: W }, (_, w) => {
        const d = Array.from({ length: C }, (_, c) => {
          let acc = 0;
          for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) acc += xn(h + i - 1, w + j - 1, c) * dw[i][j][c];
          return acc;
        });
        return Array.from({ length: C }, (_, o) => d.reduce((a, dv, c) => a + dv * pw[c][o], 0));
      }));
    }
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) {
      const inner = (xv[b][h][w][c] - mu[c]) * mod[c] + mod[C + c] + (spatial ? spatial[h][w][c] : 0);
      y[((b * H + h) * W + w) * C + c] = xv[b][h][w][c] + g * inner;
    }
    experts.push(k); gates.push(g); allProbs.push(probs);
  }
  return { y, expert: experts, gate: gates, probs: allProbs };
}

describe.each<ExpertKind>(['style', 'style+spatial'])('SSMBBlock (%s)', (kind) => {
  it('is exactly the identity at initialisation, and leaks nothing', () => {
    const block = new SSMBBlock({ channels: C, numExperts: 3, kind, seed: 1 });
    const x = makeX();
    const before = tf.memory().numTensors;
    const { y, routing } = block.apply(x);
    expect(tf.memory().numTensors).toBe(before + 4);
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose([x, y, routing.probs, routing.expert, routing.gate]);
    block.dispose();
  });

  it('matches the design formula and returns the routing', () => {
    const block = new SSMBBlock({ channels: C, numExperts: 3, kind, seed: 2 });
    activate(block);
    const x = makeX(4);
    const { y, routing } = block.apply(x);
    const ref = reference(block, x);
    const yv = y.dataSync();
    let maxDiff = 0;
    for (let i = 0; i < yv.length; i++) maxDiff = Math.max(maxDiff, Math.abs(yv[i] - ref.y[i]));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(routing.expert.dtype).toBe('int32');
    expect(Array.from(routing.expert.dataSync())).toEqual(ref.expert);
    expect(new Set(ref.expert).size).toBeGreaterThan(1); // the test input really exercises routing
    const gv = routing.gate.dataSync();
    ref.gate.forEach((g, b) => expect(gv[b]).toBeCloseTo(g, 5));
    const pv = routing.probs.arraySync() as number[][];
    pv.forEach((row, b) => {
      expect(row.reduce((a, q) => a + q, 0)).toBeCloseTo(1, 5);
      row.forEach((q, n) => expect(q).toBeCloseTo(ref.probs[b][n], 5));
    });
    tf.dispose([x, y, routing.probs, routing.expert, routing.gate]);
    block.dispose();
  });

  it("only the chosen expert's parameters affect a sample, and only chosen experts get gradient", () => {
    const block = new SSMBBlock({ channels: C, numExperts: 4, kind, seed: 5 });
    activate(block, 3);
    const x = makeX(7);
    const { y, routing } = block.apply(x);
    const chosen = Array.from(routing.expert.dataSync());
    const k0 = chosen[0];
    expect(new Set(chosen).size).toBeGreaterThan(1);
    // Overwrite every other expert's parameters with noise: sample 0 must not change by a single bit.
    const saved = new Map([...block.params].map(([n, v]) => [n, v.clone()]));
    for (const [name, v] of block.params) {
      if (name.startsWith('router')) continue;
      if (/^experts\.\d+\./.test(name)) {
        if (!name.startsWith(`experts.${k0}.`)) v.assign(tf.randomNormal(v.shape, 0, 3, 'float32', 99));
      } else {
        const rows = tf.unstack(v);
        v.assign(tf.stack(rows.map((r, n) => (n === k0 ? r : tf.randomNormal(r.shape, 0, 3, 'float32', 100 + n)))));
      }
    }
    const { y: y2, routing: r2 } = block.apply(x);
    const per = H * W * C;
    expect(Array.from(y2.dataSync().slice(0, per))).toEqual(Array.from(y.dataSync().slice(0, per)));
    expect(Array.from(y2.dataSync())).not.toEqual(Array.from(y.dataSync()));
    for (const [n, v] of saved) block.params.get(n)!.assign(v);
    // Gradients: experts with samples get non-zero gradient, the others exactly zero; the gate feeds the router.
    const wt = tf.randomNormal([B, H, W, C], 0, 1, 'float32', 3);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(block.apply(x).y, wt)) as tf.Scalar, block.trainableVariables);
    const names = [...block.params.keys()];
    const g = (n: string) => grads[block.params.get(n)!.name];
    for (let k = 0; k < 4; k++) {
      const used = chosen.includes(k);
      const norm = (name: string) => tf.tidy(() => tf.sum(tf.abs(kind === 'style' || !name.includes('.pw.') ? tf.gather(g(name), [k]) : g(name))).dataSync()[0]);
      expect(norm('experts.fc2.weight') > 0).toBe(used);
      expect(norm('experts.fc2.bias') > 0).toBe(used);
      if (kind === 'style+spatial') {
        // unused spatial experts are not in the graph at all (null gradient)
        const abs = (n: string) => (g(n) ? tf.tidy(() => tf.sum(tf.abs(g(n))).dataSync()[0]) : 0);
        expect(abs(`experts.${k}.pw.weight`) > 0).toBe(used);
        expect(abs(`experts.${k}.dw.weight`) > 0).toBe(used);
      }
    }
    expect(tf.sum(tf.abs(g('router.weight'))).dataSync()[0]).toBeGreaterThan(0);
    const inGraph = names.filter((n) => !/^experts\.\d+\./.test(n) || chosen.includes(Number(n.split('.')[1])));
    expect(Object.keys(grads).length).toBe(inGraph.length);
    tf.dispose([x, y, y2, wt, routing.probs, routing.expert, routing.gate, r2.probs, r2.expert, r2.gate, ...saved.values(), ...Object.values(grads).filter(Boolean)]);
    block.dispose();
  });
});

describe('SSMBBlock configuration', () => {
  it('N = 1 is the single un-routed modulator', () => {
    const block = new SSMBBlock({ channels: C, numExperts: 1 });
    activate(block);
    expect([...block.params.keys()].some((k) => k.startsWith('router'))).toBe(false);
    const x = makeX();
    const { y, routing } = block.apply(x);
    expect(Array.from(routing.gate.dataSync())).toEqual(new Array(B).fill(1));
    expect(Array.from(routing.expert.dataSync())).toEqual(new Array(B).fill(0));
    const ref = reference(block, x);
    const yv = y.dataSync();
    expect(Math.max(...Array.from(yv, (v, i) => Math.abs(v - ref.y[i])))).toBeLessThan(1e-4);
    tf.dispose([x, y, routing.probs, routing.expert, routing.gate]);
    block.dispose();
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
    expect(() => new SSMBBlock({ channels: C, numExperts: 2, kind: 'conv' as ExpertKind })).toThrow(/kind must be one of style, style\+spatial, received "conv"/);
    const block = new SSMBBlock({ channels: C, numExperts: 2 });
    expect(() => block.apply(tf.zeros([2, 3, 3, 5]) as tf.Tensor4D)).toThrow(/5 channels \(shape \[2,3,3,5\]\); expected 4/);
    expect(() => block.apply(tf.zeros([3, 3, 4]) as unknown as tf.Tensor4D)).toThrow(/rank 4 \[B,H,W,C\], received shape \[3,3,4\]/);
    block.dispose();
  });
});
