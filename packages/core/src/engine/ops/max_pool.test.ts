import { describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../../weights/onnx/onnx_graph_builder.ts';
import { encodeOnnxModel } from '../../weights/onnx/onnx_proto.ts';
import { gradCheck } from '../grad_check.ts';
import { inferTypes } from '../vjp.ts';

describe('MaxPool (shapes only)', () => {
  it('infers the shape onnxruntime computes (3x3 stride 2, floor and ceil mode, pads)', async () => {
    const cases: Record<string, number[] | number>[] = [{ kernel_shape: [3, 3], strides: [2, 2] }, { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }, { kernel_shape: [2, 2], pads: [1, 0, 1, 0] }];
    for (const attrs of cases) {
      const b = new OnnxGraphBuilder();
      const x = b.input('x', [1, 2, 8, 7]);
      const y = b.op1('MaxPool', [x], attrs);
      b.output(y, 'y', ['n', 'c', 'h', 'w']);
      const inferred = inferTypes(b).get(y)!.shape;
      const s = await ort.InferenceSession.create(encodeOnnxModel(b.toModel({ graphName: 't', opset: 13 })));
      const out = await s.run({ x: new ort.Tensor('float32', new Float32Array(2 * 8 * 7), [1, 2, 8, 7]) });
      expect(inferred, JSON.stringify(attrs)).toEqual(out.y.dims.map(Number));
      await s.release();
    }
  });
  it('is named when a gradient would have to cross it', async () => {
    await expect(gradCheck({
      inputs: [{ name: 'x', shape: [1, 2, 5, 5] }],
      build: (b, v) => b.op1('MaxPool', [v.x], { kernel_shape: [3, 3], strides: [2, 2] }),
    })).rejects.toThrow(/cannot differentiate op 'MaxPool'/);
  });
});
