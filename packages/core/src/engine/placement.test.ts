// Everything of a step on the device: onnxruntime's WebGPU provider places every node of the engine's
// graphs (built for webgpu: lower_webgpu.ts) on itself, none on its CPU provider, read from onnxruntime's
// own verbose placement log (placement.ts). A node that fell back is warned about with its op type.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { createBackbone } from '../models/registry.ts';
import { HFRModel } from '../models/hfr_model.ts';
import { OnnxGraphBuilder } from '../weights/onnx/onnx_graph_builder.ts';
import { encodeOnnxModel, ONNX_INT64 } from '../weights/onnx/onnx_proto.ts';
import { checkPlacement } from './ort_session.ts';
import { nodePlacement } from './placement.ts';
import { buildPretrainGraph } from './pretrain_graph.ts';
import { buildInferenceGraph, buildTrainingGraph, engineModelOf } from './student_graph.ts';

const LOSS = { margin: 0.1, lambdaTs: 1, alpha: 0.05 };
const ON_GPU = { byProvider: { WebGpuExecutionProvider: expect.any(Number) }, fallback: [] };

let synth: HFRModel;
beforeAll(async () => {
  await tf.setBackend('cpu');
  synth = new HFRModel(createBackbone('iresnet-synth', { seed: 1 }), { taps: ['stem', 'layer1', 'layer2'], numExperts: 4, kind: 'style' });
});
afterAll(() => synth?.dispose());

describe('node placement on webgpu', () => {
  it('IResNet-18 training graph (SSMB N=4 at stem+layer1+layer2): 0 nodes on the CPU', async () => {
    const model = new HFRModel(createBackbone('iresnet18', { seed: 2 }), { taps: ['stem', 'layer1', 'layer2'], numExperts: 4, kind: 'style' });
    try {
      const g = buildTrainingGraph(engineModelOf(model), { pairs: 2, loss: LOSS, provider: 'webgpu' });
      const p = await nodePlacement(g.bytes, 'webgpu');
      expect(p).toEqual(ON_GPU);
      console.log(`IResNet-18 training graph on webgpu: ${JSON.stringify(p.byProvider)}`);
    } finally {
      model.dispose();
    }
  });

  it('iresnet-synth training, loss, embedding and teacher graphs, every expert kind: 0 nodes on the CPU', async () => {
    const kinds = new HFRModel(createBackbone('iresnet-synth', { seed: 3 }), { taps: ['stem', 'layer3'], numExperts: 2, kind: 'affine+spatial' });
    try {
      const graphs: [string, Uint8Array][] = [
        ['training', buildTrainingGraph(engineModelOf(synth), { pairs: 2, loss: LOSS, provider: 'webgpu' }).bytes],
        ['training affine+spatial', buildTrainingGraph(engineModelOf(kinds), { pairs: 2, loss: LOSS, provider: 'webgpu' }).bytes],
        ['loss', buildTrainingGraph(engineModelOf(synth), { pairs: 2, loss: LOSS, gradients: false, provider: 'webgpu' }).bytes],
        ['embedding', buildInferenceGraph(engineModelOf(synth), { provider: 'webgpu' }).bytes],
        ['teacher', buildInferenceGraph({ backbone: synth.backbone }, { provider: 'webgpu' }).bytes],
      ];
      for (const [what, bytes] of graphs) expect(await nodePlacement(bytes, 'webgpu'), what).toEqual(ON_GPU);
    } finally {
      kinds.dispose();
    }
  });

  it('the backbone pre-training graph (BN in training mode, ArcFace): 0 nodes on the CPU', async () => {
    const backbone = createBackbone('iresnet-synth', { seed: 4 });
    try {
      const g = buildPretrainGraph(backbone, { batch: 4, numClasses: 5, scale: 64, margin: 0.5, provider: 'webgpu' });
      expect(await nodePlacement(g.bytes, 'webgpu')).toEqual(ON_GPU);
    } finally {
      backbone.dispose();
    }
  });

  it('a graph the provider cannot place fully is a warning with the count and the op types that fell back', async () => {
    const b = new OnnxGraphBuilder();
    const i = b.input('i', [4], ONNX_INT64);
    const hot = b.op1('OneHot', [i, b.int64('depth', [3], []), b.constant('v', [2], Float32Array.of(0, 1))], { axis: -1 });
    // not rewritten (this graph is not built for webgpu); the Relu runs on the GPU
    b.output(b.op1('Relu', [b.op1('Sum', [hot, hot, hot])]), 'y', [4, 3]);
    const warnings: string[] = [];
    const p = await checkPlacement(encodeOnnxModel(b.toModel({ graphName: 't' })), 'webgpu', 'test graph', { warn: (m) => warnings.push(m) });
    expect(p?.fallback.map((f) => f.opType).sort()).toEqual(['OneHot', 'Sum']);
    expect(warnings).toEqual([
      "onnxruntime placed 2 node(s) of the test graph on another provider than 'webgpu' (each costs a copy from the device and back per run): OneHot x1, Sum x1",
    ]);
    expect(await checkPlacement(new Uint8Array(), 'cpu', 'cpu graph', {})).toBeNull(); // nothing to count on cpu
  });
});
