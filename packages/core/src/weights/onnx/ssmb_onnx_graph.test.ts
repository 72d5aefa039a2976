import { beforeAll, describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { tf } from '../../tf.ts';
import { SSMBBlock } from '../../ssmb/ssmb_block.ts';
import { listExpertKinds } from '../../ssmb/experts/index.ts';
import type { RouterInput, RoutingMode } from '../../ssmb/router.ts';
import { OnnxGraphBuilder } from './onnx_graph_builder.ts';
import { emitSsmbBlock, initializerParams, ssmbParamShapes, ssmbSpec } from './ssmb_onnx_graph.ts';
import { encodeOnnxModel, ONNX_INT64 } from './onnx_proto.ts';
import { randomizeParams, seededNormal } from './onnx_fixtures.ts';
import { nhwcToNchw } from './nchw.ts';
import { inferTypes } from '../../engine/vjp.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const B = 8, H = 5, C = 6;

// every registered kind, N = 1 and N > 1, both routing modes and the router input 'mean'
const CASES: Array<[number, string, RoutingMode, RouterInput]> = listExpertKinds().flatMap((kind) => [
  [3, kind, 'top1', 'style'], [1, kind, 'top1', 'style'], [2, kind, 'soft', 'style'], [1, kind, 'soft', 'style'], [3, kind, 'top1', 'mean'],
] as Array<[number, string, RoutingMode, RouterInput]>);
const FORMS = ['gradient', 'inference'] as const;

/** The block alone as an onnxruntime session on NCHW x [B,C,H,H] (outputs y, expert, probs). */
async function blockSession(block: SSMBBlock, form: (typeof FORMS)[number], h = H) {
  const g = new OnnxGraphBuilder();
  const input = g.input('x', ['batch', block.channels, h, h]);
  const r = emitSsmbBlock(g, ssmbSpec('layer1', block, h), input, initializerParams(g, 'layer1', block), { form });
  g.output(r.y, 'y', ['batch', block.channels, h, h]);
  g.output(r.expert, 'expert', ['batch'], ONNX_INT64);
  g.output(r.probs, 'probs', ['batch', block.numExperts]);
  return { session: await ort.InferenceSession.create(encodeOnnxModel(g.toModel({ graphName: 'ssmb' }))) };
}

describe('emitSsmbBlock', () => {
  for (const [numExperts, kind, routing, routerInput] of CASES) for (const form of FORMS) {
    it(`N=${numExperts} ${kind} ${routing} router input ${routerInput}, form ${form}: onnxruntime matches SSMBBlock.apply and picks the same experts`, async () => {
      const block = new SSMBBlock({ channels: C, numExperts, kind, routing, routerInput, seed: 2 });
      randomizeParams(block.params, (d, s) => tf.tensor(d, s), 5); // non-zero experts, spread-out router
      const n = seededNormal(9);
      // per-sample offsets and scales give the samples different styles, hence different experts
      const x = Float32Array.from({ length: B * H * H * C }, (_, i) => { const b = Math.floor(i / (H * H * C)); return (b - 4) * 0.6 + (1 + b * 0.3) * n(); });
      const out = block.apply(tf.tensor4d(x, [B, H, H, C]));
      const yTf = nhwcToNchw(out.y.dataSync() as Float32Array, B, H, H, C);
      const kTf = Array.from(out.routing.expert.dataSync());
      tf.dispose([out.y, out.routing.probs, out.routing.expert, out.routing.gate]);

      const { session } = await blockSession(block, form);
      const r = await session.run({ x: new ort.Tensor('float32', nhwcToNchw(x, B, H, H, C), [B, C, H, H]) });
      const kOrt = Array.from(r.expert.data as BigInt64Array, Number);
      expect(kOrt).toEqual(kTf);
      if (numExperts > 1) expect(new Set(kTf).size).toBeGreaterThan(1);
      const yOrt = r.y.data as Float32Array;
      let maxErr = 0;
      for (let i = 0; i < yOrt.length; i++) maxErr = Math.max(maxErr, Math.abs(yOrt[i] - yTf[i]) / (1 + Math.abs(yTf[i])));
      expect(maxErr).toBeLessThan(1e-4);
      block.dispose();
    });
  }

  it('an unregistered kind or router option is an error naming the valid ones (never emitted as another kind)', () => {
    const block = new SSMBBlock({ channels: C, numExperts: 2, kind: 'affine', seed: 2 });
    const spec = ssmbSpec('layer1', block, H);
    const g = new OnnxGraphBuilder();
    const x = g.input('x', ['batch', C, H, H]);
    expect(() => emitSsmbBlock(g, { ...spec, kind: 'mlp' }, x, initializerParams(g, 'layer1', block))).toThrow(
      'SSMB block at layer1: unknown expert kind "mlp"; registered kinds: style, style+spatial, affine, affine+spatial');
    expect(() => ssmbParamShapes({ ...spec, routing: 'top2' as never })).toThrow('SSMB block at layer1: routing must be one of top1, soft, received "top2"');
    expect(() => ssmbParamShapes({ ...spec, routerInput: 'sigma' as never })).toThrow('SSMB block at layer1: routerInput must be one of style, mean, received "sigma"');
    expect(g.nodes).toHaveLength(0); // nothing emitted before the check
    // the parameter keys and shapes the emitter asks for are the block's own, for every kind
    for (const kind of listExpertKinds()) {
      const b2 = new SSMBBlock({ channels: C, numExperts: 3, kind, routerInput: 'mean', seed: 1 });
      expect([...ssmbParamShapes(ssmbSpec('stem', b2, H))]).toEqual([...b2.params].map(([k, v]) => [k, v.shape]));
      b2.dispose();
    }
    block.dispose();
  });

  it('the inference form broadcasts with two-input ops only (onnxruntime\'s 3-input broadcasting Sum is slow)', () => {
    const block = new SSMBBlock({ channels: C, numExperts: 3, kind: 'style', seed: 2 });
    const fullSize = (form: (typeof FORMS)[number]) => {
      const g = new OnnxGraphBuilder();
      const x = g.input('x', [B, C, H, H]);
      emitSsmbBlock(g, ssmbSpec('layer1', block, H), x, initializerParams(g, 'layer1', block), { form });
      const types = inferTypes(g);
      return g.nodes.filter((n) => types.get(n.outputs[0])?.shape.join() === [B, C, H, H].join()).map((n) => n.opType);
    };
    expect(fullSize('gradient')).toEqual(['Sub', 'Mul', 'Sum']);
    expect(fullSize('inference')).toEqual(['Sub', 'Mul', 'Add']);
    expect(() => emitSsmbBlock(new OnnxGraphBuilder(), ssmbSpec('layer1', block, H), 'x', initializerParams(new OnnxGraphBuilder(), 'layer1', block), { form: 'fast' as never }))
      .toThrow("SSMB block at layer1: form is 'fast'; expected 'gradient' or 'inference'");
    block.dispose();
  });

  it('inference form on channels whose mean dwarfs their spread (and constant ones): the same y, probs and experts as the gradient form, never NaN', async () => {
    const h = 12, n = seededNormal(4);
    const block = new SSMBBlock({ channels: C, numExperts: 3, kind: 'style', seed: 5 });
    randomizeParams(block.params, (d, s) => tf.tensor(d, s), 3);
    // channel 0 constant 37.25, channel 1 zero, channel 2 mean 300 with spread 0.05 (a one-pass
    // E[x^2] - mu^2 gets its variance wrong by more than the variance: 1% in y), the rest ordinary
    const x = Float32Array.from({ length: B * C * h * h }, (_, i) => {
      const c = Math.floor(i / (h * h)) % C, b = Math.floor(i / (C * h * h));
      return c === 0 ? 37.25 : c === 1 ? 0 : c === 2 ? 300 + 0.05 * n() : b * 0.4 + (1 + 0.2 * b) * n();
    });
    const feeds = { x: new ort.Tensor('float32', x, [B, C, h, h]) };
    const [gr, inf] = await Promise.all(FORMS.map(async (f) => (await blockSession(block, f, h)).session.run(feeds)));
    const yG = gr.y.data as Float32Array, yI = inf.y.data as Float32Array;
    let maxErr = 0;
    for (let i = 0; i < yG.length; i++) maxErr = Math.max(maxErr, Math.abs(yG[i] - yI[i]) / (1 + Math.abs(yG[i])));
    expect(yI.every(Number.isFinite)).toBe(true);
    expect(maxErr).toBeLessThan(1e-5);
    expect(Array.from(inf.expert.data as BigInt64Array)).toEqual(Array.from(gr.expert.data as BigInt64Array));
    const pG = gr.probs.data as Float32Array, pI = inf.probs.data as Float32Array;
    for (let i = 0; i < pG.length; i++) expect(Math.abs(pG[i] - pI[i])).toBeLessThan(1e-4);
    block.dispose();
  });
});
