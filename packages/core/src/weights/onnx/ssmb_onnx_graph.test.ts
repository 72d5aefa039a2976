import { beforeAll, describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { tf } from '../../tf.ts';
import { SSMBBlock, type ExpertKind } from '../../ssmb/ssmb_block.ts';
import { OnnxGraphBuilder } from './onnx_graph_builder.ts';
import { emitSsmbBlock, initializerParams, ssmbSpec } from './ssmb_onnx_graph.ts';
import { encodeOnnxModel, ONNX_INT64 } from './onnx_proto.ts';
import { randomizeParams, seededNormal } from './onnx_fixtures.ts';
import { nhwcToNchw } from './nchw.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const B = 8, H = 5, C = 6;

describe('emitSsmbBlock', () => {
  for (const [numExperts, kind] of [[3, 'style'], [1, 'style'], [2, 'style+spatial']] as [number, ExpertKind][]) {
    it(`N=${numExperts} ${kind}: onnxruntime matches SSMBBlock.apply and picks the same experts`, async () => {
      const block = new SSMBBlock({ channels: C, numExperts, kind, seed: 2 });
      randomizeParams(block.params, (d, s) => tf.tensor(d, s), 5); // non-zero experts, spread-out router
      const n = seededNormal(9);
      // per-sample offsets and scales give the samples different styles, hence different experts
      const x = Float32Array.from({ length: B * H * H * C }, (_, i) => { const b = Math.floor(i / (H * H * C)); return (b - 4) * 0.6 + (1 + b * 0.3) * n(); });
      const out = block.apply(tf.tensor4d(x, [B, H, H, C]));
      const yTf = nhwcToNchw(out.y.dataSync() as Float32Array, B, H, H, C);
      const kTf = Array.from(out.routing.expert.dataSync());
      tf.dispose([out.y, out.routing.probs, out.routing.expert, out.routing.gate]);

      const g = new OnnxGraphBuilder();
      const input = g.input('x', ['batch', C, H, H]);
      const { y, expert } = emitSsmbBlock(g, ssmbSpec('layer1', block, H), input, initializerParams(g, 'layer1', block));
      g.output(y, 'y', ['batch', C, H, H]);
      g.output(expert, 'expert', ['batch'], ONNX_INT64);
      const session = await ort.InferenceSession.create(encodeOnnxModel(g.toModel({ graphName: 'ssmb' })));
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
});
